/*  fwd_pool: forwarderd's outgoing server RPC connections
    (docs/protocol/server-rpc.md, "Endpoints"). One DEALER per
    (datacenter, address) - never per address alone (hashicorp/consul#19503)
    - made on first use and reused: requests are pipelined, matched to
    replies by id, and each has a deadline. A socket monitor follows every
    connection (connecting, up, down) so that a request to a server known
    to be unreachable fails at once instead of waiting for its deadline,
    and requests lost with a dropped connection fail at once too.
    With keys enabled every connection authenticates with CURVE. */
#ifndef FORWARDERD_FWD_POOL_H
#define FORWARDERD_FWD_POOL_H

#include "envelope.h"
#include "fwd_keys.h"

#include <czmq.h>
#include <stdbool.h>

typedef struct _fwd_pool_t fwd_pool_t;

//  Status given to a request's callback.
#define FWD_POOL_OK        0    //  reply is set (REP or ERR)
#define FWD_POOL_TIMEOUT  -1    //  no reply before the deadline
#define FWD_POOL_UNSENT   -2    //  never sent: the connection failed first
#define FWD_POOL_LOST     -3    //  sent, then the connection dropped

typedef enum {
    FWD_CONN_CONNECTING,    //  no handshake yet: requests wait for it
    FWD_CONN_UP,
    FWD_CONN_DOWN           //  refused, timed out, dropped or auth failed
} fwd_conn_state_t;

//  reply is borrowed (steal its body by setting reply->body to NULL).
typedef void (fwd_pool_fn) (void *arg, int status, envelope_t *reply);

//  Says whether a connection should be kept (its server is still listed).
typedef bool (fwd_pool_keep_fn) (void *arg, const char *dc,
                                 const char *address);

//  keys may be NULL or disabled: plain TCP. Caller owns return value.
fwd_pool_t *fwd_pool_new (const fwd_keys_t *keys);
//  Replies keep their body as checked JSON text (envelope raw) for a relay
//  that passes them on unparsed.
void fwd_pool_set_raw_replies (fwd_pool_t *self, bool raw);
//  Destroys every connection; pending callbacks are not called.
void fwd_pool_destroy (fwd_pool_t **self_p);

//  Sends a request (body_json: the body's JSON text) over the (dc,
//  address) connection, making it if needed. Returns the request id (> 0)
//  once sent or queued for the handshake: fn is then called exactly once,
//  from fwd_pool_process or fwd_pool_expire or fwd_pool_close. Returns 0
//  when the connection is known down: nothing was sent, fn is not called.
uint64_t fwd_pool_send (fwd_pool_t *self, const char *dc, const char *address,
                        const char *command, const char *body_json,
                        int64_t timeout_ms, fwd_pool_fn *fn, void *arg);

//  Forgets a pending request; its callback will not be called.
void fwd_pool_cancel (fwd_pool_t *self, uint64_t id);

//  State of the (dc, address) connection; CONNECTING when none exists.
fwd_conn_state_t fwd_pool_state (fwd_pool_t *self, const char *dc,
                                 const char *address);

//  Fills items with the sockets to poll (up to max) and returns how many
//  there are (call again with more room when that exceeds max).
size_t fwd_pool_pollitems (fwd_pool_t *self, zmq_pollitem_t *items,
                           size_t max);

//  Handles everything waiting on every connection: monitor events,
//  replies, requests queued for a handshake that completed.
void fwd_pool_process (fwd_pool_t *self);
//  Calls the callbacks of requests past their deadline (FWD_POOL_TIMEOUT).
void fwd_pool_expire (fwd_pool_t *self);
//  Milliseconds until fwd_pool_expire or fwd_pool_process has work, -1
//  when nothing is pending.
int64_t fwd_pool_next_timeout (fwd_pool_t *self);

//  Closes one connection: its requests get FWD_POOL_LOST (sent) or
//  FWD_POOL_UNSENT (queued). Not to be called from a pool callback.
void fwd_pool_close (fwd_pool_t *self, const char *dc, const char *address);
//  Closes the connections that keep rejects, and those with nothing
//  pending that were unused for idle_ms. Not to be called from a callback.
void fwd_pool_prune (fwd_pool_t *self, int64_t idle_ms,
                     fwd_pool_keep_fn *keep, void *arg);

size_t fwd_pool_pending (fwd_pool_t *self);
size_t fwd_pool_size (fwd_pool_t *self);
const char *fwd_pool_state_name (fwd_conn_state_t state);
//  [{"Datacenter","Address","State","Pending"}]. Caller owns return value.
cJSON *fwd_pool_dump (fwd_pool_t *self);

#endif
