/*  health_api: /v1/health/{node,checks,service,state} (docs/http-api.md,
    "Health"): Consul's parameters (?passing, ?tag, ?node-meta, ?near,
    ?dc, blocking and consistency options) turned into catalogd's health.*
    commands (forwarded to another datacenter by the catalog link). */
#include "api.h"

#include <string.h>

//  Parses the options shared by every health read and the name in the
//  path. Returns the body to send, or NULL after replying an error.
static cJSON *
s_begin (api_t *api, http_request_t *request, query_opts_t *opts,
         const char *missing)
{
    if (api_read_options (request, opts))
        return NULL;
    if (!*request_tail (request)) {
        request_reply_text (request, 400, "%s", missing);
        return NULL;
    }
    return cJSON_CreateObject ();
}

static void
s_add_node_meta (http_request_t *request, cJSON *body)
{
    cJSON *meta = request_node_meta (request);
    if (meta)
        cJSON_AddItemToObject (body, "NodeMeta", meta);
}

static void
s_health_node (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    cJSON *body = s_begin (api, request, &opts, "Missing node name");
    if (!body)
        return;
    cJSON_AddStringToObject (body, "Node", request_tail (request));
    api_read (api, request, "health.node", &body, &opts, LINK_TABLE_ALL, 0);
}

static void
s_health_checks (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    cJSON *body = s_begin (api, request, &opts, "Missing service name");
    if (!body)
        return;
    cJSON_AddStringToObject (body, "ServiceName", request_tail (request));
    s_add_node_meta (request, body);
    api_read (api, request, "health.checks", &body, &opts, LINK_TABLE_ALL,
              NEAR_KEY_NODE);
}

static void
s_health_service (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    //  ?passing is a bare flag, or a Go bool (Consul's compatibility rule).
    bool passing = false;
    const char *flag = request_query (request, "passing");
    if (flag) {
        if (!*flag)
            passing = true;
        else
        if (request_parse_bool (flag, &passing) != 0) {
            request_reply_text (request, 400, "Invalid value for ?passing");
            return;
        }
    }
    cJSON *body = s_begin (api, request, &opts, "Missing service name");
    if (!body)
        return;
    cJSON_AddStringToObject (body, "ServiceName", request_tail (request));
    cJSON *tags = request_tags (request);
    if (tags)
        cJSON_AddItemToObject (body, "ServiceTags", tags);
    cJSON_AddBoolToObject (body, "PassingOnly", passing);
    s_add_node_meta (request, body);
    api_read (api, request, "health.service", &body, &opts, LINK_TABLE_ALL,
              NEAR_KEY_NODE_NODE);
}

static void
s_health_state (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    cJSON *body = s_begin (api, request, &opts, "Missing check state");
    if (!body)
        return;
    cJSON_AddStringToObject (body, "State", request_tail (request));
    s_add_node_meta (request, body);
    api_read (api, request, "health.state", &body, &opts, LINK_TABLE_ALL,
              NEAR_KEY_NODE);
}

int
health_api_register (router_t *router)
{
    int rc = 0;
    rc |= router_add (router, "GET", "/v1/health/node/", s_health_node);
    rc |= router_add (router, "GET", "/v1/health/checks/", s_health_checks);
    rc |= router_add (router, "GET", "/v1/health/service/", s_health_service);
    rc |= router_add (router, "GET", "/v1/health/state/", s_health_state);
    return rc ? -1 : 0;
}
