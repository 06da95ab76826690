/*  watch: parked blocking reads by table and by deadline (see watch.h).
    Each waiter sits in one intrusive list per table of its mask and in a
    binary min-heap of deadlines; leaving is O(tables + log n). */
#include "watch.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

struct _catalog_waiter_t {
    void *item;
    unsigned tables;
    int64_t deadline;
    size_t heap_pos;
    bool taken;
    catalog_waiter_t *prev[CATALOG_WATCH_TABLES];
    catalog_waiter_t *next[CATALOG_WATCH_TABLES];
};

struct _catalog_watch_t {
    catalog_waiter_t *heads[CATALOG_WATCH_TABLES];
    catalog_waiter_t **heap;
    size_t size;
    size_t capacity;
};

catalog_watch_t *
catalog_watch_new (void)
{
    catalog_watch_t *self = (catalog_watch_t *) calloc (1, sizeof *self);
    assert (self);
    return self;
}

void
catalog_watch_destroy (catalog_watch_t **self_p)
{
    assert (self_p);
    catalog_watch_t *self = *self_p;
    if (self) {
        for (size_t i = 0; i < self->size; i++)
            free (self->heap[i]);
        free (self->heap);
        free (self);
        *self_p = NULL;
    }
}

//  Heap of deadlines ---------------------------------------------------

static void
s_heap_set (catalog_watch_t *self, size_t pos, catalog_waiter_t *waiter)
{
    self->heap[pos] = waiter;
    waiter->heap_pos = pos;
}

static void
s_heap_up (catalog_watch_t *self, size_t pos)
{
    catalog_waiter_t *waiter = self->heap[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (self->heap[parent]->deadline <= waiter->deadline)
            break;
        s_heap_set (self, pos, self->heap[parent]);
        pos = parent;
    }
    s_heap_set (self, pos, waiter);
}

static void
s_heap_down (catalog_watch_t *self, size_t pos)
{
    catalog_waiter_t *waiter = self->heap[pos];
    while (true) {
        size_t child = pos * 2 + 1;
        if (child >= self->size)
            break;
        if (child + 1 < self->size
            && self->heap[child + 1]->deadline < self->heap[child]->deadline)
            child++;
        if (waiter->deadline <= self->heap[child]->deadline)
            break;
        s_heap_set (self, pos, self->heap[child]);
        pos = child;
    }
    s_heap_set (self, pos, waiter);
}

static void
s_heap_remove (catalog_watch_t *self, catalog_waiter_t *waiter)
{
    size_t pos = waiter->heap_pos;
    assert (pos < self->size && self->heap[pos] == waiter);
    self->size--;
    if (pos == self->size)
        return;
    catalog_waiter_t *moved = self->heap[self->size];
    s_heap_set (self, pos, moved);
    s_heap_down (self, pos);
    s_heap_up (self, moved->heap_pos);
}

//  Table lists ---------------------------------------------------------

static void
s_unlink (catalog_watch_t *self, catalog_waiter_t *waiter)
{
    for (int t = 0; t < CATALOG_WATCH_TABLES; t++) {
        if (!(waiter->tables & (1u << t)))
            continue;
        if (waiter->prev[t])
            waiter->prev[t]->next[t] = waiter->next[t];
        else
            self->heads[t] = waiter->next[t];
        if (waiter->next[t])
            waiter->next[t]->prev[t] = waiter->prev[t];
    }
}

static void
s_remove (catalog_watch_t *self, catalog_waiter_t *waiter)
{
    s_unlink (self, waiter);
    s_heap_remove (self, waiter);
}

