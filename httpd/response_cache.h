/*  response_cache: rendered catalog read responses (body and headers as one
    libmicrohttpd response) keyed by the read they answer, so a repeated
    GET is served without a catalogd round trip. An entry carries a stamp
    (catalogd boot epoch and the generation of each table it read); the
    catalog link decides validity by comparing stamps, the cache only
    stores, bounds and evicts (least recently used). Entries are reference
    counted: a request holding an entry keeps its response alive after an
    eviction. */
#ifndef HTTPD_RESPONSE_CACHE_H
#define HTTPD_RESPONSE_CACHE_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_STAMP_WORDS 4

typedef struct _response_cache_t response_cache_t;
typedef struct _cache_entry_t cache_entry_t;

//  Caller owns return value.
response_cache_t *response_cache_new (size_t max_entries, size_t max_bytes);
void response_cache_destroy (response_cache_t **self_p);

//  The entry under key (borrowed; take a reference to keep it), or NULL.
//  Marks it as recently used.
cache_entry_t *response_cache_lookup (response_cache_t *self, const char *key);

//  Stores a response under key, replacing an older one; takes ownership of
//  response (body points into it). Evicts least recently used entries to
//  stay within the bounds. Returns the entry (borrowed), NULL on failure
//  (the response is then destroyed).
cache_entry_t *response_cache_insert (response_cache_t *self, const char *key,
                                      struct MHD_Response *response,
                                      const char *body, size_t len,
                                      uint64_t index,
                                      const uint64_t stamp [CACHE_STAMP_WORDS]);

//  Drops every entry (held references stay valid).
void response_cache_clear (response_cache_t *self);
size_t response_cache_size (response_cache_t *self);

//  A response held by reference but kept in no cache (shared by the
//  requests one reply answers). Takes ownership of response; NULL on
//  failure (the response is then destroyed). Caller owns the reference.
cache_entry_t *cache_entry_new (struct MHD_Response *response, const char *body,
                                size_t len, uint64_t index);
void cache_entry_ref (cache_entry_t *entry);
//  Drops a reference; the last one destroys the response.
void cache_entry_unref (void *entry);
struct MHD_Response *cache_entry_response (cache_entry_t *entry);
const char *cache_entry_body (cache_entry_t *entry, size_t *len_p);
uint64_t cache_entry_index (cache_entry_t *entry);
const uint64_t *cache_entry_stamp (cache_entry_t *entry);
//  Re-stamps an entry found still current (an all-zero stamp never
//  matches: such an entry is kept only to share its rendering).
void cache_entry_set_stamp (cache_entry_t *entry,
                            const uint64_t stamp [CACHE_STAMP_WORDS]);

#endif
