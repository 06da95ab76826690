/*  query: catalogd's read commands (docs/protocol/catalog-rpc.md, "Read
    commands" and "Query options"): parsing a request body into a query,
    running it against the store, and a cache of rendered results.

    A query knows which tables it reads, so the service parks it on exactly
    those. Results are rendered once per (command, arguments) and table
    indexes: the cache hands out the same JSON text until one of the tables
    the query reads changes, so repeated reads of a busy service cost a
    lookup. */
#ifndef CATALOGD_QUERY_H
#define CATALOGD_QUERY_H

#include "store.h"

#define CATALOG_QUERY_WAIT_DEFAULT_MS  300000
#define CATALOG_QUERY_WAIT_MAX_MS      600000

typedef struct _catalog_query_t catalog_query_t;
typedef struct _catalog_cache_t catalog_cache_t;

//  True when command is a read this module answers (catalog.* / health.*).
bool catalog_query_known (const char *command);

//  Parses a read request. Returns NULL with the reason in err (an HTTP 400
//  text) when a field is missing or of the wrong type.
//  Caller owns return value.
catalog_query_t *catalog_query_new (const char *command, const cJSON *body,
                                    char *err, size_t err_size);
void catalog_query_destroy (catalog_query_t **self_p);

const char *catalog_query_command (catalog_query_t *self);
//  The tables the query reads (CATALOG_TABLE_* mask).
unsigned catalog_query_tables (catalog_query_t *self);
//  MinQueryIndex (0: never blocks).
uint64_t catalog_query_min_index (catalog_query_t *self);
//  MaxQueryTime after Consul's clamping (0 -> 300000, at most 600000),
//  jitter not included.
int64_t catalog_query_wait_ms (catalog_query_t *self);
bool catalog_query_allow_stale (catalog_query_t *self);
bool catalog_query_require_consistent (catalog_query_t *self);

//  Runs the query and returns its Result as JSON text, borrowed until the
//  next run of this query or the next change of the cache; *index gets the
//  query's index (the max over its tables, never below 1). cache may be
//  NULL (no caching).
const char *catalog_query_run (catalog_query_t *self, catalog_store_t *store,
                               catalog_cache_t *cache,
                               const char *datacenter, uint64_t *index);

//  A cache of at most max_entries results and max_bytes of text.
//  Caller owns return value.
catalog_cache_t *catalog_cache_new (size_t max_entries, size_t max_bytes);
void catalog_cache_destroy (catalog_cache_t **self_p);
//  Lookups answered from the cache, and renders done.
uint64_t catalog_cache_hits (catalog_cache_t *self);
uint64_t catalog_cache_misses (catalog_cache_t *self);
size_t catalog_cache_size (catalog_cache_t *self);

#endif
