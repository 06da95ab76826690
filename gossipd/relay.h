/*  relay: when a pool runs an extra gossip round for an urgent update
    (immediate relay). An urgent update asks for a round at once; an extra
    round runs at least gap_ms after the pool's previous round (periodic or
    extra), so a burst of updates costs one round per gap, not one per
    update. It decides; the pool sends.
    Spec: docs/protocol/gossip.md, "Dissemination". */
#ifndef GOSSIPD_RELAY_H
#define GOSSIPD_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#define RELAY_GAP_DIVISOR 20   //  gap = gossip interval / 20

typedef struct _relay_t relay_t;

//  The gap for a gossip interval: interval / RELAY_GAP_DIVISOR, >= 1 ms.
int64_t relay_gap_ms (int64_t gossip_interval_ms);

//  Caller owns return value.
relay_t *relay_new (int64_t gap_ms);
void relay_destroy (relay_t **self_p);

//  An urgent update was queued: asks for an extra round.
void relay_request (relay_t *self);
//  True when an extra round should run at now_ms; the caller then runs it
//  (the request is satisfied and the round counted).
bool relay_take (relay_t *self, int64_t now_ms);
//  A periodic round was sent at now_ms: it carried every update queued so
//  far, so a pending request is satisfied too.
void relay_periodic (relay_t *self, int64_t now_ms);
//  When the pending extra round may run; INT64_MAX when none is pending.
int64_t relay_next (relay_t *self);
//  Extra rounds taken so far.
uint64_t relay_rounds (relay_t *self);

#endif
