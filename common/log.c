/*  log: one line per event on stderr, "<time> [LEVEL] <program>: <text>".
    Implements the logging rule of STYLE.md. The program name and level are
    process-wide settings (file-static), made once by main. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static char s_program[32] = "meridian";
static log_level_t s_level = LOG_LEVEL_INFO;

static const char *s_names[] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR" };

void
log_init (const char *program, log_level_t level)
{
    snprintf (s_program, sizeof s_program, "%s", program);
    s_level = level;
}

int
log_level_parse (const char *text, log_level_t *level)
{
    for (int i = LOG_LEVEL_TRACE; i <= LOG_LEVEL_ERROR; i++) {
        if (strcasecmp (text, s_names[i]) == 0) {
            *level = (log_level_t) i;
            return 0;
        }
    }
    if (strcasecmp (text, "warning") == 0) {
        *level = LOG_LEVEL_WARN;
        return 0;
    }
    return -1;
}

void
log_set_level (log_level_t level)
{
    s_level = level;
}

int
log_enabled (log_level_t level)
{
    return level >= s_level;
}

void
log_msg (log_level_t level, const char *fmt, ...)
{
    if (level < s_level)
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    char line[2048];
    int len = snprintf (line, sizeof line,
                        "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ [%s] %s: ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec,
                        now.tv_nsec / 1000000, s_names[level], s_program);
    va_list args;
    va_start (args, fmt);
    int more = vsnprintf (line + len, sizeof line - len - 1, fmt, args);
    va_end (args);
    if (more < 0)
        more = 0;
    len += more;
    if (len > (int) sizeof line - 2)
        len = (int) sizeof line - 2;
    line[len++] = '\n';
    //  One write per line so lines of several processes do not interleave.
    fwrite (line, 1, len, stderr);
    fflush (stderr);
}
