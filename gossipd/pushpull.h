/*  pushpull: the TCP side of a pool: one request frame and one reply frame
    per connection, non-blocking, each bounded by the TCP timeout. Outbound
    exchanges (push-pull, join) and the listener with its inbound exchanges
    (at most 128 at once). Frames are `length(u32) datagram`, sealed with the
    pool's keyring. Spec: docs/protocol/gossip.md, "Push-pull" and "Packet
    grammar" (TCP stream). */
#ifndef GOSSIPD_PUSHPULL_H
#define GOSSIPD_PUSHPULL_H

#include "keyring.h"
#include "packet.h"

#include <czmq.h>

#define PUSHPULL_INBOUND_MAX 128

typedef struct {
    //  A request arrived (unwrapped and checked as a request body). Put a
    //  reply body (malloc'd, taken) in *reply; return -1 to close instead.
    int (*serve) (void *arg, const uint8_t *body, size_t len,
                  const packet_addr_t *peer, uint8_t **reply, size_t *reply_len);
    //  An outbound exchange ended: status 0 with the reply body (checked as
    //  a reply body, borrowed), or -1 with a reason.
    void (*done) (void *arg, uint64_t cookie, const packet_addr_t *peer,
                  int status, const uint8_t *body, size_t len, const char *error);
    //  A frame was dropped by the codec.
    void (*dropped) (void *arg, packet_drop_t drop, const packet_addr_t *peer);
    void *arg;
} pushpull_hooks_t;

typedef struct _pushpull_t pushpull_t;

//  keyring is borrowed. Caller owns return value.
pushpull_t *pushpull_new (keyring_t *keyring, int64_t timeout_ms,
                          const pushpull_hooks_t *hooks);
void pushpull_destroy (pushpull_t **self_p);

//  Binds and listens on addr. Returns 0, or -1 (logged).
int pushpull_listen (pushpull_t *self, const packet_addr_t *addr);

//  Starts an exchange: sends body to addr and waits for the reply. The
//  outcome always comes through hooks.done (never from inside this call).
//  Returns 0, or -1 when body is too large (nothing started).
int pushpull_connect (pushpull_t *self, const packet_addr_t *addr,
                      const uint8_t *body, size_t len, uint64_t cookie);

//  Adds the poll items of the listener and connections to items (at most
//  max); returns how many. Call pushpull_process with the same items after
//  the poll, before any other call.
size_t pushpull_poll_fill (pushpull_t *self, zmq_pollitem_t *items, size_t max);
void pushpull_process (pushpull_t *self, zmq_pollitem_t *items, size_t count);

//  Fails connections past their deadline, reports finished ones. Returns
//  the next deadline (monotonic ms) or INT64_MAX.
int64_t pushpull_tick (pushpull_t *self, int64_t now_ms);

size_t pushpull_active (pushpull_t *self);

#endif
