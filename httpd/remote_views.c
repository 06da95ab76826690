/*  remote_views: forwarded reads kept current by watches (see
    remote_views.h; spec: docs/protocol/server-rpc.md, "Remote views
    (httpd)"). */
#include "remote_views.h"
#include "log.h"
#include "read_reply.h"
#include "timeutil.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    remote_views_t *owner;
    char *key;
    char *dc;
    char command [ENVELOPE_COMMAND_MAX + 1];
    cJSON *body;                //  the read, without query options
    bool stale;
    bool pretty;
    bool meta;
    cache_entry_t *entry;       //  one reference
    uint64_t index;
    int64_t read_ms;            //  last served (or created)
    uint64_t used;              //  LRU clock
    uint64_t watch_id;          //  0: no watch outstanding
    bool sending;               //  inside rpc_client_send
    bool sync_done;
} s_view_t;

struct _remote_views_t {
    rpc_client_t *client;
    zhashx_t *views;            //  key -> s_view_t
    size_t max_views;
    uint64_t generation;
    uint64_t clock;
};

static void
s_view_free (s_view_t *view)
{
    if (view->entry)
        cache_entry_unref (view->entry);
    cJSON_Delete (view->body);
    free (view->key);
    free (view->dc);
    free (view);
}

//  Takes the view out of the table and frees it; a watch still out is
//  cancelled (its answer, if any, is discarded by the client).
static void
s_view_drop (remote_views_t *self, s_view_t *view)
{
    zhashx_delete (self->views, view->key);
    if (view->watch_id)
        rpc_client_cancel (self->client, view->watch_id);
    s_view_free (view);
}

remote_views_t *
remote_views_new (rpc_client_t *client, size_t max_views)
{
    remote_views_t *self = calloc (1, sizeof (remote_views_t));
    if (!self)
        return NULL;
    self->views = zhashx_new ();
    if (!self->views) {
        free (self);
        return NULL;
    }
    self->client = client;
    self->max_views = max_views > 0 ? max_views : 1;
    self->generation = 1;
    return self;
}

void
remote_views_destroy (remote_views_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    remote_views_t *self = *self_p;
    remote_views_drop (self, NULL);
    zhashx_destroy (&self->views);
    free (self);
    *self_p = NULL;
}

cache_entry_t *
remote_views_lookup (remote_views_t *self, const char *key, uint64_t min_index)
{
    s_view_t *view = zhashx_lookup (self->views, key);
    if (!view || !view->watch_id || !view->entry)
        return NULL;
    if (min_index > 0 && view->index <= min_index)
        return NULL;
    view->read_ms = time_mono_ms ();
    view->used = ++self->clock;
    return view->entry;
}

uint64_t
remote_views_generation (remote_views_t *self)
{
    return self->generation;
}

static void s_watch_reply (void *arg, int status, envelope_t *reply);

//  Sends the view's watch. Returns 0, or -1 when it could not be sent (the
//  view must then be dropped).
static int
s_watch_send (s_view_t *view)
{
    remote_views_t *self = view->owner;
    cJSON *body = cJSON_Duplicate (view->body, true);
    if (!body)
        return -1;
    query_opts_t opts = { .min_index = view->index, .wait_ms = REMOTE_VIEW_WAIT_MS,
                          .stale = view->stale };
    query_opts_to_body (&opts, body);
    int64_t timeout = REMOTE_VIEW_WAIT_MS + REMOTE_VIEW_WAIT_MS / 16 + 5000;
    view->sending = true;
    view->sync_done = false;
    uint64_t id = rpc_client_send (self->client, view->command, &body, timeout,
                                   s_watch_reply, view);
    view->sending = false;
    cJSON_Delete (body);
    if (view->sync_done || id == 0)
        return -1;
    view->watch_id = id;
    return 0;
}

