/*  catalog_api: /v1/catalog/... and /v1/status/... (docs/http-api.md,
    "Catalog" and "Status"): validates the request like Consul, turns it
    into the catalogd command of docs/protocol/catalog-rpc.md and passes
    the Result through the catalog link. */
#include "api.h"

#include <string.h>

int
api_read_options (http_request_t *request, query_opts_t *opts)
{
    if (request_query_opts (request, opts) != 0)
        return -1;
    const char *filter = request_query (request, "filter");
    if (filter && *filter) {
        request_reply_text (request, 400,
            "Filter expressions (?filter) are not supported by Meridian");
        return -1;
    }
    return 0;
}

int
api_check_dc (api_t *api, http_request_t *request, const char *dc)
{
    if (dc && *dc && strcmp (dc, api->cfg->datacenter) != 0) {
        request_reply_text (request, 500, "No path to datacenter");
        return -1;
    }
    return 0;
}

//  Reads the JSON object body of a write and canonicalizes its keys.
//  Replies 400 and returns NULL when it is not a JSON object.
static cJSON *
s_write_body (http_request_t *request, const char *go_type)
{
    cJSON *body = request_body_json (request);
    if (!body)
        return NULL;
    if (!cJSON_IsObject (body)) {
        const char *type = cJSON_IsArray (body) ? "array"
                         : cJSON_IsString (body) ? "string"
                         : cJSON_IsNumber (body) ? "number"
                         : cJSON_IsBool (body) ? "bool" : NULL;
        if (type) {
            request_reply_text (request, 400, "Request decode failed: json: "
                                "cannot unmarshal %s into Go value of type %s",
                                type, go_type);
            cJSON_Delete (body);
            return NULL;
        }
        //  null decodes to an empty request in Go.
        cJSON_Delete (body);
        body = cJSON_CreateObject ();
    }
    return body;
}

//  The datacenter of a write: the body's, else ?dc, else ours.
static int
s_write_dc (api_t *api, http_request_t *request, cJSON *body)
{
    cJSON *dc = cJSON_GetObjectItemCaseSensitive (body, "Datacenter");
    if (dc && !cJSON_IsString (dc) && !cJSON_IsNull (dc)) {
        request_reply_text (request, 400, "Request decode failed: json: cannot "
                            "unmarshal %s into Go struct field "
                            "RegisterRequest.Datacenter of type string",
                            cJSON_IsNumber (dc) ? "number" : "value");
        return -1;
    }
    const char *name = cJSON_GetStringValue (dc);
    if (!name || !*name) {
        const char *query = request_query (request, "dc");
        name = (query && *query) ? query : api->cfg->datacenter;
    }
    if (api_check_dc (api, request, name) != 0)
        return -1;
    cJSON_DeleteItemFromObjectCaseSensitive (body, "Datacenter");
    cJSON_AddStringToObject (body, "Datacenter", api->cfg->datacenter);
    return 0;
}

static const char *const s_register_keys [] = {
    "Datacenter", "ID", "Node", "Address", "TaggedAddresses", "NodeMeta",
    "Service", "Check", "Checks", "SkipNodeUpdate", NULL };
static const char *const s_service_keys [] = {
    "ID", "Service", "Tags", "Address", "TaggedAddresses", "Meta", "Port",
    "Weights", "EnableTagOverride", "Kind", "Proxy", "Connect", NULL };
static const char *const s_check_keys [] = {
    "Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID",
    "ServiceName", "ServiceTags", "Type", "Definition", NULL };
static const char *const s_deregister_keys [] = {
    "Datacenter", "Node", "ServiceID", "CheckID", NULL };

static void
s_catalog_register (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = s_write_body (request, "structs.RegisterRequest");
    if (!body)
        return;
    request_canonical_keys (body, s_register_keys);
    request_canonical_keys (cJSON_GetObjectItemCaseSensitive (body, "Service"),
                            s_service_keys);
    request_canonical_keys (cJSON_GetObjectItemCaseSensitive (body, "Check"),
                            s_check_keys);
    cJSON *check;
    cJSON *checks = cJSON_GetObjectItemCaseSensitive (body, "Checks");
    if (cJSON_IsArray (checks))
        cJSON_ArrayForEach (check, checks)
            request_canonical_keys (check, s_check_keys);
    if (s_write_dc (api, request, body) != 0) {
        cJSON_Delete (body);
        return;
    }
    catalog_link_write (api->link, request, "catalog.register", &body);
}

