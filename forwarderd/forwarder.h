/*  forwarder: the forwarderd daemon (docs/protocol/server-rpc.md). Owns
    the ipc ROUTER httpd calls (<run>/forwarderd.rpc), on servers the TCP
    server RPC endpoint and the client of the local catalogd, the client and
    subscription to gossipd that keep the server lists current, the
    outgoing connection pool, and every request in progress. One thread:
    one zmq_poll over all sockets and the signals pipe, timers from the
    poll timeout on the monotonic clock; nothing blocks on a remote. */
#ifndef FORWARDERD_FORWARDER_H
#define FORWARDERD_FORWARDER_H

#include "config.h"
#include <stdint.h>

typedef struct _forwarder_t forwarder_t;

//  Binds the endpoints of this node (the run dir must exist). Returns NULL
//  (logged) when a key cannot be derived or a bind fails.
//  Caller owns return value.
forwarder_t *forwarder_new (const config_t *cfg);
//  Answers every request still in progress with an error, then frees all.
void forwarder_destroy (forwarder_t **self_p);

//  One turn of the loop: waits at most max_wait_ms (-1: until the next
//  timer) for something to do, then does it. Returns 0, or -1 when
//  SIGTERM/SIGINT was received.
int forwarder_poll_once (forwarder_t *self, int64_t max_wait_ms);

//  Runs the loop until SIGTERM/SIGINT. Returns 0.
int forwarder_run (forwarder_t *self);

#endif
