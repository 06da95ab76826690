/*  relay: the rate bound of the immediate relay. Spec:
    docs/protocol/gossip.md, "Dissemination". */
#include "relay.h"

#include <stdlib.h>

struct _relay_t {
    int64_t gap_ms;
    int64_t last_round_ms;      //  INT64_MIN: no round yet
    bool pending;
    uint64_t rounds;
};

int64_t
relay_gap_ms (int64_t gossip_interval_ms)
{
    int64_t gap = gossip_interval_ms / RELAY_GAP_DIVISOR;
    return gap < 1 ? 1 : gap;
}

relay_t *
relay_new (int64_t gap_ms)
{
    relay_t *self = (relay_t *) calloc (1, sizeof (relay_t));
    if (!self)
        return NULL;
    self->gap_ms = gap_ms < 0 ? 0 : gap_ms;
    self->last_round_ms = INT64_MIN;
    return self;
}

void
relay_destroy (relay_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
relay_request (relay_t *self)
{
    self->pending = true;
}

int64_t
relay_next (relay_t *self)
{
    if (!self->pending)
        return INT64_MAX;
    if (self->last_round_ms == INT64_MIN)
        return INT64_MIN;
    return self->last_round_ms + self->gap_ms;
}

bool
relay_take (relay_t *self, int64_t now_ms)
{
    if (!self->pending || relay_next (self) > now_ms)
        return false;
    self->pending = false;
    self->last_round_ms = now_ms;
    self->rounds++;
    return true;
}

void
relay_periodic (relay_t *self, int64_t now_ms)
{
    self->pending = false;
    self->last_round_ms = now_ms;
}

uint64_t
relay_rounds (relay_t *self)
{
    return self->rounds;
}
