/*  antientropy: keeps the catalog's view of this node equal to the agent's
    local state, as Consul's anti-entropy does. Registers the node (ID,
    address, TaggedAddresses lan/wan) at start; pushes every local change
    at once (catalog.register / catalog.deregister, one RPC at a time); and
    runs a full sync every ANTIENTROPY_INTERVAL_MS (plus jitter), at start,
    whenever the local catalog's daemon (catalogd on a server, forwarderd on
    a client agent) is seen (re)started and, on a client, when a server
    comes up: it reads the node's services
    (catalog.node) and checks (health.node), re-pushes what differs and
    deregisters what the agent does not have (except the "consul" service
    and the "serfHealth" check). Failures retry with backoff. */
#ifndef HTTPD_ANTIENTROPY_H
#define HTTPD_ANTIENTROPY_H

#include "agent_state.h"
#include "catalog_link.h"
#include "config.h"

#include <stdbool.h>
#include <stdint.h>

#define ANTIENTROPY_INTERVAL_MS   60000
#define ANTIENTROPY_JITTER_MS     6000
#define ANTIENTROPY_RETRY_MIN_MS  1000
#define ANTIENTROPY_RETRY_MAX_MS  30000
//  Retry while a client agent's forwarderd knows no server yet.
#define ANTIENTROPY_RETRY_NO_SERVER_MS  200

typedef struct _antientropy_t antientropy_t;

//  cfg, state and link are borrowed and must outlive the instance.
//  Caller owns return value.
antientropy_t *antientropy_new (const config_t *cfg, agent_state_t *state,
                                catalog_link_t *link);
void antientropy_destroy (antientropy_t **self_p);

//  Starts whatever is due (never blocks). Call on every loop iteration.
void antientropy_tick (antientropy_t *self, int64_t now_ms);
//  Milliseconds until tick has work, -1 when nothing is timed.
int64_t antientropy_next_timeout (antientropy_t *self, int64_t now_ms);
//  Asks for a full sync at once (the local catalog's daemon restarted).
void antientropy_resync (antientropy_t *self);
//  The local catalog's daemon was first heard from: the first full sync
//  starts at once unless one already completed.
void antientropy_first_contact (antientropy_t *self);
//  Asks for a full sync delay_ms from now (a server came up: forwarderd
//  learns of it from the same gossip event, give it time to).
void antientropy_resync_after (antientropy_t *self, int64_t now_ms,
                               int64_t delay_ms);

#endif
