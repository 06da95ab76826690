/*  log: the one logging module of every Meridian program.
    Lines go to stderr as
        2026-11-21T10:00:00.123Z [INFO] catalogd: event key=value ...
    The daemon name and level are process-wide settings made once in main. */
#ifndef MRD_LOG_H
#define MRD_LOG_H

#include <stdarg.h>

typedef enum { LOG_LEVEL_TRACE, LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR } log_level_t;

//  Sets the program name shown on every line and the lowest level printed.
void log_init (const char *program, log_level_t level);

//  Parses "trace|debug|info|warn|error" (case-insensitive). Returns 0/-1.
int log_level_parse (const char *text, log_level_t *level);

void log_set_level (log_level_t level);
int log_enabled (log_level_t level);

//  fmt is the event text followed by key=value pairs, printf-style.
void log_msg (log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define log_trace(...) log_msg (LOG_LEVEL_TRACE, __VA_ARGS__)
#define log_debug(...) log_msg (LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg (LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg (LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg (LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
