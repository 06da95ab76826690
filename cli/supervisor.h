/*  supervisor: runs a node's daemons as child processes of `meridian agent`.
    Each daemon is started as `<bin_dir>/<name> -config-file <config>`. One
    that exits is logged (exit code or signal) and restarted after a delay
    that starts at 100 ms, doubles on each quick failure up to 10 s, and
    goes back to 100 ms once the daemon had stayed up for 30 s. SIGHUP is
    forwarded to the children; SIGTERM/SIGINT stop them (SIGTERM, then
    SIGKILL after 10 s) and end supervisor_run. The loop is event-driven:
    poll over the signals self-pipe (common/signals.h) and a signalfd for
    SIGCHLD, with timers from the poll timeout; it never sleeps.
    signals_install must have been called before supervisor_new. */
#ifndef MRD_CLI_SUPERVISOR_H
#define MRD_CLI_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

#define SUPERVISOR_BACKOFF_MIN_MS   100
#define SUPERVISOR_BACKOFF_MAX_MS   10000
#define SUPERVISOR_STABLE_MS        30000
#define SUPERVISOR_STOP_TIMEOUT_MS  10000
#define SUPERVISOR_DAEMONS_MAX      16

typedef struct _supervisor_t supervisor_t;

//  Blocks SIGCHLD (delivered through a signalfd instead). Returns NULL
//  with errno set when the signalfd cannot be made.
supervisor_t *supervisor_new (const char *bin_dir, const char *config_path);
//  Restores the signal mask. Children still running are killed (SIGKILL);
//  supervisor_run stops them properly.
void supervisor_destroy (supervisor_t **self_p);

//  Adds a daemon to run. Returns 0, or -1 with the reason in err when its
//  binary is missing or not executable, or the table is full.
int supervisor_add (supervisor_t *self, const char *name, char *err,
                    size_t err_size);

//  Starts every daemon, supervises them until SIGTERM/SIGINT, then stops
//  them all. Returns 0 once every child is gone, -1 if some child could
//  not be reaped even after SIGKILL.
int supervisor_run (supervisor_t *self);

//  Restart delay after a daemon that had been up for uptime_ms exits,
//  given the delay used before (0 for none yet).
int64_t supervisor_backoff_next (int64_t previous_ms, int64_t uptime_ms);

#endif
