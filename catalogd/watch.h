/*  watch: the set of parked blocking reads (docs/protocol/catalog-rpc.md,
    "Query options"). A parked item waits on a mask of tables and has a
    deadline; it leaves the set when one of its tables changes (fire) or
    its deadline passes (expire). No threads and no timers of its own: the
    owner runs one timer at catalog_watch_next_deadline.

    Lists per table make a change cost only the waiters of that table; a
    min-heap orders deadlines. Items are opaque; the set never frees them. */
#ifndef CATALOGD_WATCH_H
#define CATALOGD_WATCH_H

#include <stddef.h>
#include <stdint.h>

//  How many table bits a mask may use.
#define CATALOG_WATCH_TABLES 16

typedef struct _catalog_watch_t catalog_watch_t;
typedef struct _catalog_waiter_t catalog_waiter_t;

//  Called for each item leaving the set; it may park items again.
typedef void (catalog_watch_fn) (void *arg, void *item);

//  Caller owns return value.
catalog_watch_t *catalog_watch_new (void);
//  Frees the set; items still parked are dropped without a callback.
void catalog_watch_destroy (catalog_watch_t **self_p);

//  Parks item until a table of mask changes or deadline (ms, the owner's
//  clock) passes. Returns a handle for catalog_watch_cancel.
catalog_waiter_t *catalog_watch_park (catalog_watch_t *self, void *item,
                                      unsigned tables, int64_t deadline);
//  Removes a parked item without a callback; nulls *waiter_p.
void catalog_watch_cancel (catalog_watch_t *self,
                           catalog_waiter_t **waiter_p);

//  Takes every item parked on a table of mask, then calls fn for each.
//  Returns how many left.
size_t catalog_watch_fire (catalog_watch_t *self, unsigned tables,
                           catalog_watch_fn *fn, void *arg);
//  Takes every item whose deadline is <= now, then calls fn for each.
size_t catalog_watch_expire (catalog_watch_t *self, int64_t now,
                             catalog_watch_fn *fn, void *arg);
//  Takes every item (shutdown), then calls fn for each.
size_t catalog_watch_drain (catalog_watch_t *self, catalog_watch_fn *fn,
                            void *arg);

//  The nearest deadline, or -1 when nothing is parked.
int64_t catalog_watch_next_deadline (catalog_watch_t *self);
size_t catalog_watch_size (catalog_watch_t *self);

#endif
