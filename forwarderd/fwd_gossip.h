/*  fwd_gossip: forwarderd's link to its node's gossipd
    (docs/protocol/server-rpc.md, "Membership" and "Commands"). Polls
    gossipd's `members` (the WAN pool on a server, the LAN pool on a client
    agent) into the server lists at start, every second, and at once after
    a member event or a gossipd restart; keeps gossipd's `datacenters`
    names (servers); and carries the requests gossipd serves as local
    (`coordinate.*`), failing them when gossipd restarts. */
#ifndef FORWARDERD_FWD_GOSSIP_H
#define FORWARDERD_FWD_GOSSIP_H

#include "config.h"
#include "fwd_routes.h"
#include "rpc_client.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _fwd_gossip_t fwd_gossip_t;

//  Sockets fwd_gossip_pollitems adds.
#define FWD_GOSSIP_ITEMS    2
//  How long a call waits for a gossipd that is not connected.
#define FWD_GOSSIP_HOLD_MS  1000

//  Called after a members answer was applied to the server lists.
typedef void (fwd_gossip_fn) (void *arg);

//  Connects to <data_dir>/run/gossipd.rpc and gossipd.pub (gossipd need
//  not be up). routes is borrowed and must outlive the link; changed (may
//  be NULL) is called with arg after each update of it.
//  Caller owns return value.
fwd_gossip_t *fwd_gossip_new (const config_t *cfg, fwd_routes_t *routes,
                              fwd_gossip_fn *changed, void *arg);
//  Pending calls are dropped without their callbacks.
void fwd_gossip_destroy (fwd_gossip_t **self_p);

//  Writes its FWD_GOSSIP_ITEMS sockets into items; returns how many.
size_t fwd_gossip_pollitems (fwd_gossip_t *self, zmq_pollitem_t *items);
//  Handles waiting replies and events. Returns how many it handled, so
//  that a loop can drain to a fixpoint.
size_t fwd_gossip_process (fwd_gossip_t *self);
//  Fails calls past their deadline, re-offers held ones, and polls
//  members when due.
void fwd_gossip_expire (fwd_gossip_t *self);
//  Milliseconds until fwd_gossip_expire has work (0 when due).
int64_t fwd_gossip_next_timeout (fwd_gossip_t *self);

//  DC names for `datacenters`: gossipd's (sorted by RTT) when it offers
//  them, else the server lists' (the local DC first, then by name).
//  Caller owns return value.
cJSON *fwd_gossip_datacenters (fwd_gossip_t *self);

//  Sends gossipd a command to serve; takes *body_p. fn gets RPC_OK with
//  the reply, RPC_TIMEOUT, or RPC_UNAVAILABLE (gossipd not connected for
//  FWD_GOSSIP_HOLD_MS, or restarted: see fwd_gossip_restarting); it may
//  be called from within this call. Returns the request id.
uint64_t fwd_gossip_send (fwd_gossip_t *self, const char *command,
                          cJSON **body_p, int64_t timeout_ms,
                          rpc_client_fn *fn, void *arg);
//  Forgets a call; its callback will not be called.
void fwd_gossip_cancel (fwd_gossip_t *self, uint64_t id);
//  True inside the callbacks of calls failed because gossipd restarted
//  (they never reached the new gossipd: a read may be sent again).
bool fwd_gossip_restarting (fwd_gossip_t *self);

#endif
