/*  suspicion: Lifeguard's dynamic suspicion timeout. Spec:
    docs/protocol/gossip.md, "Suspicion (Lifeguard)". */
#include "suspicion.h"
#include "packet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _suspicion_t {
    int k;
    int confirmations;
    int64_t min_ms;
    int64_t max_ms;
    int64_t start_ms;
    int64_t timeout_ms;
    char (*accusers)[PACKET_NAME_MAX + 1];     //  first accuser + k confirmers
    int accuser_count;
};

int64_t
suspicion_min_ms (int mult, size_t n, int64_t probe_interval_ms)
{
    double scale = log10 (n > 1 ? (double) n : 1.0);
    if (scale < 1.0)
        scale = 1.0;
    //  memberlist keeps the node scale to thousandths.
    int64_t scale_milli = (int64_t) (scale * 1000.0);
    return (int64_t) mult * scale_milli * probe_interval_ms / 1000;
}

int
suspicion_wanted (int mult, size_t n)
{
    int k = mult - 2;
    if ((int64_t) n - 2 < k)
        k = 0;
    return k < 0 ? 0 : k;
}

int64_t
suspicion_timeout_ms (int64_t min_ms, int64_t max_ms, int k, int c)
{
    if (k < 1)
        return min_ms;
    double frac = log ((double) c + 1.0) / log ((double) k + 1.0);
    double raw = (double) max_ms - frac * (double) (max_ms - min_ms);
    int64_t timeout = (int64_t) floor (raw);
    return timeout < min_ms ? min_ms : timeout;
}

suspicion_t *
suspicion_new (const char *from, int k, int64_t min_ms, int64_t max_ms,
               int64_t now_ms)
{
    suspicion_t *self = (suspicion_t *) calloc (1, sizeof (suspicion_t));
    if (!self)
        return NULL;
    self->k = k < 0 ? 0 : k;
    self->accusers = calloc ((size_t) self->k + 1, sizeof *self->accusers);
    if (!self->accusers) {
        free (self);
        return NULL;
    }
    snprintf (self->accusers[0], sizeof self->accusers[0], "%s", from);
    self->accuser_count = 1;
    self->min_ms = min_ms;
    self->max_ms = max_ms < min_ms ? min_ms : max_ms;
    self->start_ms = now_ms;
    self->timeout_ms = suspicion_timeout_ms (self->min_ms, self->max_ms, self->k, 0);
    return self;
}

void
suspicion_destroy (suspicion_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->accusers);
        free (*self_p);
        *self_p = NULL;
    }
}

bool
suspicion_confirm (suspicion_t *self, const char *from)
{
    if (self->confirmations >= self->k)
        return false;
    for (int i = 0; i < self->accuser_count; i++)
        if (strcmp (self->accusers[i], from) == 0)
            return false;
    snprintf (self->accusers[self->accuser_count], sizeof self->accusers[0], "%s", from);
    self->accuser_count++;
    self->confirmations++;
    self->timeout_ms = suspicion_timeout_ms (self->min_ms, self->max_ms, self->k,
                                             self->confirmations);
    return true;
}

int
suspicion_confirmations (suspicion_t *self)
{
    return self->confirmations;
}

int64_t
suspicion_deadline (suspicion_t *self)
{
    return self->start_ms + self->timeout_ms;
}
