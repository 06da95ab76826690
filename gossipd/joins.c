/*  joins: join requests in progress. Spec: docs/protocol/gossip.md,
    "Push-pull", "Local RPC" (join). */
#include "joins.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct _join_t {
    struct _join_t *next;
    uint64_t id;
    size_t pending;
    int joined;
    char (*addresses)[JOINS_ADDRESS_MAX];
    bool *ended;
    size_t count;
    char *errors;               //  malloc'd, one line per failure
    joins_done_fn *fn;
    void *arg;
} join_t;

struct _joins_t {
    char pool[8];
    join_t *joins;
    uint64_t next_id;
    bool due;
};

joins_t *
joins_new (const char *pool)
{
    joins_t *self = (joins_t *) calloc (1, sizeof (joins_t));
    if (self)
        snprintf (self->pool, sizeof self->pool, "%s", pool ? pool : "");
    return self;
}

static void
s_join_free (join_t *join)
{
    free (join->errors);
    free (join->addresses);
    free (join->ended);
    free (join);
}

void
joins_destroy (joins_t **self_p)
{
    if (self_p && *self_p) {
        joins_t *self = *self_p;
        while (self->joins) {
            join_t *next = self->joins->next;
            s_join_free (self->joins);
            self->joins = next;
        }
        free (self);
        *self_p = NULL;
    }
}

static join_t *
s_find (joins_t *self, uint64_t id)
{
    for (join_t *join = self->joins; join; join = join->next)
        if (join->id == id)
            return join;
    return NULL;
}

uint64_t
joins_start (joins_t *self, const char *const *addresses, size_t count,
             joins_done_fn *fn, void *arg)
{
    if (count > JOINS_ADDRESSES_MAX)
        count = JOINS_ADDRESSES_MAX;
    join_t *join = (join_t *) calloc (1, sizeof (join_t));
    if (join) {
        join->addresses = calloc (count ? count : 1, sizeof *join->addresses);
        join->ended = (bool *) calloc (count ? count : 1, sizeof (bool));
    }
    if (!join || !join->addresses || !join->ended) {
        if (join)
            s_join_free (join);
        fn (arg, 0, "out of memory");
        return 0;
    }
    join->id = ++self->next_id;
    join->fn = fn;
    join->arg = arg;
    join->count = join->pending = count;
    for (size_t i = 0; i < count; i++)
        snprintf (join->addresses[i], sizeof join->addresses[i], "%s", addresses[i]);
    join->next = self->joins;
    self->joins = join;
    if (count == 0)
        self->due = true;
    return join->id;
}

size_t
joins_count (joins_t *self, uint64_t id)
{
    join_t *join = s_find (self, id);
    return join ? join->count : 0;
}

uint64_t
joins_cookie (uint64_t id, size_t index)
{
    return (id << 16) | ((uint64_t) index + 1);
}

static void
s_add_error (join_t *join, const char *addr, const char *reason)
{
    size_t have = join->errors ? strlen (join->errors) : 0;
    size_t add = strlen (addr) + strlen (reason) + 32;
    char *errors = (char *) realloc (join->errors, have + add);
    if (!errors)
        return;
    snprintf (errors + have, add, "%sFailed to join %s: %s", have ? "\n" : "", addr, reason);
    join->errors = errors;
}

const char *
joins_end (joins_t *self, uint64_t cookie, const char *reason)
{
    join_t *join = cookie ? s_find (self, cookie >> 16) : NULL;
    size_t index = (size_t) (cookie & 0xFFFF);
    if (!join || index < 1 || index > join->count || join->ended[index - 1])
        return NULL;
    join->ended[index - 1] = true;
    const char *addr = join->addresses[index - 1];
    if (reason && *reason)
        s_add_error (join, addr, reason);
    else
        join->joined++;
    if (--join->pending == 0)
        self->due = true;
    return addr;
}

bool
joins_due (joins_t *self)
{
    return self->due;
}

void
joins_report (joins_t *self)
{
    if (!self->due)
        return;
    self->due = false;
    join_t **link = &self->joins;
    while (*link) {
        join_t *join = *link;
        if (join->pending > 0) {
            link = &join->next;
            continue;
        }
        *link = join->next;
        log_info ("join done pool=%s joined=%d of=%zu", self->pool, join->joined, join->count);
        join->fn (join->arg, join->joined, join->errors ? join->errors : "");
        s_join_free (join);
    }
}
