/*  request: URI, query options, body and response of one HTTP request,
    following Go's net/url and encoding/json behaviour where Consul's
    clients can tell the difference (docs/http-api.md, "Conventions"). */
#include "request.h"
#include "json_render.h"
#include "json_syntax.h"
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;
    char *value;
} s_param_t;

struct _http_request_t {
    char *method;
    char *path;                 //  NULL when the URI was malformed
    const char *uri_error;
    char *tail;
    s_param_t *params;
    size_t param_count;
    //  body
    char *body;
    size_t body_len;
    size_t body_cap;
    bool body_too_large;
    size_t body_drained;
    //  response
    struct MHD_Response *response;
    unsigned status;
    const char *reply_body;
    size_t reply_len;
    request_release_fn *release;
    void *release_arg;
    //  connection and pending work
    struct MHD_Connection *connection;
    bool suspended;
    bool started;
    bool dispatched;
    bool queued;
    void *op;
    request_cancel_fn *op_cancel;
};

static int
s_hex (int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Unescapes %XX (and '+' as space in query mode) into a new string.
//  Returns NULL on a malformed escape or an embedded NUL.
static char *
s_unescape (const char *text, size_t len, bool query)
{
    char *out = malloc (len + 1);
    if (!out)
        return NULL;
    size_t pos = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (c == '%') {
            int hi = i + 1 < len ? s_hex ((unsigned char) text [i + 1]) : -1;
            int lo = i + 2 < len ? s_hex ((unsigned char) text [i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free (out);
                return NULL;
            }
            out [pos++] = (char) (hi * 16 + lo);
            i += 2;
        }
        else
        if (c == '+' && query)
            out [pos++] = ' ';
        else
            out [pos++] = c;
    }
    out [pos] = 0;
    return out;
}

static void
s_parse_query (http_request_t *self, const char *query)
{
    //  Go's url.Values from URL.Query(): pairs with bad escapes or a ';'
    //  are dropped, the rest kept in order.
    size_t capacity = 0;
    const char *p = query;
    while (*p) {
        const char *end = strchr (p, '&');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        if (len > 0 && !memchr (p, ';', len)) {
            const char *eq = memchr (p, '=', len);
            size_t name_len = eq ? (size_t) (eq - p) : len;
            char *name = s_unescape (p, name_len, true);
            char *value = eq ? s_unescape (eq + 1, len - name_len - 1, true)
                             : strdup ("");
            if (name && value) {
                if (self->param_count == capacity) {
                    capacity = capacity ? capacity * 2 : 8;
                    s_param_t *params = realloc (self->params,
                                                 capacity * sizeof (s_param_t));
                    if (!params) {
                        free (name);
                        free (value);
                        return;
                    }
                    self->params = params;
                }
                self->params [self->param_count].name = name;
                self->params [self->param_count].value = value;
                self->param_count++;
            }
            else {
                free (name);
                free (value);
            }
        }
        p += len;
        if (*p == '&')
            p++;
    }
}

http_request_t *
request_new (const char *raw_uri)
{
    http_request_t *self = calloc (1, sizeof (http_request_t));
    if (!self)
        return NULL;
    self->tail = strdup ("");
    self->method = strdup ("");
    if (!self->tail || !self->method) {
        request_destroy (&self);
        return NULL;
    }
    const char *uri = raw_uri ? raw_uri : "";
    //  Absolute form (proxies): skip scheme and authority.
    if (strncmp (uri, "http://", 7) == 0 || strncmp (uri, "https://", 8) == 0) {
        const char *slash = strchr (strstr (uri, "//") + 2, '/');
        uri = slash ? slash : "/";
    }
    const char *question = strchr (uri, '?');
    size_t path_len = question ? (size_t) (question - uri) : strlen (uri);
    const char *hash = memchr (uri, '#', path_len);
    if (hash)
        path_len = (size_t) (hash - uri);
    if (path_len == 0 || uri [0] != '/') {
        self->uri_error = "Invalid URL path";
        return self;
    }
    self->path = s_unescape (uri, path_len, false);
    if (!self->path) {
        self->uri_error = "Invalid URL path";
        return self;
    }
    if (question) {
        char *query = strdup (question + 1);
        if (query) {
            char *frag = strchr (query, '#');
            if (frag)
                *frag = 0;
            s_parse_query (self, query);
            free (query);
        }
    }
    return self;
}

void
request_destroy (http_request_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_request_t *self = *self_p;
    if (self->op && self->op_cancel)
        self->op_cancel (self->op);
    request_response_release (self);
    for (size_t i = 0; i < self->param_count; i++) {
        free (self->params [i].name);
        free (self->params [i].value);
    }
    free (self->params);
    free (self->method);
    free (self->path);
    free (self->tail);
    free (self->body);
    free (self);
    *self_p = NULL;
}

void
request_set_method (http_request_t *self, const char *method)
{
    char *copy = strdup (method ? method : "");
    if (copy) {
        free (self->method);
        self->method = copy;
    }
}

const char *
request_method (http_request_t *self)
{
    return self->method;
}

const char *
request_path (http_request_t *self)
{
    return self->path;
}

const char *
request_uri_error (http_request_t *self)
{
    return self->uri_error;
}

const char *
request_tail (http_request_t *self)
{
    return self->tail;
}

void
request_set_tail (http_request_t *self, const char *tail)
{
    char *copy = strdup (tail ? tail : "");
    if (copy) {
        free (self->tail);
        self->tail = copy;
    }
}

bool
request_pretty (http_request_t *self)
{
    return request_query_has (self, "pretty");
}

const char *
request_query (http_request_t *self, const char *name)
{
    return request_query_at (self, name, 0);
}

bool
request_query_has (http_request_t *self, const char *name)
{
    return request_query_at (self, name, 0) != NULL;
}

size_t
request_query_count (http_request_t *self, const char *name)
{
    size_t count = 0;
    for (size_t i = 0; i < self->param_count; i++)
        if (strcmp (self->params [i].name, name) == 0)
            count++;
    return count;
}

const char *
request_query_at (http_request_t *self, const char *name, size_t index)
{
    for (size_t i = 0; i < self->param_count; i++)
        if (strcmp (self->params [i].name, name) == 0 && index-- == 0)
            return self->params [i].value;
    return NULL;
}

int
request_body_append (http_request_t *self, const char *data, size_t size)
{
    if (self->body_too_large || size > REQUEST_BODY_MAX - self->body_len) {
        self->body_too_large = true;
        return -1;
    }
    if (self->body_len + size + 1 > self->body_cap) {
        size_t cap = self->body_cap ? self->body_cap : 1024;
        while (cap < self->body_len + size + 1)
            cap *= 2;
        char *body = realloc (self->body, cap);
        if (!body) {
            self->body_too_large = true;
            return -1;
        }
        self->body = body;
        self->body_cap = cap;
    }
    memcpy (self->body + self->body_len, data, size);
    self->body_len += size;
    self->body [self->body_len] = 0;
    return 0;
}

bool
request_body_too_large (http_request_t *self)
{
    return self->body_too_large;
}

size_t
request_body_drained (http_request_t *self, size_t size)
{
    self->body_drained += size;
    return self->body_drained;
}

const char *
request_body (http_request_t *self, size_t *len_p)
{
    if (len_p)
        *len_p = self->body_len;
    return self->body ? self->body : "";
}

cJSON *
request_json_parse (const char *text, size_t len, char *reason, size_t reason_size)
{
    if (json_syntax_check (text, len, reason, reason_size) != 0)
        return NULL;
    cJSON *value = cJSON_ParseWithLength (text, len);
    if (!value)
        snprintf (reason, reason_size, "cannot decode the JSON value");
    return value;
}

cJSON *
request_body_json (http_request_t *self)
{
    char reason [128];
    cJSON *value = request_json_parse (request_body (self, NULL), self->body_len,
                                       reason, sizeof reason);
    if (!value)
        request_reply_text (self, 400, "Request decode failed: %s", reason);
    return value;
}

bool
request_key_matches (const char *key, const char *canonical)
{
    while (*key || *canonical) {
        if (*key == '_') {
            key++;
            continue;
        }
        if (tolower ((unsigned char) *key) != tolower ((unsigned char) *canonical))
            return false;
        key++;
        canonical++;
    }
    return true;
}

void
request_canonical_keys (cJSON *object, const char *const names [])
{
    if (!cJSON_IsObject (object))
        return;
    for (size_t i = 0; names [i]; i++) {
        cJSON *last = NULL;
        for (cJSON *child = object->child; child; child = child->next)
            if (child->string && request_key_matches (child->string, names [i]))
                last = child;
        if (!last)
            continue;
        //  Drop the other spellings, keep the last under the canonical name.
        cJSON *child = object->child;
        while (child) {
            cJSON *next = child->next;
            if (child != last && child->string
            &&  request_key_matches (child->string, names [i]))
                cJSON_Delete (cJSON_DetachItemViaPointer (object, child));
            child = next;
        }
        if (strcmp (last->string, names [i]) != 0) {
            char *name = strdup (names [i]);
            if (name) {
                if (!(last->type & cJSON_StringIsConst))
                    free (last->string);
                last->string = name;
                last->type &= ~cJSON_StringIsConst;
            }
        }
    }
}

int
request_parse_uint64 (const char *text, uint64_t *value)
{
    if (!text || !*text)
        return -1;
    uint64_t result = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned digit = (unsigned) (*p - '0');
        if (result > (UINT64_MAX - digit) / 10)
            return -1;
        result = result * 10 + digit;
    }
    *value = result;
    return 0;
}

