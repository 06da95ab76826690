/*  rpc_router: the ROUTER side of the envelope (docs/protocol/local-rpc.md),
    shared by the ipc rpc_server and forwarderd's TCP endpoint: one way to
    take a request off a ROUTER socket and to send its reply back. */
#ifndef MRD_RPC_ROUTER_H
#define MRD_RPC_ROUTER_H

#include "envelope.h"

#include <czmq.h>
#include <stdint.h>

//  Takes the next well-formed request off router: its peer identity and
//  envelope (caller owns both). Malformed messages (no identity, a bad
//  envelope, not a REQ) are dropped, counted in *malformed and logged with
//  what naming the endpoint. Returns 0, or -1 when no request waits.
int rpc_router_recv (zsock_t *router, zframe_t **identity_p, envelope_t **envelope_p,
                     uint64_t *malformed, const char *what);

//  Sends *reply_p (taken; NULL sends nothing) to the peer *identity_p
//  (taken). Returns 0, -1 when it could not be sent (the peer is gone, or
//  there was nothing to send).
int rpc_router_send (zsock_t *router, zframe_t **identity_p, envelope_t **reply_p);

#endif