static void
s_watch_reply (void *arg, int status, envelope_t *reply)
{
    s_view_t *view = arg;
    if (view->sending) {
        view->sync_done = true;
        return;
    }
    view->watch_id = 0;
    remote_views_t *self = view->owner;
    bool rep = status == RPC_OK && reply && reply->type == ENVELOPE_REP
            && cJSON_GetObjectItemCaseSensitive (reply->body, "Result");
    uint64_t index = rep ? read_reply_index (reply->body) : 0;
    if (index == 0) {
        log_debug ("remote view ended command=%s dc=%s status=%d", view->command,
                   view->dc, status);
        s_view_drop (self, view);
        return;
    }
    if (index != view->index) {
        char *text = NULL;
        size_t len = 0;
        struct MHD_Response *response = read_reply_render (reply->body, view->pretty,
                                                           false, view->meta, &text, &len);
        cache_entry_t *entry = response ? cache_entry_new (response, text, len, index)
                                        : NULL;
        if (!entry) {
            s_view_drop (self, view);
            return;
        }
        cache_entry_unref (view->entry);
        view->entry = entry;
        view->index = index;
    }
    if (time_mono_ms () - view->read_ms > REMOTE_VIEW_IDLE_MS
    ||  s_watch_send (view) != 0)
        s_view_drop (self, view);
}

//  The least recently read view.
static void
s_evict_one (remote_views_t *self)
{
    s_view_t *oldest = NULL;
    for (s_view_t *view = zhashx_first (self->views); view;
         view = zhashx_next (self->views))
        if (!oldest || view->used < oldest->used)
            oldest = view;
    if (oldest)
        s_view_drop (self, oldest);
}

void
remote_views_offer (remote_views_t *self, const char *key, uint64_t generation,
                    const char *command, const cJSON *body, bool pretty, bool meta,
                    cache_entry_t *entry, uint64_t index)
{
    if (generation != self->generation || index == 0 || !entry)
        return;
    s_view_t *view = zhashx_lookup (self->views, key);
    if (view && view->watch_id) {
        if (index > view->index) {
            cache_entry_ref (entry);
            cache_entry_unref (view->entry);
            view->entry = entry;
            view->index = index;
        }
        return;
    }
    if (view)
        s_view_drop (self, view);
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive (body, "Datacenter");
    view = calloc (1, sizeof (s_view_t));
    if (!view)
        return;
    view->owner = self;
    view->key = strdup (key);
    view->dc = strdup (cJSON_IsString (dc) ? dc->valuestring : "");
    view->body = cJSON_Duplicate (body, true);
    if (!view->key || !view->dc || !view->body) {
        s_view_free (view);
        return;
    }
    //  The watch sets its own query options; the read's staleness stays.
    view->stale = cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (body, "AllowStale"));
    cJSON_DeleteItemFromObjectCaseSensitive (view->body, "MinQueryIndex");
    cJSON_DeleteItemFromObjectCaseSensitive (view->body, "MaxQueryTime");
    cJSON_DeleteItemFromObjectCaseSensitive (view->body, "AllowStale");
    cJSON_DeleteItemFromObjectCaseSensitive (view->body, "RequireConsistent");
    snprintf (view->command, sizeof view->command, "%s", command);
    view->pretty = pretty;
    view->meta = meta;
    cache_entry_ref (entry);
    view->entry = entry;
    view->index = index;
    view->read_ms = time_mono_ms ();
    view->used = ++self->clock;
    while (zhashx_size (self->views) >= self->max_views)
        s_evict_one (self);
    if (zhashx_insert (self->views, view->key, view) != 0) {
        s_view_free (view);
        return;
    }
    if (s_watch_send (view) != 0)
        s_view_drop (self, view);
}

void
remote_views_drop (remote_views_t *self, const char *dc)
{
    self->generation++;
    size_t count = zhashx_size (self->views);
    if (count == 0)
        return;
    s_view_t **doomed = calloc (count, sizeof (s_view_t *));
    size_t n = 0;
    for (s_view_t *view = zhashx_first (self->views); view && doomed;
         view = zhashx_next (self->views))
        if (!dc || strcmp (view->dc, dc) == 0)
            doomed [n++] = view;
    if (!doomed) {      //  out of memory: drop them all, one at a time
        s_view_t *view;
        while ((view = zhashx_first (self->views)))
            s_view_drop (self, view);
        return;
    }
    for (size_t i = 0; i < n; i++)
        s_view_drop (self, doomed [i]);
    free (doomed);
}

size_t
remote_views_size (remote_views_t *self)
{
    return zhashx_size (self->views);
}
