/*  cluster: catalogd's view of, and links to, the other servers of its
    datacenter (docs/catalogd.md, "Forming a cluster", "Membership",
    "Forwarding to the leader").
    - Follows the LAN pool through gossipd (`members {"WAN":false}` every
      second and after each member.* event) into a server list (servers.h).
    - Decides when raft starts: at once with state on disk, with
      bootstrap_expect 0 or 1, or in -dev; otherwise after the bootstrap
      agreement (bootstrap.h) bootstraps it or finds an existing cluster.
    - On the leader, applies the membership changes autopilot (autopilot.h)
      decides, one at a time.
    - Sends requests to a given server of the DC through the local
      forwarderd (field "Server", docs/protocol/server-rpc.md): the
      daemon's forwarding of writes and reads to the leader, and the
      bootstrap's raft.status questions.
    Its sockets join the daemon's libuv loop (uv_poll on ZMQ_FD, drained
    on every readiness and from the daemon's prepare hook). */
#ifndef CATALOGD_CLUSTER_H
#define CATALOGD_CLUSTER_H

#include "config.h"
#include "envelope.h"
#include "raftnode.h"
#include "servers.h"

#include <uv.h>

//  Status given to a forward callback besides RPC_OK (reply set),
//  RPC_TIMEOUT and RPC_UNAVAILABLE (the local forwarderd restarted after
//  the request was sent: it may have reached the server).
typedef void (catalog_forward_fn) (void *arg, int status, envelope_t *reply);

typedef struct _catalog_cluster_t catalog_cluster_t;

//  raft and cfg are borrowed. Caller owns return value.
catalog_cluster_t *catalog_cluster_new (uv_loop_t *loop, const config_t *cfg,
                                        catalog_raft_t *raft);
//  Frees the cluster once its handles are closed (catalog_cluster_close
//  and the loop ran), or if it never started.
void catalog_cluster_destroy (catalog_cluster_t **self_p);

//  Starts its handles, and raft unless the bootstrap agreement must run
//  first. Returns 0, or -1 when raft cannot start (logged).
int catalog_cluster_start (catalog_cluster_t *self);
//  Closes its handles (shutdown); pending forwards get no callback.
void catalog_cluster_close (catalog_cluster_t *self);

//  Does the pending work: reads replies and events, runs bootstrap rounds
//  and autopilot when due, re-arms its timer. leader_ready: this server
//  leads and has applied everything of earlier terms. Call from the
//  loop's prepare hook. Returns 0, or -1 when raft failed to start.
int catalog_cluster_process (catalog_cluster_t *self, bool leader_ready);

//  Sends command with *body_p (taken) to the server whose server RPC
//  address is server, through the local forwarderd. Returns the request
//  id, fn being called exactly once later; or 0 when nothing could be
//  sent (forwarderd not running): fn is not called.
uint64_t catalog_cluster_forward (catalog_cluster_t *self, const char *command,
                                  cJSON **body_p, const char *server,
                                  int64_t timeout_ms, catalog_forward_fn *fn,
                                  void *arg);
//  Forgets a forward; its callback will not be called.
void catalog_cluster_cancel (catalog_cluster_t *self, uint64_t id);

//  The servers of the DC as last seen in the LAN pool.
catalog_servers_t *catalog_cluster_servers (catalog_cluster_t *self);
//  This server's bootstrap proposal ("" when it has none).
const char *catalog_cluster_proposal (catalog_cluster_t *self);

#endif
