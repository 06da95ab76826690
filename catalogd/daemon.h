/*  daemon: catalogd's core, one libuv loop that drives everything: the RPC
    ROUTER (docs/protocol/catalog-rpc.md) through uv_poll on its ZMQ_FD,
    libraft's I/O, the links to gossipd and forwarderd (cluster.h), the
    heartbeat, the deadline timer of held and parked requests and the
    signal pipe. Requests go to the request server (serve.h); SIGTERM
    answers what waits, closes raft and the handles, and ends the loop. */
#ifndef CATALOGD_DAEMON_H
#define CATALOGD_DAEMON_H

#include "config.h"

typedef struct _catalogd_t catalogd_t;

//  Called on SIGHUP; returns 0 when the reload was applied.
typedef int (catalogd_reload_fn) (void *arg);

//  Builds the daemon: binds catalogd.rpc/.pub under <data_dir>/run (which
//  must exist) and prepares raft in <data_dir>/raft. cfg is borrowed for
//  the daemon's life. Returns NULL (logged) on failure.
//  Caller owns return value.
catalogd_t *catalogd_new (const config_t *cfg);
void catalogd_destroy (catalogd_t **self_p);

void catalogd_set_reload_fn (catalogd_t *self, catalogd_reload_fn *fn,
                             void *arg);

//  Starts raft and runs the loop until SIGTERM/SIGINT has been handled
//  (raft closed, handles closed). Returns the process exit code.
int catalogd_run (catalogd_t *self);

#endif
