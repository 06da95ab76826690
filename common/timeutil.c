/*  timeutil: clocks, Go-compatible durations (time.ParseDuration and
    Duration.String, at millisecond resolution) and RFC 3339 timestamps. */
#include "timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t
time_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
time_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
time_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Unit suffix to nanoseconds; the longest match wins ("ms" before "m").
static int
s_unit (const char **cursor, double *ns_per_unit)
{
    static const struct { const char *name; double ns; } units[] = {
        { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 },
        { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t len = strlen (units[i].name);
        if (strncmp (*cursor, units[i].name, len) == 0) {
            *cursor += len;
            *ns_per_unit = units[i].ns;
            return 0;
        }
    }
    return -1;
}

int
duration_parse_ms (const char *text, int64_t *ms)
{
    if (!text || !*text)
        return -1;
    const char *cursor = text;
    if (*cursor == '+')
        cursor++;
    if (strcmp (cursor, "0") == 0) {
        *ms = 0;
        return 0;
    }
    if (!*cursor)
        return -1;
    double total_ns = 0;
    while (*cursor) {
        if (!isdigit ((unsigned char) *cursor) && *cursor != '.')
            return -1;
        double value = 0;
        int digits = 0;
        while (isdigit ((unsigned char) *cursor)) {
            value = value * 10 + (*cursor++ - '0');
            digits++;
        }
        if (*cursor == '.') {
            cursor++;
            double scale = 0.1;
            while (isdigit ((unsigned char) *cursor)) {
                value += (*cursor++ - '0') * scale;
                scale /= 10;
                digits++;
            }
        }
        if (digits == 0)
            return -1;
        double ns_per_unit;
        if (s_unit (&cursor, &ns_per_unit) != 0)
            return -1;
        total_ns += value * ns_per_unit;
        if (total_ns > 9.2e18)
            return -1;
    }
    *ms = (int64_t) (total_ns / 1e6);
    return 0;
}

void
duration_format (int64_t ms, char *buf, size_t size)
{
    const char *sign = "";
    if (ms < 0) {
        sign = "-";
        ms = -ms;
    }
    if (ms == 0) {
        snprintf (buf, size, "0s");
        return;
    }
    if (ms < 1000) {
        snprintf (buf, size, "%s%lldms", sign, (long long) ms);
        return;
    }
    int64_t hours = ms / 3600000;
    int64_t minutes = (ms / 60000) % 60;
    int64_t seconds = (ms / 1000) % 60;
    int64_t millis = ms % 1000;
    char secs[32];
    if (millis) {
        snprintf (secs, sizeof secs, "%lld.%03lld", (long long) seconds,
                  (long long) millis);
        //  Go trims trailing zeros of the fraction.
        size_t len = strlen (secs);
        while (secs[len - 1] == '0')
            secs[--len] = 0;
    }
    else
        snprintf (secs, sizeof secs, "%lld", (long long) seconds);
    if (hours)
        snprintf (buf, size, "%s%lldh%lldm%ss", sign, (long long) hours,
                  (long long) minutes, secs);
    else
    if (minutes)
        snprintf (buf, size, "%s%lldm%ss", sign, (long long) minutes, secs);
    else
        snprintf (buf, size, "%s%ss", sign, secs);
}

void
time_format_rfc3339 (int64_t wall_ms, char *buf, size_t size)
{
    time_t secs = (time_t) (wall_ms / 1000);
    int millis = (int) (wall_ms % 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    char base[40];
    strftime (base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (millis == 0) {
        snprintf (buf, size, "%sZ", base);
        return;
    }
    char frac[8];
    snprintf (frac, sizeof frac, "%03d", millis);
    size_t len = strlen (frac);
    while (len > 0 && frac[len - 1] == '0')
        frac[--len] = 0;
    snprintf (buf, size, "%s.%sZ", base, frac);
}