int
request_parse_bool (const char *text, bool *value)
{
    static const char *truths [] = { "1", "t", "T", "TRUE", "true", "True" };
    static const char *falses [] = { "0", "f", "F", "FALSE", "false", "False" };
    for (size_t i = 0; i < 6; i++) {
        if (strcmp (text, truths [i]) == 0) {
            *value = true;
            return 0;
        }
        if (strcmp (text, falses [i]) == 0) {
            *value = false;
            return 0;
        }
    }
    return -1;
}

int
request_parse_wait (const char *text, int64_t *ms)
{
    if (!text || !*text)
        return -1;
    bool negative = false;
    if (*text == '-' || *text == '+') {
        negative = (*text == '-');
        text++;
    }
    int64_t value = 0;
    if (duration_parse_ms (text, &value) != 0)
        return -1;
    //  Consul treats a wait <= 0 as "use the default".
    *ms = negative ? 0 : value;
    return 0;
}

int
request_query_opts (http_request_t *self, query_opts_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->stale = request_query_has (self, "stale");
    opts->consistent = request_query_has (self, "consistent");
    if (opts->stale && opts->consistent) {
        request_reply_text (self, 400,
            "Cannot specify ?stale with ?consistent, conflicting semantics.");
        return -1;
    }
    const char *wait = request_query (self, "wait");
    if (wait && *wait && request_parse_wait (wait, &opts->wait_ms) != 0) {
        request_reply_text (self, 400, "Invalid wait time");
        return -1;
    }
    const char *index = request_query (self, "index");
    if (index && *index && request_parse_uint64 (index, &opts->min_index) != 0) {
        request_reply_text (self, 400, "Invalid index");
        return -1;
    }
    const char *dc = request_query (self, "dc");
    opts->dc = (dc && *dc) ? dc : NULL;
    return 0;
}

