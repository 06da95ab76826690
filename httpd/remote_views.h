/*  remote_views: httpd's views of reads it forwarded to forwarderd,
    answered again without crossing the WAN and kept current by a watch (a
    blocking query at the view's index) on the remote datacenter.
    Specified in docs/protocol/server-rpc.md, "Remote views (httpd)".
    A view is servable only while its watch is outstanding; a watch error,
    timeout or an idle view ends it. The owner drops views on every write it
    forwards and when forwarderd restarts or goes silent; a forwarded read
    started before such a drop (an older generation) creates no view. */
#ifndef HTTPD_REMOTE_VIEWS_H
#define HTTPD_REMOTE_VIEWS_H

#include "request.h"
#include "response_cache.h"
#include "rpc_client.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define REMOTE_VIEWS_MAX        256
#define REMOTE_VIEW_WAIT_MS     60000   //  MaxQueryTime of a watch
#define REMOTE_VIEW_IDLE_MS     60000   //  unread this long: not re-armed

typedef struct _remote_views_t remote_views_t;

//  Watches go through client (borrowed; must outlive the views).
//  Caller owns return value.
remote_views_t *remote_views_new (rpc_client_t *client, size_t max_views);
//  Cancels every watch.
void remote_views_destroy (remote_views_t **self_p);

//  The response of the view under key if it may answer a read with
//  ?index=min_index (0: not blocking), else NULL. Borrowed: take a
//  reference to keep it. Marks the view as read.
cache_entry_t *remote_views_lookup (remote_views_t *self, const char *key,
                                    uint64_t min_index);

//  The generation a forwarded read records when it is sent.
uint64_t remote_views_generation (remote_views_t *self);

//  A forwarded read answered: entry (a reference is taken) with the reply's
//  index. Creates the view under key and sends its watch: command with body
//  (the read's body as sent, with Datacenter and AllowStale; borrowed and
//  copied; the watch replaces its other query options) and pretty/meta as
//  the read had them. Nothing happens when the generation moved since the
//  read was sent, or the index is 0. A view already watched keeps its
//  watch and takes entry if it is newer.
void remote_views_offer (remote_views_t *self, const char *key, uint64_t generation,
                         const char *command, const cJSON *body, bool pretty,
                         bool meta, cache_entry_t *entry, uint64_t index);

//  Drops the views of datacenter dc (all when dc is NULL) and moves the
//  generation on.
void remote_views_drop (remote_views_t *self, const char *dc);

size_t remote_views_size (remote_views_t *self);

#endif
