/*  router: method + pattern -> handler, Go ServeMux matching plus Consul's
    method check (405 + Allow, OPTIONS). */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#define ROUTER_MAX 128

typedef struct {
    char *method;
    char *pattern;
    size_t pattern_len;
    bool subtree;
    route_handler_fn *handler;
} s_route_t;

struct _router_t {
    s_route_t routes [ROUTER_MAX];
    size_t count;
};

router_t *
router_new (void)
{
    return calloc (1, sizeof (router_t));
}

void
router_destroy (router_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    router_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->routes [i].method);
        free (self->routes [i].pattern);
    }
    free (self);
    *self_p = NULL;
}

int
router_add (router_t *self, const char *method, const char *pattern,
            route_handler_fn *handler)
{
    if (self->count == ROUTER_MAX || !pattern || pattern [0] != '/' || !handler)
        return -1;
    s_route_t *route = &self->routes [self->count];
    route->method = strdup (method);
    route->pattern = strdup (pattern);
    if (!route->method || !route->pattern) {
        free (route->method);
        free (route->pattern);
        return -1;
    }
    route->pattern_len = strlen (pattern);
    route->subtree = pattern [route->pattern_len - 1] == '/';
    route->handler = handler;
    self->count++;
    return 0;
}

static bool
s_path_matches (const s_route_t *route, const char *path)
{
    if (route->subtree)
        return strncmp (path, route->pattern, route->pattern_len) == 0;
    return strcmp (path, route->pattern) == 0;
}

int
router_match (router_t *self, const char *method, const char *path,
              route_match_t *match)
{
    memset (match, 0, sizeof *match);
    match->tail = "";
    //  The longest matching pattern decides which resource this is.
    const char *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < self->count; i++) {
        const s_route_t *route = &self->routes [i];
        if (s_path_matches (route, path) && route->pattern_len > best_len) {
            best = route->pattern;
            best_len = route->pattern_len;
        }
    }
    if (!best) {
        match->status = 404;
        return -1;
    }
    strcpy (match->allow, "OPTIONS");
    for (size_t i = 0; i < self->count; i++) {
        const s_route_t *route = &self->routes [i];
        if (strcmp (route->pattern, best) != 0)
            continue;
        if (strcmp (route->method, method) == 0) {
            match->handler = route->handler;
            match->tail = route->subtree ? path + route->pattern_len : "";
            match->status = 0;
            return 0;
        }
        size_t used = strlen (match->allow);
        if (used + 1 + strlen (route->method) < ROUTER_ALLOW_MAX) {
            match->allow [used] = ',';
            strcpy (match->allow + used + 1, route->method);
        }
    }
    match->status = strcmp (method, "OPTIONS") == 0 ? 200 : 405;
    return -1;
}

void
router_dispatch (router_t *self, void *ctx, http_request_t *request)
{
    const char *path = request_path (request);
    if (!path) {
        request_reply_text (request, 400, "%s", request_uri_error (request));
        return;
    }
    route_match_t match;
    if (router_match (self, request_method (request), path, &match) == 0) {
        request_set_tail (request, match.tail);
        match.handler (ctx, request);
        return;
    }
    if (match.status == 404)
        request_reply_empty (request, 404);
    else
    if (match.status == 200) {
        request_reply_empty (request, 200);
        request_add_header (request, "Allow", match.allow);
    }
    else {
        request_reply_text (request, 405, "method %s not allowed",
                            request_method (request));
        request_add_header (request, "Allow", match.allow);
    }
}
