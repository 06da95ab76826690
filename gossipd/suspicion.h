/*  suspicion: Lifeguard's suspicion timer of one suspected member: starts
    at max and shrinks logarithmically towards min with each independent
    confirmation (memberlist suspicion.go). Spec: docs/protocol/gossip.md,
    "Suspicion (Lifeguard)". Pure arithmetic on a monotonic clock in ms. */
#ifndef GOSSIPD_SUSPICION_H
#define GOSSIPD_SUSPICION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUSPICION_MAX_MULT 6

//  min = mult x max(1, log10(n)) x probe interval (ms).
int64_t suspicion_min_ms (int mult, size_t n, int64_t probe_interval_ms);
//  Confirmations wanted: mult - 2, or 0 when n - 2 < that.
int suspicion_wanted (int mult, size_t n);
//  Timeout after c confirmations: max - log(c+1)/log(k+1) x (max - min),
//  never below min; min when k < 1.
int64_t suspicion_timeout_ms (int64_t min_ms, int64_t max_ms, int k, int c);

typedef struct _suspicion_t suspicion_t;

//  A suspicion raised by from at now_ms. Caller owns return value.
suspicion_t *suspicion_new (const char *from, int k, int64_t min_ms,
                            int64_t max_ms, int64_t now_ms);
void suspicion_destroy (suspicion_t **self_p);

//  Counts a confirmation from an accuser not seen before (the first
//  accuser does not count, and nothing counts past k). Returns true when
//  it counted (the timeout shrank).
bool suspicion_confirm (suspicion_t *self, const char *from);
int suspicion_confirmations (suspicion_t *self);
//  When the member is to be declared failed (monotonic ms).
int64_t suspicion_deadline (suspicion_t *self);

#endif
