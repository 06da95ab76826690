/*  fwd_endpoint: a server's server RPC endpoint, the ZeroMQ ROUTER on
    tcp://<bind_addr>:<ports.server> (docs/protocol/server-rpc.md). With
    keys enabled it is a CURVE server and answers ZAP itself: only the
    client public key derived from the gossip key is let in. Requests are
    decoded with the local RPC envelope codec; malformed ones are counted
    and dropped. A request may be answered later (it is an object). */
#ifndef FORWARDERD_FWD_ENDPOINT_H
#define FORWARDERD_FWD_ENDPOINT_H

#include "envelope.h"
#include "fwd_keys.h"

#include <czmq.h>

typedef struct _fwd_endpoint_t fwd_endpoint_t;
typedef struct _fwd_inbound_t fwd_inbound_t;

//  Binds endpoint ("tcp://ip:port"); keys may be NULL or disabled (plain).
//  With keys, binds the process's ZAP handler too, so at most one
//  endpoint with keys exists per process. Returns NULL (logged) when a
//  bind fails. Caller owns return value.
fwd_endpoint_t *fwd_endpoint_new (const char *endpoint, const fwd_keys_t *keys);
void fwd_endpoint_destroy (fwd_endpoint_t **self_p);

//  Fills items with the sockets to poll (the ROUTER, the ZAP handler);
//  returns how many (at most 2).
size_t fwd_endpoint_pollitems (fwd_endpoint_t *self, zmq_pollitem_t *items);

//  Answers every waiting ZAP request (call on each loop turn).
void fwd_endpoint_process_zap (fwd_endpoint_t *self);

//  Next well-formed request or NULL when none waits.
//  Caller owns return value (answer it or destroy it).
fwd_inbound_t *fwd_endpoint_recv (fwd_endpoint_t *self);

//  Sends a REP or ERR with *body_p (taken; NULL becomes {}) and destroys
//  the request. Returns 0/-1 (the peer may be gone).
int fwd_endpoint_reply (fwd_endpoint_t *self, fwd_inbound_t **inbound_p,
                        envelope_type_t type, cJSON **body_p);
//  Same for a REP whose body is JSON text relayed as it came (taken).
int fwd_endpoint_reply_raw (fwd_endpoint_t *self, fwd_inbound_t **inbound_p,
                            char **raw_p, size_t len);

const char *fwd_inbound_command (fwd_inbound_t *inbound);
uint64_t fwd_inbound_id (fwd_inbound_t *inbound);
//  The request body, borrowed (may be edited in place).
cJSON *fwd_inbound_body (fwd_inbound_t *inbound);
void fwd_inbound_destroy (fwd_inbound_t **inbound_p);

uint64_t fwd_endpoint_malformed (fwd_endpoint_t *self);
//  Connections refused by the ZAP handler.
uint64_t fwd_endpoint_denied (fwd_endpoint_t *self);

#endif
