/*  request: one HTTP request as httpd sees it, independent of the socket.
    Owns the URI parsed with Go's net/url rules (path and query unescaped,
    '+' in the query is a space), the body accumulated under the size limit,
    Consul's common query options, and the response to send. A request that
    waits for catalogd is suspended and resumed; its response is queued by
    the server on the next access-handler call. Implements the conventions
    of docs/http-api.md ("Conventions"). */
#ifndef HTTPD_REQUEST_H
#define HTTPD_REQUEST_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REQUEST_BODY_MAX  (512 * 1024)      //  larger bodies get 413

typedef struct _http_request_t http_request_t;

//  Releases one reference of a shared response (see request_reply_shared).
typedef void (request_release_fn) (void *arg);
//  Cancels the pending operation of a request that goes away.
typedef void (request_cancel_fn) (void *op);

//  Creates a request from its raw URI (path and query as sent).
//  Caller owns return value. Never NULL except on allocation failure.
http_request_t *request_new (const char *raw_uri);
void request_destroy (http_request_t **self_p);

void request_set_method (http_request_t *self, const char *method);
const char *request_method (http_request_t *self);
//  The unescaped path, or NULL when the URI was malformed.
const char *request_path (http_request_t *self);
//  Why the URI was rejected (NULL when it was fine).
const char *request_uri_error (http_request_t *self);
//  The part of the path below a subtree route ("" when none).
const char *request_tail (http_request_t *self);
void request_set_tail (http_request_t *self, const char *tail);
//  Pretty printing: ?pretty (bare or with any value).
bool request_pretty (http_request_t *self);

//  Query parameters: first value (bare "?x" gives ""), NULL when absent.
const char *request_query (http_request_t *self, const char *name);
bool request_query_has (http_request_t *self, const char *name);
size_t request_query_count (http_request_t *self, const char *name);
const char *request_query_at (http_request_t *self, const char *name,
                              size_t index);

//  Appends body bytes. Returns -1 (and keeps nothing more) once the body
//  would exceed REQUEST_BODY_MAX.
int request_body_append (http_request_t *self, const char *data, size_t size);
bool request_body_too_large (http_request_t *self);
//  Counts bytes dropped after the body went over the limit; returns the
//  total dropped so far.
size_t request_body_drained (http_request_t *self, size_t size);
const char *request_body (http_request_t *self, size_t *len_p);
//  Decodes the body as one JSON value. On failure replies 400
//  "Request decode failed: <reason>" and returns NULL.
//  Caller owns return value.
cJSON *request_body_json (http_request_t *self);
//  Parses a JSON document strictly; on failure returns NULL and writes a
//  Go-like reason ("EOF", "unexpected EOF", "invalid character ...").
cJSON *request_json_parse (const char *text, size_t len,
                           char *reason, size_t reason_size);

//  Consul decodes JSON keys case-insensitively (and the agent endpoints
//  accept snake_case): true when key names canonical that way.
bool request_key_matches (const char *key, const char *canonical);
//  Renames the members of object that match one of names (NULL-terminated)
//  to the canonical spelling; the last of duplicates wins.
void request_canonical_keys (cJSON *object, const char *const names []);

//  Consul's common read options.
typedef struct {
    bool stale;             //  ?stale
    bool consistent;        //  ?consistent
    uint64_t min_index;     //  ?index
    int64_t wait_ms;        //  ?wait (0 = catalogd's default)
    const char *dc;         //  ?dc (NULL when absent or empty)
} query_opts_t;

//  Parses ?stale, ?consistent, ?wait, ?index and ?dc in Consul's order.
//  On bad input replies 400 and returns -1.
int request_query_opts (http_request_t *self, query_opts_t *opts);
//  Adds MinQueryIndex, MaxQueryTime, AllowStale, RequireConsistent to body.
void query_opts_to_body (const query_opts_t *opts, cJSON *body);
//  Parses a Go duration as ?wait takes it (sign allowed; negative is 0).
int request_parse_wait (const char *text, int64_t *ms);
//  Parses a uint64 as Go's strconv.ParseUint(s, 10, 64). Returns 0/-1.
int request_parse_uint64 (const char *text, uint64_t *value);
//  Parses a bool as Go's strconv.ParseBool. Returns 0/-1.
int request_parse_bool (const char *text, bool *value);

//  ?node-meta=k:v (repeatable) as an object, NULL when absent.
//  Caller owns return value.
cJSON *request_node_meta (http_request_t *self);
//  ?tag=x (repeatable) as an array, NULL when absent.
//  Caller owns return value.
cJSON *request_tags (http_request_t *self);

//  Responses. Each replaces any response set before.
//  JSON body rendered per the request's pretty flag, application/json.
void request_reply_json (http_request_t *self, unsigned status,
                         const cJSON *value);
//  Plain-text body (error messages), printf-style.
void request_reply_text (http_request_t *self, unsigned status,
                         const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
//  Empty body.
void request_reply_empty (http_request_t *self, unsigned status);
//  A response built elsewhere; the request owns it and destroys it.
void request_reply_owned (http_request_t *self, unsigned status,
                          struct MHD_Response *response,
                          const char *body, size_t len);
//  A shared response (cache): release (arg) is called once when the
//  request no longer needs it.
void request_reply_shared (http_request_t *self, unsigned status,
                           struct MHD_Response *response,
                           const char *body, size_t len,
                           request_release_fn *release, void *arg);
//  Adds a header to the current (owned) response.
void request_add_header (http_request_t *self, const char *name,
                         const char *value);
bool request_has_reply (http_request_t *self);
unsigned request_reply_status (http_request_t *self);
//  The body of the current response (for tests and logs).
const char *request_reply_body (http_request_t *self, size_t *len_p);
//  The response to queue (borrowed), NULL when none.
struct MHD_Response *request_response (http_request_t *self);
//  Drops the response after it was queued.
void request_response_release (http_request_t *self);

//  The connection behind the request (NULL in tests).
void request_set_connection (http_request_t *self,
                             struct MHD_Connection *connection);
//  Suspends the connection until request_resume (no-op without one).
void request_suspend (http_request_t *self);
void request_resume (http_request_t *self);
bool request_suspended (http_request_t *self);
//  Records the pending operation; cancel (op) is called if the request is
//  destroyed before request_clear_op.
void request_set_op (http_request_t *self, void *op, request_cancel_fn *cancel);
void request_clear_op (http_request_t *self);
//  Whether an operation is recorded (set and not cleared).
bool request_op_pending (http_request_t *self);
//  After an asynchronous step answered or passed on the request: unless
//  another operation is pending, resumes it (a step that made no response
//  leaves a 500 naming what, so the client is never left waiting).
void request_settle (http_request_t *self, const char *what);
//  Whether the handler already ran (the server's state machine).
bool request_dispatched (http_request_t *self);
void request_set_dispatched (http_request_t *self);
//  Whether the response was handed to the connection.
bool request_queued (http_request_t *self);
void request_set_queued (http_request_t *self);
//  Whether the access handler was called at least once.
bool request_started (http_request_t *self);
void request_set_started (http_request_t *self);

#endif
