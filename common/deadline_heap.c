/*  deadline_heap: binary min-heap of (deadline, id); see the header. */
#include "deadline_heap.h"

#include <assert.h>
#include <stdlib.h>

typedef struct {
    int64_t deadline;
    uint64_t id;
} s_item_t;

struct _deadline_heap_t {
    s_item_t *items;
    size_t size;
    size_t capacity;
};

deadline_heap_t *
deadline_heap_new (void)
{
    return (deadline_heap_t *) calloc (1, sizeof (deadline_heap_t));
}

void
deadline_heap_destroy (deadline_heap_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->items);
        free (*self_p);
        *self_p = NULL;
    }
}

int
deadline_heap_push (deadline_heap_t *self, int64_t deadline, uint64_t id)
{
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        s_item_t *items = (s_item_t *) realloc (self->items, capacity * sizeof (s_item_t));
        if (!items)
            return -1;
        self->items = items;
        self->capacity = capacity;
    }
    size_t at = self->size++;
    while (at > 0) {
        size_t parent = (at - 1) / 2;
        if (self->items[parent].deadline <= deadline)
            break;
        self->items[at] = self->items[parent];
        at = parent;
    }
    self->items[at].deadline = deadline;
    self->items[at].id = id;
    return 0;
}

bool
deadline_heap_peek (deadline_heap_t *self, int64_t *deadline, uint64_t *id)
{
    if (!self->size)
        return false;
    if (deadline)
        *deadline = self->items[0].deadline;
    if (id)
        *id = self->items[0].id;
    return true;
}

void
deadline_heap_pop (deadline_heap_t *self)
{
    if (!self->size)
        return;
    s_item_t last = self->items[--self->size];
    size_t at = 0;
    for (;;) {
        size_t child = at * 2 + 1;
        if (child >= self->size)
            break;
        if (child + 1 < self->size
            && self->items[child + 1].deadline < self->items[child].deadline)
            child++;
        if (last.deadline <= self->items[child].deadline)
            break;
        self->items[at] = self->items[child];
        at = child;
    }
    if (self->size)
        self->items[at] = last;
}

size_t
deadline_heap_size (deadline_heap_t *self)
{
    return self->size;
}

void
deadline_heap_clear (deadline_heap_t *self)
{
    self->size = 0;
}
