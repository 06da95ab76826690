/*  peer: one daemon of the node that httpd calls (catalogd, forwarderd,
    gossipd) over the local RPC of docs/protocol/local-rpc.md: the client
    of <run>/<daemon>.rpc and the subscription to <run>/<daemon>.pub.
    Tracks the daemon's boot id, event sequence and heartbeats, and tells
    its owner when the daemon was first seen, restarted (what was sent to
    the old instance will never be answered), lost events or went silent.
    Also runs calls on behalf of HTTP requests: the request is suspended
    until the reply, which the caller's callback turns into the response
    (or into the next call of a chain); a call whose daemon restarted or
    went silent fails at once with 503 instead of waiting for its
    deadline. Everything runs on httpd's one thread. */
#ifndef HTTPD_PEER_H
#define HTTPD_PEER_H

#include "envelope.h"
#include "request.h"
#include "rpc_client.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct _peer_t peer_t;

//  Heartbeats missed for this long mean the daemon is gone.
#define PEER_SILENCE_MS     3500
//  Default RPC deadline (local-rpc.md).
#define PEER_TIMEOUT_MS     5000

//  Statuses of a call besides RPC_OK / RPC_TIMEOUT / RPC_UNAVAILABLE.
#define PEER_LOST           -10     //  the daemon restarted or went silent
#define PEER_ABORTED        -11     //  httpd is shutting down

//  What the daemon's event stream showed (peer_signal_fn).
typedef enum {
    PEER_SEEN = 1,          //  the first boot id: first contact
    PEER_RESTARTED,         //  a new boot id: the old instance is gone
    PEER_GAP,               //  a gap in the event sequence: events were lost
    PEER_SILENT,            //  no heartbeat for PEER_SILENCE_MS
    PEER_HEARD_AGAIN,       //  an event after silence
    PEER_EVENT              //  any event, after the signals above
} peer_signal_t;

//  event is set for PEER_EVENT (borrowed); for PEER_RESTARTED, heard_ms
//  is when the old instance was last heard from (requests sent up to then
//  went to it).
typedef void (peer_signal_fn) (void *arg, peer_signal_t signal,
                               envelope_t *event, int64_t heard_ms);

//  The result of a call made for an HTTP request: status RPC_OK with
//  reply (REP or ERR, borrowed: steal reply->body by setting it NULL), or
//  RPC_TIMEOUT, RPC_UNAVAILABLE, PEER_LOST, PEER_ABORTED with reply NULL.
//  The callback sets the request's response (peer_reply_error helps), or
//  starts another call for it; the request is resumed once it has a
//  response and no call pending. request is NULL when the HTTP request
//  went away first: only release arg then.
typedef void (peer_reply_fn) (void *arg, http_request_t *request,
                              int status, envelope_t *reply);

//  Connects to <data_dir>/run/<daemon>.rpc and .pub (the daemon need not
//  be up). what names the daemon's job in messages ("gossip" gives
//  "the node's gossip daemon is not running"). hold_ms: how long a request
//  waits for a daemon that is not connected (rpc_client_set_hold).
//  Caller owns return value.
peer_t *peer_new (const char *data_dir, const char *daemon, const char *what,
                  int64_t hold_ms);
void peer_destroy (peer_t **self_p);

const char *peer_name (peer_t *self);
int peer_rpc_fd (peer_t *self);
int peer_sub_fd (peer_t *self);
//  True when a reply or event is waiting on the peer's sockets: ZMQ_FD is
//  edge-triggered, so the loop checks this before it sleeps.
bool
    peer_readable (peer_t *self);
//  The RPC client, for owners that keep their own pending requests.
rpc_client_t *peer_client (peer_t *self);
//  Where the owner learns about restarts and events.
void peer_set_handler (peer_t *self, peer_signal_fn *fn, void *arg);

//  True while the daemon is known (a boot id seen) and heard from within
//  PEER_SILENCE_MS.
bool peer_live (peer_t *self);

//  Handles replies, events, deadlines and silence. Call on every loop
//  iteration (the ZeroMQ fds are edge-triggered).
void peer_process (peer_t *self);
//  Milliseconds until process must run again, -1 when nothing is timed.
int64_t peer_next_timeout (peer_t *self);

//  Sends command for request (takes *body_p; NULL or a NULL body send
//  {}) with a deadline of
//  timeout_ms and suspends the request until fn has answered it.
void peer_request (peer_t *self, http_request_t *request, const char *command,
                   cJSON **body_p, int64_t timeout_ms, peer_reply_fn *fn,
                   void *arg);
//  Answers request for a call that did not succeed: an ERR keeps its Code
//  as the status and its Error as the text; a timeout is 500
//  "<daemon> timeout: no reply to <command> within <ms> ms"; otherwise
//  503 "<daemon> unavailable: ...".
void peer_reply_error (peer_t *self, http_request_t *request,
                       const char *command, int status, envelope_t *reply,
                       int64_t timeout_ms);
//  The HTTP status of an ERR body's Code (400..599, else 500).
unsigned peer_error_status (const cJSON *body);
//  Ends every call made with peer_request with PEER_ABORTED (shutdown).
void peer_abort_requests (peer_t *self);

#endif
