/*  member: the member table of one pool and Consul's member JSON.
    Spec: docs/protocol/gossip.md. */
#include "member.h"
#include "crypto.h"

#include <czmq.h>

struct _members_t {
    member_t **items;
    size_t count;
    size_t capacity;
    zhashx_t *by_name;          //  name -> index + 1 (as a pointer value)
};

const char *
member_state_name (member_state_t state)
{
    switch (state) {
        case MEMBER_ALIVE: return "alive";
        case MEMBER_SUSPECT: return "suspect";
        case MEMBER_DEAD: return "failed";
        case MEMBER_LEFT: return "left";
    }
    return "none";
}

int
member_status (const member_t *member)
{
    switch (member->state) {
        case MEMBER_ALIVE:
        case MEMBER_SUSPECT: return MEMBER_STATUS_ALIVE;
        case MEMBER_DEAD: return MEMBER_STATUS_FAILED;
        case MEMBER_LEFT: return MEMBER_STATUS_LEFT;
    }
    return MEMBER_STATUS_NONE;
}

cJSON *
member_json (const member_t *member, int status)
{
    char ip[64];
    packet_addr_ip (&member->addr, ip, sizeof ip);
    cJSON *json = cJSON_CreateObject ();
    cJSON_AddStringToObject (json, "Name", member->name);
    cJSON_AddStringToObject (json, "Addr", ip);
    cJSON_AddNumberToObject (json, "Port", member->addr.port);
    cJSON_AddItemToObject (json, "Tags", packet_tags_json (member->tags, member->tags_len));
    cJSON_AddNumberToObject (json, "Status", status);
    cJSON_AddNumberToObject (json, "ProtocolMin", 1);
    cJSON_AddNumberToObject (json, "ProtocolMax", 5);
    cJSON_AddNumberToObject (json, "ProtocolCur", 2);
    cJSON_AddNumberToObject (json, "DelegateMin", 2);
    cJSON_AddNumberToObject (json, "DelegateMax", 5);
    cJSON_AddNumberToObject (json, "DelegateCur", 4);
    return json;
}

const char *
member_tag (const member_t *member, const char *key, char *buf, size_t size)
{
    if (packet_tags_get (member->tags, member->tags_len, key, buf, size) != 0)
        buf[0] = '\0';
    return buf;
}

members_t *
members_new (void)
{
    members_t *self = (members_t *) calloc (1, sizeof (members_t));
    if (!self)
        return NULL;
    self->by_name = zhashx_new ();
    if (!self->by_name) {
        free (self);
        return NULL;
    }
    return self;
}

static void
s_member_free (member_t **member_p)
{
    suspicion_destroy (&(*member_p)->suspicion);
    free (*member_p);
    *member_p = NULL;
}

void
members_destroy (members_t **self_p)
{
    if (self_p && *self_p) {
        members_t *self = *self_p;
        for (size_t i = 0; i < self->count; i++)
            s_member_free (&self->items[i]);
        free (self->items);
        zhashx_destroy (&self->by_name);
        free (self);
        *self_p = NULL;
    }
}

member_t *
members_lookup (members_t *self, const char *name)
{
    uintptr_t slot = (uintptr_t) zhashx_lookup (self->by_name, name);
    return slot ? self->items[slot - 1] : NULL;
}

member_t *
members_insert (members_t *self, const char *name)
{
    if (members_lookup (self, name) || strlen (name) > PACKET_NAME_MAX)
        return NULL;
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        member_t **items = (member_t **) realloc (self->items, capacity * sizeof (member_t *));
        if (!items)
            return NULL;
        self->items = items;
        self->capacity = capacity;
    }
    member_t *member = (member_t *) calloc (1, sizeof (member_t));
    if (!member)
        return NULL;
    snprintf (member->name, sizeof member->name, "%s", name);
    member->state = MEMBER_ALIVE;
    if (zhashx_insert (self->by_name, member->name, (void *) (uintptr_t) (self->count + 1)) != 0) {
        free (member);
        return NULL;
    }
    self->items[self->count++] = member;
    return member;
}

void
members_remove (members_t *self, const char *name)
{
    uintptr_t slot = (uintptr_t) zhashx_lookup (self->by_name, name);
    if (!slot)
        return;
    size_t index = slot - 1;
    zhashx_delete (self->by_name, name);
    s_member_free (&self->items[index]);
    self->count--;
    if (index != self->count) {
        self->items[index] = self->items[self->count];
        zhashx_update (self->by_name, self->items[index]->name,
                       (void *) (uintptr_t) (index + 1));
    }
}

size_t
members_size (members_t *self)
{
    return self->count;
}

member_t *
members_at (members_t *self, size_t index)
{
    return index < self->count ? self->items[index] : NULL;
}

static int
s_compare_size (const void *a, const void *b)
{
    size_t x = *(const size_t *) a, y = *(const size_t *) b;
    return x < y ? -1 : x > y;
}

size_t
members_random (members_t *self, member_t **out, size_t k,
                members_filter_fn *filter, void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++)
        if (!filter || filter (arg, self->items[i]))
            n++;
    if (k > MEMBERS_RANDOM_MAX)
        k = MEMBERS_RANDOM_MAX;
    if (k > n)
        k = n;
    if (k == 0)
        return 0;
    //  Floyd's sampling: k distinct ranks among the n that pass, with k
    //  random numbers (each one a getrandom call) instead of n.
    size_t ranks[MEMBERS_RANDOM_MAX];
    for (size_t j = n - k, picked = 0; j < n; j++) {
        size_t rank = crypto_random_below ((uint32_t) (j + 1));
        for (size_t i = 0; i < picked; i++)
            if (ranks[i] == rank) {
                rank = j;
                break;
            }
        ranks[picked++] = rank;
    }
    qsort (ranks, k, sizeof ranks[0], s_compare_size);
    size_t rank = 0, next = 0;
    for (size_t i = 0; i < self->count && next < k; i++) {
        member_t *member = self->items[i];
        if (filter && !filter (arg, member))
            continue;
        if (rank++ == ranks[next])
            out[next++] = member;
    }
    //  Random order too (the ranks were sorted).
    for (size_t i = k; i > 1; i--) {
        size_t j = crypto_random_below ((uint32_t) i);
        member_t *swap = out[i - 1];
        out[i - 1] = out[j];
        out[j] = swap;
    }
    return k;
}
