/*  rpc_sub: subscribes to one daemon's event PUB (<run>/<daemon>.pub).
    Tracks the publisher's boot id from hello/heartbeat events so the caller
    learns when the publisher restarted (and must resync what it derived). */
#ifndef MRD_RPC_SUB_H
#define MRD_RPC_SUB_H

#include "envelope.h"
#include <stdbool.h>

typedef struct _rpc_sub_t rpc_sub_t;

//  Caller owns return value.
rpc_sub_t *rpc_sub_new (const char *data_dir, const char *daemon);
void rpc_sub_destroy (rpc_sub_t **self_p);
int rpc_sub_fd (rpc_sub_t *self);
//  True when an event is waiting (see rpc_client_readable).
bool rpc_sub_readable (rpc_sub_t *self);

//  Next well-formed event or NULL when none is waiting (drain on readable).
//  Caller owns return value.
envelope_t *rpc_sub_recv (rpc_sub_t *self);

//  True once after an event showed a boot id different from the last one
//  seen (the first hello after start counts as a restart).
bool rpc_sub_restarted_take (rpc_sub_t *self);

//  The publisher's start time (CLOCK_MONOTONIC ms) from its last hello or
//  heartbeat, 0 before one was seen. Pass it to rpc_client_fail_sent_before.
int64_t rpc_sub_started_ms (rpc_sub_t *self);

//  Milliseconds since the last event from the publisher (INT64_MAX if none).
int64_t rpc_sub_silence_ms (rpc_sub_t *self);

#endif
