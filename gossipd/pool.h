/*  pool: one gossip pool (LAN or WAN) on its UDP and TCP sockets: receives
    and dispatches packets, sends probes, gossip rounds (periodic, and
    extra ones for urgent updates as relay.c decides) and push-pull
    exchanges, runs joins (joins.c keeps their books), leave and
    cluster-wide keyring operations, and applies the pool's acceptance
    rules (rules.c, Consul's merge delegates).
    Spec: docs/protocol/gossip.md. */
#ifndef GOSSIPD_POOL_H
#define GOSSIPD_POOL_H

#include "config.h"
#include "keyring.h"
#include "membership.h"
#include "packet.h"
#include "vivaldi.h"

#include <czmq.h>

typedef struct _pool_t pool_t;

typedef struct {
    const char *pool;                   //  "lan" or "wan"
    bool wan;
    const char *name;                   //  our member name
    const char *datacenter;
    const char *node_id;
    packet_addr_t bind;
    packet_addr_t advertise;
    const packet_tag_t *tags;
    size_t tag_count;
    config_gossip_t timers;
    int64_t reconnect_timeout_ms;
} pool_config_t;

typedef struct {
    //  A member changed (REAP: just before it is removed).
    void (*event) (void *arg, pool_t *pool, member_event_t event,
                   const member_t *member);
    //  The keyring changed (persist it).
    void (*keyring_changed) (void *arg, pool_t *pool);
    void *arg;
} pool_hooks_t;

//  Called once a join finished: joined = addresses that exchanged state;
//  error lists the failures ("Failed to join <addr>: <reason>", one per
//  line), empty when none.
typedef void (pool_join_fn) (void *arg, int joined, const char *error);
//  Called once the pool has left.
typedef void (pool_done_fn) (void *arg);
//  Called once a keyring operation ended; takes *result_p: Consul's
//  KeyringResponse object plus "Error" ("" when all nodes succeeded).
typedef void (pool_key_fn) (void *arg, cJSON **result_p);

//  Binds the sockets; NULL (logged) on failure. keyring is borrowed.
//  Caller owns return value.
pool_t *pool_new (const pool_config_t *config, keyring_t *keyring,
                  const pool_hooks_t *hooks);
//  Pending joins, leave and key operations are dropped without callback.
void pool_destroy (pool_t **self_p);

const char *pool_name (pool_t *self);
bool pool_is_wan (pool_t *self);
const char *pool_datacenter (pool_t *self);
membership_t *pool_membership (pool_t *self);
vivaldi_t *pool_vivaldi (pool_t *self);
keyring_t *pool_keyring (pool_t *self);
uint16_t pool_port (pool_t *self);

//  Starts joining addresses ("ip", "ip:port", "[ipv6]:port"; default port
//  the pool's). fn is called later, from pool_tick.
void pool_join (pool_t *self, const char *const *addresses, size_t count,
                pool_join_fn *fn, void *arg);
//  Starts a graceful leave; fn is called later once done.
void pool_leave (pool_t *self, pool_done_fn *fn, void *arg);
//  Force-leave (with prune). Returns 0, or -1 when the node is unknown.
int pool_force_leave (pool_t *self, const char *node, bool prune);
//  Starts a cluster-wide keyring operation (PACKET_OP_*; key empty for
//  list). fn is called later, from pool_tick or packet processing.
void pool_key_op (pool_t *self, int op, const uint8_t *key, size_t key_len,
                  pool_key_fn *fn, void *arg);

//  Member counts, incarnation, health, events, packets and drops.
//  Caller owns return value.
cJSON *pool_stats_json (pool_t *self);

//  How many poll items the pool may add.
size_t pool_poll_size (pool_t *self);
size_t pool_poll_fill (pool_t *self, zmq_pollitem_t *items, size_t max);
//  Handles the items filled by pool_poll_fill after zmq_poll.
void pool_process (pool_t *self, zmq_pollitem_t *items, size_t count);
//  Runs due timers. Returns the next monotonic time (ms) work is due.
int64_t pool_tick (pool_t *self, int64_t now_ms);

#endif
