/*  raftnode: catalogd's libraft (0.15) node on a libuv loop. Owns the
    libraft instance, its disk I/O (<data_dir>/raft) and TCP transport
    (bind_addr:ports.raft), bootstrapping (one voter, or the N servers the
    bootstrap agreement chose), membership changes (add, promote, remove,
    leadership transfer), the recovery of a lost quorum (raft_recover),
    snapshot settings, and the glue that feeds committed entries to the
    catalog FSM (fsm.h). See docs/catalogd.md, "Raft".

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

//  Entries between snapshots, and entries kept after one: a follower less
//  than that behind catches up from the log, not a whole snapshot, and a
//  restart replays at most threshold + trailing entries. Snapshots stall
//  appends while libraft stores them, so they are not taken too often.
#define CATALOG_RAFT_SNAPSHOT_THRESHOLD 4096
#define CATALOG_RAFT_SNAPSHOT_TRAILING  2048

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

//  A server of the raft configuration.
#define CATALOG_RAFT_STANDBY 0      //  libraft's roles
#define CATALOG_RAFT_VOTER   1
#define CATALOG_RAFT_SPARE   2
#define CATALOG_RAFT_ADDRESS_MAX (CONFIG_ADDR_MAX + 8)

typedef struct {
    uint64_t id;
    char address[CATALOG_RAFT_ADDRESS_MAX];     //  raft address host:port
    int role;
} catalog_raft_server_t;

//  Membership change kinds for catalog_raft_change.
typedef enum {
    CATALOG_RAFT_ADD = 1,       //  add as spare (address needed)
    CATALOG_RAFT_PROMOTE,       //  make a voter (libraft catches it up first)
    CATALOG_RAFT_REMOVE
} catalog_raft_change_t;

//  A membership change is done: status 0 when committed.
typedef void (catalog_raft_change_fn) (void *arg, int status);

//  True when <data_dir>/raft holds raft state (metadata, log segments or
//  snapshots): the node was bootstrapped or has heard from a cluster, and
//  starting it must not bootstrap again.
bool catalog_raft_has_state (catalog_raft_t *self);

//  Bootstraps the given configuration (every server a voter) into a
//  pristine data dir; call before catalog_raft_start. Returns 0, or a raft
//  error code (RAFT_CANTBOOTSTRAP when the dir already holds state).
int catalog_raft_bootstrap (catalog_raft_t *self,
                            const catalog_raft_server_t *servers, size_t n);

//  Rewrites the configuration of a stopped node to the given servers
//  (libraft's raft_recover: appended to the log on disk); call instead of
//  catalog_raft_start. Returns 0 or a raft error code (logged).
int catalog_raft_recover (catalog_raft_t *self,
                          const catalog_raft_server_t *servers, size_t n);

//  Bootstraps a one-voter configuration when the data dir is new and
//  bootstrap_expect is 1 (or -dev), then starts libraft (loads the
//  snapshot and log, listens). Returns 0/-1 (logged).
int catalog_raft_start (catalog_raft_t *self);
bool catalog_raft_started (catalog_raft_t *self);

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

//  Starts a membership change (only on the leader, one at a time).
//  Returns 0 (fn called once), or a raft error code (fn not called).
int catalog_raft_change (catalog_raft_t *self, catalog_raft_change_t kind,
                         uint64_t id, const char *address,
                         catalog_raft_change_fn *fn, void *arg);
//  True while a membership change of ours is in flight.
bool catalog_raft_changing (catalog_raft_t *self);
//  Hands leadership to a voter (0: libraft picks one). Returns 0 or a
//  raft error code.
int catalog_raft_transfer (catalog_raft_t *self, uint64_t id);

//  The current configuration (committed or not). Returns the number of
//  servers and sets *servers_p (caller frees), or -1 when out of memory.
//  *index_p (may be NULL) gets the raft index of the configuration.
int catalog_raft_configuration (catalog_raft_t *self,
                                catalog_raft_server_t **servers_p,
                                uint64_t *index_p);

bool catalog_raft_is_leader (catalog_raft_t *self);
//  True when some server is known as leader (this one or another).
bool catalog_raft_leader_known (catalog_raft_t *self);
uint64_t catalog_raft_term (catalog_raft_t *self);
uint64_t catalog_raft_last_applied (catalog_raft_t *self);
uint64_t catalog_raft_last_index (catalog_raft_t *self);
//  Milliseconds since this follower last heard from its leader (0 on the
//  leader; since the last election-timer reset otherwise).
uint64_t catalog_raft_last_contact_ms (catalog_raft_t *self);
//  The known leader's raft ID, 0 when none.
uint64_t catalog_raft_leader_id (catalog_raft_t *self);
//  "leader", "follower", "candidate" or "unavailable".
const char *catalog_raft_state_name (catalog_raft_t *self);
//  The leader's "addr:server_port" into buf ("" when none known).
void catalog_raft_leader (catalog_raft_t *self, char *buf, size_t size);
//  ["addr:server_port",...] of the voters. Caller owns return value.
cJSON *catalog_raft_peers (catalog_raft_t *self);
//  This server's raft ID and raft address.
uint64_t catalog_raft_id (catalog_raft_t *self);
const char *catalog_raft_address (catalog_raft_t *self);
//  "host:ports.server" of a raft address "host:ports.raft" into buf.
void catalog_raft_server_address (catalog_raft_t *self,
                                  const char *raft_address, char *buf,
                                  size_t size);

//  Text of a raft error code as the RPC reports it ("No cluster leader",
//  "leadership lost while committing log", ...).
const char *catalog_raft_error_text (int status);
//  The RPC error code of a raft error: 503 while shutting down, else 500.
int catalog_raft_error_code (int status);
//  True for "this server is not the leader" (nothing was proposed).
bool catalog_raft_error_not_leader (int status);
//  True for "another configuration change is in progress".
bool catalog_raft_error_busy (int status);

//  The stable raft ID of a node UUID (non-zero). Falls back to a hash of
//  any other text.
uint64_t catalog_raft_id_from_uuid (const char *node_id);
//  Parses an ID as an operator gives it: a node UUID, or the 16 hex digits
//  raft uses. Returns 0 when text is neither.
uint64_t catalog_raft_id_parse (const char *text);

#endif
