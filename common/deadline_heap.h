/*  deadline_heap: a binary min-heap of (deadline, id) pairs, the timer
    queue of callers that track many requests (rpc_client, forwarderd's
    pool). Deletion is lazy: a caller that forgets an id leaves its entry
    here and skips it when it reaches the top (peek, check, pop). */
#ifndef MRD_DEADLINE_HEAP_H
#define MRD_DEADLINE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _deadline_heap_t deadline_heap_t;

//  Caller owns return value; NULL when out of memory.
deadline_heap_t *deadline_heap_new (void);
void deadline_heap_destroy (deadline_heap_t **self_p);

//  Adds an entry. Returns 0, or -1 when out of memory.
int deadline_heap_push (deadline_heap_t *self, int64_t deadline, uint64_t id);
//  The earliest entry; false when the heap is empty.
bool deadline_heap_peek (deadline_heap_t *self, int64_t *deadline, uint64_t *id);
//  Removes the earliest entry (no-op when empty).
void deadline_heap_pop (deadline_heap_t *self);
size_t deadline_heap_size (deadline_heap_t *self);
void deadline_heap_clear (deadline_heap_t *self);

#endif