static void
s_catalog_deregister (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = s_write_body (request, "structs.DeregisterRequest");
    if (!body)
        return;
    request_canonical_keys (body, s_deregister_keys);
    if (s_write_dc (api, request, body) != 0) {
        cJSON_Delete (body);
        return;
    }
    catalog_link_write (api->link, request, "catalog.deregister", &body);
}

static void
s_catalog_datacenters (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *list = cJSON_CreateArray ();
    cJSON_AddItemToArray (list, cJSON_CreateString (api->cfg->datacenter));
    request_reply_json (request, 200, list);
    cJSON_Delete (list);
}

//  Adds ?node-meta to body when given.
static void
s_add_node_meta (http_request_t *request, cJSON *body)
{
    cJSON *meta = request_node_meta (request);
    if (meta)
        cJSON_AddItemToObject (body, "NodeMeta", meta);
}

static void
s_catalog_nodes (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    if (api_read_options (request, &opts) || api_check_dc (api, request, opts.dc))
        return;
    cJSON *body = cJSON_CreateObject ();
    s_add_node_meta (request, body);
    catalog_link_read (api->link, request, "catalog.nodes", &body, &opts,
                       LINK_TABLE_NODES, true);
}

static void
s_catalog_services (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    if (api_read_options (request, &opts) || api_check_dc (api, request, opts.dc))
        return;
    cJSON *body = cJSON_CreateObject ();
    s_add_node_meta (request, body);
    catalog_link_read (api->link, request, "catalog.services", &body, &opts,
                       LINK_TABLE_NODES | LINK_TABLE_SERVICES, true);
}

static void
s_catalog_service (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    if (api_read_options (request, &opts))
        return;
    const char *name = request_tail (request);
    if (!*name) {
        request_reply_text (request, 400, "Missing service name");
        return;
    }
    if (api_check_dc (api, request, opts.dc))
        return;
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "ServiceName", name);
    cJSON *tags = request_tags (request);
    if (tags)
        cJSON_AddItemToObject (body, "ServiceTags", tags);
    s_add_node_meta (request, body);
    catalog_link_read (api->link, request, "catalog.service", &body, &opts,
                       LINK_TABLE_NODES | LINK_TABLE_SERVICES, true);
}

static void
s_catalog_node (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    if (api_read_options (request, &opts))
        return;
    const char *name = request_tail (request);
    if (!*name) {
        request_reply_text (request, 400, "Missing node name");
        return;
    }
    if (api_check_dc (api, request, opts.dc))
        return;
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Node", name);
    catalog_link_read (api->link, request, "catalog.node", &body, &opts,
                       LINK_TABLE_NODES | LINK_TABLE_SERVICES, true);
}

static void
s_status (api_t *api, http_request_t *request, const char *command)
{
    const char *dc = request_query (request, "dc");
    if (api_check_dc (api, request, dc))
        return;
    cJSON *body = cJSON_CreateObject ();
    catalog_link_read (api->link, request, command, &body, NULL, 0, false);
}

static void
s_status_leader (void *ctx, http_request_t *request)
{
    s_status (ctx, request, "status.leader");
}

static void
s_status_peers (void *ctx, http_request_t *request)
{
    s_status (ctx, request, "status.peers");
}

int
catalog_api_register (router_t *router)
{
    int rc = 0;
    rc |= router_add (router, "PUT", "/v1/catalog/register", s_catalog_register);
    rc |= router_add (router, "PUT", "/v1/catalog/deregister", s_catalog_deregister);
    rc |= router_add (router, "GET", "/v1/catalog/datacenters", s_catalog_datacenters);
    rc |= router_add (router, "GET", "/v1/catalog/nodes", s_catalog_nodes);
    rc |= router_add (router, "GET", "/v1/catalog/services", s_catalog_services);
    rc |= router_add (router, "GET", "/v1/catalog/service/", s_catalog_service);
    rc |= router_add (router, "GET", "/v1/catalog/node/", s_catalog_node);
    rc |= router_add (router, "GET", "/v1/status/leader", s_status_leader);
    rc |= router_add (router, "GET", "/v1/status/peers", s_status_peers);
    return rc ? -1 : 0;
}
