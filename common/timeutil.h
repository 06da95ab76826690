/*  timeutil: monotonic and wall clocks, Go-style durations, RFC 3339. */
#ifndef MRD_TIMEUTIL_H
#define MRD_TIMEUTIL_H

#include <stdint.h>
#include <stddef.h>

//  Milliseconds / microseconds on CLOCK_MONOTONIC.
int64_t time_mono_ms (void);
int64_t time_mono_us (void);
//  Milliseconds since the Unix epoch (wall clock).
int64_t time_wall_ms (void);

//  Parses a Go duration ("300ms", "5m", "1h30m", "10s", "1.5s"; "0" alone is
//  allowed) into milliseconds. Negative values and unknown units fail.
//  Returns 0/-1.
int duration_parse_ms (const char *text, int64_t *ms);
//  Formats like Go's time.Duration.String() ("72h0m0s", "10s", "1.5s").
void duration_format (int64_t ms, char *buf, size_t size);

//  Formats wall-clock milliseconds as RFC 3339 UTC ("2026-11-21T10:00:00Z";
//  with fractional seconds when nano is non-zero).
void time_format_rfc3339 (int64_t wall_ms, char *buf, size_t size);

#endif
