/*  broadcast: the dissemination queue of one pool (memberlist's
    TransmitLimitedQueue). Updates are encoded messages keyed by the node
    (or operation) they are about; a newer update replaces an older one with
    the same key. Packets take the least transmitted first (newest among
    equals); an update is dropped once sent `limit` times.
    Spec: docs/protocol/gossip.md, "Dissemination". */
#ifndef GOSSIPD_BROADCAST_H
#define GOSSIPD_BROADCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROADCAST_QUEUE_MAX 4096

typedef struct _broadcast_queue_t broadcast_queue_t;

//  retransmit limit = mult x ceil(log10(n + 1)).
int broadcast_retransmit_limit (int mult, size_t n);

//  A queue keeping at most max_depth updates. Caller owns return value.
broadcast_queue_t *broadcast_queue_new (size_t max_depth);
void broadcast_queue_destroy (broadcast_queue_t **self_p);

//  Queues one encoded message (type, length, payload) about key, replacing
//  the queued one with the same key. When the queue is over its depth, the
//  most transmitted (oldest among equals) updates are dropped. Returns the
//  update's id (> 0), or 0 when out of memory.
uint64_t broadcast_queue_push (broadcast_queue_t *self, const char *key,
                               const uint8_t *msg, size_t len);

//  Appends queued messages to buf while they fit in size bytes; each taken
//  counts as one transmission and is dropped when it reaches limit.
//  Returns the bytes written.
size_t broadcast_queue_fill (broadcast_queue_t *self, uint8_t *buf,
                             size_t size, int limit);

//  True while the update with this id is still queued.
bool broadcast_queue_pending (broadcast_queue_t *self, uint64_t id);
//  Transmissions so far of the update with this id (-1 when gone).
int broadcast_queue_transmits (broadcast_queue_t *self, uint64_t id);

size_t broadcast_queue_size (broadcast_queue_t *self);
//  Drops every update.
void broadcast_queue_reset (broadcast_queue_t *self);

#endif
