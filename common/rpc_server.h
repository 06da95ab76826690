/*  rpc_server: the serving side of the local RPC protocol
    (docs/protocol/local-rpc.md). A ROUTER bound at <run>/<daemon>.rpc takes
    requests; a PUB bound at <run>/<daemon>.pub sends events, starting with
    "hello" and a "heartbeat" every second that carry the daemon's boot id,
    so subscribers notice a restart and resync.
    A request may be answered at once or kept and answered later (raft apply,
    parked blocking queries): it is an object of its own. */
#ifndef MRD_RPC_SERVER_H
#define MRD_RPC_SERVER_H

#include "envelope.h"

typedef struct _rpc_server_t rpc_server_t;
typedef struct _rpc_request_t rpc_request_t;

//  Binds <data_dir>/run/<daemon>.rpc and .pub (the run dir must exist).
//  Returns NULL (logged) when a bind fails. Caller owns return value.
rpc_server_t *rpc_server_new (const char *data_dir, const char *daemon);
void rpc_server_destroy (rpc_server_t **self_p);

//  File descriptor of the ROUTER (ZMQ_FD: edge-triggered, drain with
//  rpc_server_recv until it returns NULL).
int rpc_server_fd (rpc_server_t *self);

//  Takes the next well-formed request, or NULL when none is waiting.
//  Malformed frames are logged, counted and dropped here.
//  Caller owns return value (answer it or destroy it).
rpc_request_t *rpc_server_recv (rpc_server_t *self);

//  How many malformed messages were dropped so far.
uint64_t rpc_server_malformed (rpc_server_t *self);

const char *rpc_request_command (rpc_request_t *request);
uint64_t rpc_request_id (rpc_request_t *request);
//  The request body (a JSON value, usually an object); borrowed.
cJSON *rpc_request_body (rpc_request_t *request);
//  User slot, e.g. for parking a request in a wait list.
void rpc_request_set_data (rpc_request_t *request, void *data);
void *rpc_request_data (rpc_request_t *request);
void rpc_request_destroy (rpc_request_t **request_p);

//  Sends a REP with *result_p (taken; NULL becomes {}) and destroys the
//  request. Returns 0/-1 (the peer may be gone: that is not an error to
//  the caller beyond the log).
int rpc_server_reply (rpc_server_t *self, rpc_request_t **request_p,
                      cJSON **result_p);
//  Same with a body that is JSON text (a relayed envelope raw body, taken).
int rpc_server_reply_raw (rpc_server_t *self, rpc_request_t **request_p,
                          char **raw_p, size_t len);
//  Sends an ERR {"Code":code,"Error":text} and destroys the request.
int rpc_server_error (rpc_server_t *self, rpc_request_t **request_p,
                      int code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Publishes an event; takes ownership of *body_p.
int rpc_server_publish (rpc_server_t *self, const char *event, cJSON **body_p);

//  Sends the heartbeat when it is due; returns ms until the next one is due
//  (call from the loop, use the result in the poll timeout).
int64_t rpc_server_tick (rpc_server_t *self);

//  This process's boot id (random hex, 16 chars).
const char *rpc_server_boot_id (rpc_server_t *self);

#endif
