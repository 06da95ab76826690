/*  router: the route table of the HTTP API, method + path pattern ->
    handler, with Consul's (Go ServeMux) matching: a pattern ending in '/'
    matches every path below it (the rest is the request's tail), others
    match exactly, the longest pattern wins. A path that matches with the
    wrong method gets 405 with "Allow: OPTIONS,<methods>" and the text
    "method <M> not allowed"; OPTIONS gets 200 with the Allow header; an
    unknown path gets 404 with an empty body. */
#ifndef HTTPD_ROUTER_H
#define HTTPD_ROUTER_H

#include "request.h"

typedef struct _router_t router_t;

//  ctx is the pointer given to router_dispatch (the API's dependencies).
typedef void (route_handler_fn) (void *ctx, http_request_t *request);

#define ROUTER_ALLOW_MAX 128

typedef struct {
    route_handler_fn *handler;  //  set when a route matched method and path
    const char *tail;           //  rest of the path below a subtree pattern
    unsigned status;            //  0 on a match, else 404 or 405
    char allow [ROUTER_ALLOW_MAX];  //  "OPTIONS,GET" when the path matched
} route_match_t;

//  Caller owns return value.
router_t *router_new (void);
void router_destroy (router_t **self_p);

//  Adds a route. Returns 0, or -1 when the table is full or the pattern
//  does not start with '/'.
int router_add (router_t *self, const char *method, const char *pattern,
                route_handler_fn *handler);

//  Looks up method and path; fills match. Returns 0 when a handler was
//  found, -1 otherwise (match->status says 404 or 405; for OPTIONS on a
//  known path status is 200 and allow is set).
int router_match (router_t *self, const char *method, const char *path,
                  route_match_t *match);

//  Matches the request and calls its handler, or replies 404/405/OPTIONS.
void router_dispatch (router_t *self, void *ctx, http_request_t *request);

#endif
