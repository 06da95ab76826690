/*  raftnode: catalogd's libraft (0.15) node on a libuv loop. Owns the
    libraft instance, its disk I/O (<data_dir>/raft) and TCP transport
    (bind_addr:ports.raft), the bootstrap of a single-voter cluster on a
    fresh data dir, snapshot settings, and the glue that feeds committed
    entries to the catalog FSM (fsm.h). See docs/catalogd.md, "Raft".

    Servers are identified by a stable uint64 raft ID derived from the
    node's UUID; their raft address is advertise_addr:ports.raft and the
    address they are known by in status.leader/status.peers is
    advertise_addr:ports.server (Consul's server RPC port). */
#ifndef CATALOGD_RAFTNODE_H
#define CATALOGD_RAFTNODE_H

#include "config.h"
#include "fsm.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct _catalog_raft_t catalog_raft_t;

//  A proposed entry is done: status 0 when committed and applied at index
//  (error then is NULL, or the FSM's reason for a no-op: a rejected
//  entry); otherwise a raft error code (see catalog_raft_error_text) and
//  index 0.
typedef void (catalog_raft_apply_fn) (void *arg, int status, uint64_t index,
                                      const char *error);
//  A barrier is done: status 0 when every earlier entry is applied.
typedef void (catalog_raft_barrier_fn) (void *arg, int status);
typedef void (catalog_raft_closed_fn) (void *arg);

//  Prepares the node (nothing runs before catalog_raft_start). fsm stays
//  owned by the caller. Returns NULL (logged) on failure.
//  Caller owns return value.
catalog_raft_t *catalog_raft_new (uv_loop_t *loop, const config_t *cfg,
                                  catalog_fsm_t *fsm);
//  Frees the node; call after the close callback (or if never started).
void catalog_raft_destroy (catalog_raft_t **self_p);

//  Bootstraps a one-voter configuration when the data dir is new and
//  bootstrap_expect is 1, then starts libraft (loads the snapshot and log,
//  listens). Returns 0/-1 (logged).
int catalog_raft_start (catalog_raft_t *self);

//  Proposes an entry (data copied). Returns 0 (fn will be called exactly
//  once), or a raft error code (fn not called).
int catalog_raft_apply (catalog_raft_t *self, const void *data, size_t size,
                        catalog_raft_apply_fn *fn, void *arg);
//  Appends a barrier. Returns 0 (fn called once) or a raft error code.
int catalog_raft_barrier (catalog_raft_t *self, catalog_raft_barrier_fn *fn,
                          void *arg);

//  Closes libraft; in-flight proposals fail; fn runs once all is closed.
void catalog_raft_close (catalog_raft_t *self, catalog_raft_closed_fn *fn,
                         void *arg);

bool catalog_raft_is_leader (catalog_raft_t *self);
//  True when some server is known as leader (this one or another).
bool catalog_raft_leader_known (catalog_raft_t *self);
uint64_t catalog_raft_term (catalog_raft_t *self);
uint64_t catalog_raft_last_applied (catalog_raft_t *self);
//  "leader", "follower", "candidate" or "unavailable".
const char *catalog_raft_state_name (catalog_raft_t *self);
//  The leader's "addr:server_port" into buf ("" when none known).
void catalog_raft_leader (catalog_raft_t *self, char *buf, size_t size);
//  ["addr:server_port",...] of the voters. Caller owns return value.
cJSON *catalog_raft_peers (catalog_raft_t *self);
//  This server's raft ID.
uint64_t catalog_raft_id (catalog_raft_t *self);

//  Text of a raft error code as the RPC reports it ("No cluster leader",
//  "leadership lost while committing log", ...).
const char *catalog_raft_error_text (int status);
//  The RPC error code of a raft error: 503 while shutting down, else 500.
int catalog_raft_error_code (int status);

//  The stable raft ID of a node UUID (non-zero). Falls back to a hash of
//  any other text.
uint64_t catalog_raft_id_from_uuid (const char *node_id);

#endif