catalog_waiter_t *
catalog_watch_park (catalog_watch_t *self, void *item, unsigned tables,
                    int64_t deadline)
{
    assert (self);
    assert (tables && tables < (1u << CATALOG_WATCH_TABLES));
    catalog_waiter_t *waiter = (catalog_waiter_t *) calloc (1, sizeof *waiter);
    assert (waiter);
    waiter->item = item;
    waiter->tables = tables;
    waiter->deadline = deadline;
    for (int t = 0; t < CATALOG_WATCH_TABLES; t++) {
        if (!(tables & (1u << t)))
            continue;
        waiter->next[t] = self->heads[t];
        if (self->heads[t])
            self->heads[t]->prev[t] = waiter;
        self->heads[t] = waiter;
    }
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        catalog_waiter_t **heap = (catalog_waiter_t **) realloc (
            self->heap, capacity * sizeof *heap);
        assert (heap);
        self->heap = heap;
        self->capacity = capacity;
    }
    s_heap_set (self, self->size++, waiter);
    s_heap_up (self, self->size - 1);
    return waiter;
}

void
catalog_watch_cancel (catalog_watch_t *self, catalog_waiter_t **waiter_p)
{
    assert (waiter_p);
    if (*waiter_p) {
        s_remove (self, *waiter_p);
        free (*waiter_p);
        *waiter_p = NULL;
    }
}

//  Removes the collected waiters from the set, then calls fn on each item:
//  callbacks run on a consistent set and may park again.
static size_t
s_release (catalog_watch_t *self, catalog_waiter_t **taken, size_t count,
           bool remove, catalog_watch_fn *fn, void *arg)
{
    void **items = (void **) malloc ((count ? count : 1) * sizeof *items);
    assert (items);
    for (size_t i = 0; i < count; i++) {
        items[i] = taken[i]->item;
        if (remove)
            s_remove (self, taken[i]);
        free (taken[i]);
    }
    for (size_t i = 0; i < count; i++)
        fn (arg, items[i]);
    free (items);
    return count;
}

size_t
catalog_watch_fire (catalog_watch_t *self, unsigned tables,
                    catalog_watch_fn *fn, void *arg)
{
    assert (self && fn);
    catalog_waiter_t **taken = NULL;
    size_t count = 0, capacity = 0;
    for (int t = 0; t < CATALOG_WATCH_TABLES; t++) {
        if (!(tables & (1u << t)))
            continue;
        for (catalog_waiter_t *waiter = self->heads[t]; waiter;
             waiter = waiter->next[t]) {
            if (waiter->taken)
                continue;
            waiter->taken = true;
            if (count == capacity) {
                capacity = capacity ? capacity * 2 : 16;
                taken = (catalog_waiter_t **) realloc (taken,
                                                       capacity * sizeof *taken);
                assert (taken);
            }
            taken[count++] = waiter;
        }
    }
    s_release (self, taken, count, true, fn, arg);
    free (taken);
    return count;
}

size_t
catalog_watch_expire (catalog_watch_t *self, int64_t now,
                      catalog_watch_fn *fn, void *arg)
{
    assert (self && fn);
    //  All expired waiters are taken before any callback, so an item that
    //  fn parks again waits for the next call.
    catalog_waiter_t **taken = NULL;
    size_t count = 0, capacity = 0;
    while (self->size && self->heap[0]->deadline <= now) {
        catalog_waiter_t *first = self->heap[0];
        s_remove (self, first);
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            taken = (catalog_waiter_t **) realloc (taken,
                                                   capacity * sizeof *taken);
            assert (taken);
        }
        taken[count++] = first;
    }
    s_release (self, taken, count, false, fn, arg);
    free (taken);
    return count;
}

size_t
catalog_watch_drain (catalog_watch_t *self, catalog_watch_fn *fn, void *arg)
{
    assert (self && fn);
    size_t count = self->size;
    if (count == 0)
        return 0;
    catalog_waiter_t **taken = (catalog_waiter_t **) malloc (count * sizeof *taken);
    assert (taken);
    for (size_t i = 0; i < count; i++)
        taken[i] = self->heap[i];
    s_release (self, taken, count, true, fn, arg);
    free (taken);
    return count;
}

int64_t
catalog_watch_next_deadline (catalog_watch_t *self)
{
    return self->size ? self->heap[0]->deadline : -1;
}

size_t
catalog_watch_size (catalog_watch_t *self)
{
    return self->size;
}
