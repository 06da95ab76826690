/*  serve: how catalogd serves the requests of docs/protocol/catalog-rpc.md
    on a server of a raft group. Each request is served here (writes on
    the leader, reads on the leader once its leadership barrier is applied,
    stale reads anywhere), forwarded to the leader through the local
    forwarderd, or held until one of those is possible or its hold ends
    (docs/catalogd.md, "Forwarding to the leader", "Holding"). Blocking
    reads are parked on the tables they read and woken by the FSM's
    changes. Owns the result cache and the watch set; tracks leadership
    (the leadership barrier, leader.changed events). Runs on the daemon's
    libuv loop: the daemon feeds it requests, ticks it once per iteration
    and arms one timer at its next deadline. */
#ifndef CATALOGD_SERVE_H
#define CATALOGD_SERVE_H

#include "cluster.h"
#include "raftnode.h"
#include "rpc_server.h"
#include "store.h"

#include <uv.h>

typedef struct _catalog_serve_t catalog_serve_t;

//  Everything is borrowed and must outlive the server.
//  Caller owns return value.
catalog_serve_t *catalog_serve_new (uv_loop_t *loop, const config_t *cfg,
                                    rpc_server_t *rpc, catalog_store_t *store,
                                    catalog_raft_t *raft,
                                    catalog_cluster_t *cluster);
void catalog_serve_destroy (catalog_serve_t **self_p);

//  The FSM's change callback (catalog_fsm_set_change_fn, arg = the
//  server): publishes state.changed and wakes parked reads at the next
//  tick.
void catalog_serve_on_change (void *arg, uint64_t index, unsigned tables);

//  Takes a request and answers it now or later.
void catalog_serve_dispatch (catalog_serve_t *self, rpc_request_t *request);

//  Once per loop iteration: leadership changes, held requests that can
//  go on, parked reads whose tables changed.
void catalog_serve_tick (catalog_serve_t *self);

//  True when this server leads and applied everything of earlier terms.
bool catalog_serve_leader_ready (catalog_serve_t *self);

//  The loop time (uv_now) of the next hold end, retry or blocking read
//  deadline; -1 when nothing waits. catalog_serve_expire handles it.
int64_t catalog_serve_next_deadline (catalog_serve_t *self);
void catalog_serve_expire (catalog_serve_t *self);

//  SIGTERM: parked reads get their result, held and forwarded requests
//  503; requests arriving later get 503 too. Writes in flight fail when
//  raft closes.
void catalog_serve_shutdown (catalog_serve_t *self);

//  Requests forwarded to the leader so far.
uint64_t catalog_serve_forwarded (catalog_serve_t *self);

#endif