void
query_opts_to_body (const query_opts_t *opts, cJSON *body)
{
    cJSON_AddNumberToObject (body, "MinQueryIndex", (double) opts->min_index);
    cJSON_AddNumberToObject (body, "MaxQueryTime", (double) opts->wait_ms);
    cJSON_AddBoolToObject (body, "AllowStale", opts->stale);
    cJSON_AddBoolToObject (body, "RequireConsistent", opts->consistent);
}

cJSON *
request_node_meta (http_request_t *self)
{
    size_t count = request_query_count (self, "node-meta");
    if (count == 0)
        return NULL;
    cJSON *meta = cJSON_CreateObject ();
    for (size_t i = 0; i < count; i++) {
        const char *pair = request_query_at (self, "node-meta", i);
        const char *colon = strchr (pair, ':');
        char *key = colon ? strndup (pair, (size_t) (colon - pair)) : strdup (pair);
        if (!key)
            continue;
        //  Later values win, as in Go's map assignment.
        cJSON_DeleteItemFromObjectCaseSensitive (meta, key);
        cJSON_AddStringToObject (meta, key, colon ? colon + 1 : "");
        free (key);
    }
    json_sort_object (meta);
    return meta;
}

cJSON *
request_tags (http_request_t *self)
{
    size_t count = request_query_count (self, "tag");
    if (count == 0)
        return NULL;
    cJSON *tags = cJSON_CreateArray ();
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray (tags,
            cJSON_CreateString (request_query_at (self, "tag", i)));
    return tags;
}

