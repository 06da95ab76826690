/*  joins: the join requests of one pool in progress. A join names up to
    JOINS_ADDRESSES_MAX addresses; each ends once (state exchanged, or a
    reason); when all have ended, the requester hears how many joined and
    every failure, from joins_report (the pool's tick), never from inside
    the call that ended it. Push-pull exchanges carry a cookie naming the
    join and the address. Spec: docs/protocol/gossip.md, "Push-pull",
    "Local RPC" (join). */
#ifndef GOSSIPD_JOINS_H
#define GOSSIPD_JOINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOINS_ADDRESSES_MAX 256
#define JOINS_ADDRESS_MAX   80          //  longest address text kept

//  joined = addresses that exchanged state; error lists the failures
//  ("Failed to join <addr>: <reason>", one per line), "" when none.
typedef void (joins_done_fn) (void *arg, int joined, const char *error);

typedef struct _joins_t joins_t;

//  pool names the pool in logs. Caller owns return value.
joins_t *joins_new (const char *pool);
//  Drops the joins in progress without calling them back.
void joins_destroy (joins_t **self_p);

//  Starts a join of count addresses (at most JOINS_ADDRESSES_MAX are
//  kept). Returns its id (> 0); 0 when out of memory, after calling fn
//  back with "out of memory".
uint64_t joins_start (joins_t *self, const char *const *addresses,
                      size_t count, joins_done_fn *fn, void *arg);
//  Addresses kept for join id (0 when unknown).
size_t joins_count (joins_t *self, uint64_t id);
//  The cookie of the exchange for address index of join id (never 0).
uint64_t joins_cookie (uint64_t id, size_t index);
//  Address index of the join that cookie names ended: reason NULL or ""
//  when it joined. Returns the address text, or NULL when the cookie
//  names no join in progress (a periodic push-pull) or an address that
//  already ended.
const char *joins_end (joins_t *self, uint64_t cookie, const char *reason);
//  True when a finished join waits for joins_report.
bool joins_due (joins_t *self);
//  Calls back and frees every finished join.
void joins_report (joins_t *self);

#endif
