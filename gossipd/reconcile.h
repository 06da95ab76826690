/*  reconcile: Consul's serfHealth reflection. On a server whose address is
    the raft leader's, keeps catalogd in line with the LAN pool: alive
    members registered with a passing serfHealth check, failed ones
    critical, left and reaped ones deregistered; full resync on leadership,
    on a catalogd restart and every 60 s. Spec: docs/protocol/gossip.md,
    "Catalog reflection"; catalogd commands: docs/protocol/catalog-rpc.md. */
#ifndef GOSSIPD_RECONCILE_H
#define GOSSIPD_RECONCILE_H

#include "pool.h"

#include <czmq.h>

#define RECONCILE_INTERVAL_MS     60000
#define RECONCILE_LEADER_CHECK_MS 2000
#define RECONCILE_RETRY_MS        5000
#define RECONCILE_IN_FLIGHT       4

typedef struct _reconcile_t reconcile_t;

//  lan is borrowed. Caller owns return value; NULL when the catalogd
//  sockets cannot be made.
reconcile_t *reconcile_new (const char *data_dir, const char *datacenter,
                            const char *advertise_addr, pool_t *lan);
void reconcile_destroy (reconcile_t **self_p);

size_t reconcile_poll_fill (reconcile_t *self, zmq_pollitem_t *items, size_t max);
//  Drains catalogd replies and events (call every loop turn: ZMQ_FD is
//  edge-triggered).
void reconcile_process (reconcile_t *self);
//  Leader checks, resyncs, queued writes. Returns the next due time (ms).
int64_t reconcile_tick (reconcile_t *self, int64_t now_ms);

//  A LAN member changed: write it through when we are the leader.
void reconcile_member (reconcile_t *self, member_event_t event, const member_t *member);

bool reconcile_leader (reconcile_t *self);

//  The catalog.register body of a member (status passing or critical).
//  Caller owns return value.
cJSON *reconcile_register_body (const char *datacenter, const member_t *member,
                                bool passing);

#endif