//  Replaces the response with one that owns a copy of body.
static void
s_reply_body (http_request_t *self, unsigned status, char *body, size_t len,
              const char *content_type)
{
    //  MUST_FREE hands our malloc'ed buffer to MHD, no copy.
    struct MHD_Response *response = MHD_create_response_from_buffer (
        len, body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        request_response_release (self);
        return;
    }
    if (content_type)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                 content_type);
    request_reply_owned (self, status, response, body, len);
}

void
request_reply_json (http_request_t *self, unsigned status, const cJSON *value)
{
    size_t len = 0;
    char *body = json_render (value, request_pretty (self), &len);
    if (!body) {
        request_reply_text (self, 500, "out of memory rendering the response");
        return;
    }
    s_reply_body (self, status, body, len, "application/json");
}

void
request_reply_text (http_request_t *self, unsigned status, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char *body = NULL;
    int len = vasprintf (&body, fmt, args);
    va_end (args);
    if (len < 0) {
        request_response_release (self);
        return;
    }
    s_reply_body (self, status, body, (size_t) len, "text/plain; charset=utf-8");
}

void
request_reply_empty (http_request_t *self, unsigned status)
{
    char *body = strdup ("");
    if (body)
        s_reply_body (self, status, body, 0, NULL);
}

static void
s_destroy_response (void *arg)
{
    struct MHD_Response *response = arg;
    MHD_destroy_response (response);
}

void
request_reply_owned (http_request_t *self, unsigned status,
                     struct MHD_Response *response, const char *body, size_t len)
{
    request_reply_shared (self, status, response, body, len,
                          s_destroy_response, response);
}

void
request_reply_shared (http_request_t *self, unsigned status,
                      struct MHD_Response *response, const char *body, size_t len,
                      request_release_fn *release, void *arg)
{
    request_response_release (self);
    self->response = response;
    self->status = status;
    self->reply_body = body;
    self->reply_len = len;
    self->release = release;
    self->release_arg = arg;
}

void
request_add_header (http_request_t *self, const char *name, const char *value)
{
    if (self->response && self->release == s_destroy_response)
        MHD_add_response_header (self->response, name, value);
}

bool
request_has_reply (http_request_t *self)
{
    return self->response != NULL;
}

unsigned
request_reply_status (http_request_t *self)
{
    return self->response ? self->status : 0;
}

const char *
request_reply_body (http_request_t *self, size_t *len_p)
{
    if (len_p)
        *len_p = self->response ? self->reply_len : 0;
    return self->response ? self->reply_body : NULL;
}

struct MHD_Response *
request_response (http_request_t *self)
{
    return self->response;
}

void
request_response_release (http_request_t *self)
{
    if (self->response && self->release)
        self->release (self->release_arg);
    self->response = NULL;
    self->release = NULL;
    self->release_arg = NULL;
    self->reply_body = NULL;
    self->reply_len = 0;
    self->status = 0;
}

void
request_set_connection (http_request_t *self, struct MHD_Connection *connection)
{
    self->connection = connection;
}

void
request_suspend (http_request_t *self)
{
    if (self->connection && !self->suspended) {
        MHD_suspend_connection (self->connection);
        self->suspended = true;
    }
}

void
request_resume (http_request_t *self)
{
    if (self->connection && self->suspended) {
        self->suspended = false;
        MHD_resume_connection (self->connection);
    }
}

bool
request_suspended (http_request_t *self)
{
    return self->suspended;
}

void
request_set_op (http_request_t *self, void *op, request_cancel_fn *cancel)
{
    self->op = op;
    self->op_cancel = cancel;
}

void
request_clear_op (http_request_t *self)
{
    self->op = NULL;
    self->op_cancel = NULL;
}

bool
request_op_pending (http_request_t *self)
{
    return self->op != NULL;
}

void
request_settle (http_request_t *self, const char *what)
{
    if (self->op)
        return;
    if (!self->response)
        request_reply_text (self, 500, "httpd made no response to %s", what);
    request_resume (self);
}

bool
request_dispatched (http_request_t *self)
{
    return self->dispatched;
}

void
request_set_dispatched (http_request_t *self)
{
    self->dispatched = true;
}

bool
request_started (http_request_t *self)
{
    return self->started;
}

void
request_set_started (http_request_t *self)
{
    self->started = true;
}

bool
request_queued (http_request_t *self)
{
    return self->queued;
}

void
request_set_queued (http_request_t *self)
{
    self->queued = true;
}
