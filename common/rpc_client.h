/*  rpc_client: the calling side of the local RPC protocol. One DEALER
    connected to a daemon's <run>/<daemon>.rpc; requests carry ids, every
    request has a deadline, replies are matched by id and late or unknown
    replies are dropped. The DEALER reconnects by itself when the daemon is
    restarted; while it is absent, sends fail at once (ZMQ_IMMEDIATE).
    Async use: rpc_client_send + rpc_client_process on readable fd +
    rpc_client_expire at rpc_client_next_deadline. Sync use (CLI, simple
    loops with nothing else pending): rpc_client_call. */
#ifndef MRD_RPC_CLIENT_H
#define MRD_RPC_CLIENT_H

#include "envelope.h"
#include <stdbool.h>

typedef struct _rpc_client_t rpc_client_t;

#define RPC_OK           0
#define RPC_TIMEOUT     -1  //  no reply before the deadline
#define RPC_UNAVAILABLE -2  //  the daemon is not connected (not running)

//  status is RPC_OK with reply set (REP or ERR: look at reply->type), or
//  RPC_TIMEOUT / RPC_UNAVAILABLE with reply NULL. The reply is borrowed;
//  steal its body by setting reply->body to NULL.
typedef void (rpc_client_fn) (void *arg, int status, envelope_t *reply);

//  Connects to <data_dir>/run/<daemon>.rpc (the daemon need not be up).
//  Caller owns return value.
rpc_client_t *rpc_client_new (const char *data_dir, const char *daemon);
//  Same with an explicit endpoint ("ipc://...", "tcp://...").
rpc_client_t *rpc_client_new_endpoint (const char *endpoint);
void rpc_client_destroy (rpc_client_t **self_p);

int rpc_client_fd (rpc_client_t *self);
//  True when a reply is waiting. ZMQ_FD is edge-triggered and a send on the
//  socket can consume the edge: loops call this before sleeping and poll
//  with no timeout while it is true.
bool rpc_client_readable (rpc_client_t *self);

//  Sends a request; takes *body_p. Returns the request id (> 0). When the
//  daemon is not connected, fn is called at once with RPC_UNAVAILABLE (and
//  the id is still returned), unless a hold is set (rpc_client_set_hold).
uint64_t rpc_client_send (rpc_client_t *self, const char *command,
                          cJSON **body_p, int64_t timeout_ms,
                          rpc_client_fn *fn, void *arg);

//  While the daemon is not connected (not running, or restarting and not yet
//  reconnected), keep unsendable requests and retry them every 10 ms for up
//  to hold_ms before answering RPC_UNAVAILABLE (Consul's rpc_hold_timeout).
//  0, the default, fails them at once. The request's own deadline still
//  applies. rpc_client_next_timeout includes the retry times.
void rpc_client_set_hold (rpc_client_t *self, int64_t hold_ms);

//  Replies keep their body as checked JSON text (envelope raw) instead of
//  a parsed tree: for a relay that passes them on (envelope_decode_raw).
void rpc_client_set_raw_replies (rpc_client_t *self, bool raw);

//  Forgets a pending request; its callback will not be called.
void rpc_client_cancel (rpc_client_t *self, uint64_t id);

//  Reads every waiting reply and calls the callbacks.
void rpc_client_process (rpc_client_t *self);
//  Calls the callbacks of requests past their deadline with RPC_TIMEOUT.
void rpc_client_expire (rpc_client_t *self);
//  Milliseconds until the nearest deadline (0 if one passed), -1 if none.
int64_t rpc_client_next_timeout (rpc_client_t *self);
//  Calls every pending callback with status and forgets them (used when the
//  daemon is seen restarted: its pending requests will never be answered).
void rpc_client_fail_all (rpc_client_t *self, int status);
size_t rpc_client_pending (rpc_client_t *self);
//  Like fail_all, but only for requests sent before mono_ms (CLOCK_MONOTONIC
//  milliseconds, shared by all processes of the machine): when a daemon is
//  seen restarted at its start time T, requests sent before T went to the
//  dead incarnation, those sent after reached the new one and stay pending.
void rpc_client_fail_sent_before (rpc_client_t *self, int64_t mono_ms, int status);

//  Blocking call: sends and waits up to timeout_ms for the reply, dropping
//  stale replies. Returns the reply (REP or ERR) or NULL with status set.
//  Caller owns return value.
envelope_t *rpc_client_call (rpc_client_t *self, const char *command,
                             cJSON **body_p, int64_t timeout_ms, int *status);

#endif
