/*  response_cache: bounded, reference-counted store of rendered catalog
    read responses (see response_cache.h for the validity contract). */
#include "response_cache.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

struct _cache_entry_t {
    struct MHD_Response *response;
    const char *body;
    size_t len;
    uint64_t index;
    uint64_t stamp [CACHE_STAMP_WORDS];
    uint64_t last_used;
    int refs;
};

struct _response_cache_t {
    zhashx_t *entries;          //  key -> cache_entry_t (one reference)
    size_t max_entries;
    size_t max_bytes;
    size_t bytes;
    uint64_t clock;             //  use counter for LRU
};

cache_entry_t *
cache_entry_new (struct MHD_Response *response, const char *body, size_t len,
                 uint64_t index)
{
    cache_entry_t *entry = calloc (1, sizeof (cache_entry_t));
    if (!entry) {
        MHD_destroy_response (response);
        return NULL;
    }
    entry->response = response;
    entry->body = body;
    entry->len = len;
    entry->index = index;
    entry->refs = 1;
    return entry;
}

void
cache_entry_ref (cache_entry_t *entry)
{
    entry->refs++;
}

void
cache_entry_unref (void *arg)
{
    cache_entry_t *entry = arg;
    if (!entry || --entry->refs > 0)
        return;
    MHD_destroy_response (entry->response);
    free (entry);
}

//  zhashx destructor: the table's reference.
static void
s_entry_destroy (void **item_p)
{
    if (item_p && *item_p) {
        cache_entry_unref (*item_p);
        *item_p = NULL;
    }
}

response_cache_t *
response_cache_new (size_t max_entries, size_t max_bytes)
{
    response_cache_t *self = calloc (1, sizeof (response_cache_t));
    if (!self)
        return NULL;
    self->entries = zhashx_new ();
    if (!self->entries) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->entries, s_entry_destroy);
    self->max_entries = max_entries ? max_entries : 1;
    self->max_bytes = max_bytes;
    return self;
}

void
response_cache_destroy (response_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    response_cache_t *self = *self_p;
    zhashx_destroy (&self->entries);
    free (self);
    *self_p = NULL;
}

static void
s_remove (response_cache_t *self, const char *key)
{
    cache_entry_t *entry = zhashx_lookup (self->entries, key);
    if (entry) {
        self->bytes -= entry->len;
        zhashx_delete (self->entries, key);
    }
}

static void
s_evict_one (response_cache_t *self)
{
    const char *oldest_key = NULL;
    uint64_t oldest = UINT64_MAX;
    for (cache_entry_t *entry = zhashx_first (self->entries); entry;
         entry = zhashx_next (self->entries)) {
        if (entry->last_used < oldest) {
            oldest = entry->last_used;
            oldest_key = zhashx_cursor (self->entries);
        }
    }
    if (oldest_key) {
        char *key = strdup (oldest_key);
        if (key) {
            s_remove (self, key);
            free (key);
        }
    }
}

cache_entry_t *
response_cache_lookup (response_cache_t *self, const char *key)
{
    cache_entry_t *entry = zhashx_lookup (self->entries, key);
    if (entry)
        entry->last_used = ++self->clock;
    return entry;
}

cache_entry_t *
response_cache_insert (response_cache_t *self, const char *key,
                       struct MHD_Response *response, const char *body,
                       size_t len, uint64_t index,
                       const uint64_t stamp [CACHE_STAMP_WORDS])
{
    if (len > self->max_bytes) {
        MHD_destroy_response (response);
        return NULL;
    }
    cache_entry_t *entry = cache_entry_new (response, body, len, index);
    if (!entry)
        return NULL;
    memcpy (entry->stamp, stamp, sizeof entry->stamp);
    entry->last_used = ++self->clock;
    s_remove (self, key);
    while (zhashx_size (self->entries) > 0
        && (zhashx_size (self->entries) + 1 > self->max_entries
         || self->bytes + len > self->max_bytes))
        s_evict_one (self);
    if (zhashx_insert (self->entries, key, entry) != 0) {
        cache_entry_unref (entry);
        return NULL;
    }
    self->bytes += len;
    return entry;
}

void
response_cache_clear (response_cache_t *self)
{
    zhashx_purge (self->entries);
    self->bytes = 0;
}

size_t
response_cache_size (response_cache_t *self)
{
    return zhashx_size (self->entries);
}

struct MHD_Response *
cache_entry_response (cache_entry_t *entry)
{
    return entry->response;
}

const char *
cache_entry_body (cache_entry_t *entry, size_t *len_p)
{
    if (len_p)
        *len_p = entry->len;
    return entry->body;
}

uint64_t
cache_entry_index (cache_entry_t *entry)
{
    return entry->index;
}

const uint64_t *
cache_entry_stamp (cache_entry_t *entry)
{
    return entry->stamp;
}

void
cache_entry_set_stamp (cache_entry_t *entry, const uint64_t stamp [CACHE_STAMP_WORDS])
{
    memcpy (entry->stamp, stamp, sizeof entry->stamp);
}
