/*  broadcast: the transmit-limited dissemination queue. Spec:
    docs/protocol/gossip.md, "Dissemination". */
#include "broadcast.h"
#include "packet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t id;
    int transmits;
    size_t len;
    char key[PACKET_NAME_MAX + 24];
    uint8_t *msg;
} entry_t;

struct _broadcast_queue_t {
    entry_t *entries;
    size_t count;
    size_t capacity;
    size_t max_depth;
    uint64_t next_id;
};

int
broadcast_retransmit_limit (int mult, size_t n)
{
    int scale = (int) ceil (log10 ((double) n + 1.0));
    return mult * scale;
}

broadcast_queue_t *
broadcast_queue_new (size_t max_depth)
{
    broadcast_queue_t *self = (broadcast_queue_t *) calloc (1, sizeof (broadcast_queue_t));
    if (self)
        self->max_depth = max_depth ? max_depth : BROADCAST_QUEUE_MAX;
    return self;
}

void
broadcast_queue_reset (broadcast_queue_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free (self->entries[i].msg);
    self->count = 0;
}

void
broadcast_queue_destroy (broadcast_queue_t **self_p)
{
    if (self_p && *self_p) {
        broadcast_queue_reset (*self_p);
        free ((*self_p)->entries);
        free (*self_p);
        *self_p = NULL;
    }
}

size_t
broadcast_queue_size (broadcast_queue_t *self)
{
    return self->count;
}

static void
s_remove_at (broadcast_queue_t *self, size_t index)
{
    free (self->entries[index].msg);
    self->entries[index] = self->entries[--self->count];
}

//  Transmission order: fewest transmits first, newest first among equals.
static int
s_compare (const void *a, const void *b)
{
    const entry_t *x = (const entry_t *) a, *y = (const entry_t *) b;
    if (x->transmits != y->transmits)
        return x->transmits < y->transmits ? -1 : 1;
    return x->id > y->id ? -1 : x->id < y->id ? 1 : 0;
}

uint64_t
broadcast_queue_push (broadcast_queue_t *self, const char *key,
                      const uint8_t *msg, size_t len)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->entries[i].key, key) == 0) {
            s_remove_at (self, i);
            break;
        }
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        entry_t *entries = (entry_t *) realloc (self->entries, capacity * sizeof (entry_t));
        if (!entries)
            return 0;
        self->entries = entries;
        self->capacity = capacity;
    }
    uint8_t *copy = (uint8_t *) malloc (len);
    if (!copy)
        return 0;
    memcpy (copy, msg, len);
    entry_t *entry = &self->entries[self->count++];
    entry->id = ++self->next_id;
    entry->transmits = 0;
    entry->len = len;
    entry->msg = copy;
    snprintf (entry->key, sizeof entry->key, "%s", key);
    if (self->count > self->max_depth) {
        qsort (self->entries, self->count, sizeof (entry_t), s_compare);
        while (self->count > self->max_depth) {
            self->count--;
            free (self->entries[self->count].msg);
        }
    }
    return self->next_id;
}

size_t
broadcast_queue_fill (broadcast_queue_t *self, uint8_t *buf, size_t size, int limit)
{
    if (self->count == 0 || size < PACKET_MSG_HEADER)
        return 0;
    if (self->count > 1)
        qsort (self->entries, self->count, sizeof (entry_t), s_compare);
    size_t used = 0;
    for (size_t i = 0; i < self->count && size - used >= PACKET_MSG_HEADER; i++) {
        entry_t *entry = &self->entries[i];
        if (entry->len > size - used)
            continue;
        memcpy (buf + used, entry->msg, entry->len);
        used += entry->len;
        entry->transmits++;
    }
    //  Drop what reached the limit (order is restored by the next sort).
    for (size_t i = 0; i < self->count;) {
        if (self->entries[i].transmits >= limit)
            s_remove_at (self, i);
        else
            i++;
    }
    return used;
}

bool
broadcast_queue_pending (broadcast_queue_t *self, uint64_t id)
{
    return broadcast_queue_transmits (self, id) >= 0;
}

int
broadcast_queue_transmits (broadcast_queue_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->entries[i].id == id)
            return self->entries[i].transmits;
    return -1;
}
