/*  catalog_api: /v1/catalog/... and /v1/status/... (docs/http-api.md,
    "Catalog" and "Status"): validates the request like Consul, turns it
    into the catalogd command of docs/protocol/catalog-rpc.md and passes
    the Result through the catalog link, which sends it to catalogd or,
    for another datacenter or from a client agent, to forwarderd. Also the
    ?near ordering shared with the health endpoints (api_read). */
#include "api.h"
#include "log.h"

#include <stdlib.h>
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

//  A ?near read between its catalog reply and gossipd's coordinates.
typedef struct {
    api_t *api;
    near_key_t key;
    char *source;               //  the node to measure from
    cJSON *body;                //  the catalog reply
} s_near_t;

static void
s_near_destroy (s_near_t **near_p)
{
    s_near_t *near = *near_p;
    if (near) {
        free (near->source);
        cJSON_Delete (near->body);
        free (near);
        *near_p = NULL;
    }
}

static void
s_near_coordinates (void *arg, http_request_t *request, int status,
                    envelope_t *reply)
{
    s_near_t *near = arg;
    if (request) {
        cJSON *results = cJSON_GetObjectItemCaseSensitive (near->body, "Result");
        //  Without coordinates the catalog's order stands, as Consul
        //  leaves it for a node it has no coordinate of.
        if (status == RPC_OK && reply->type == ENVELOPE_REP)
            near_sort (results, near->key, reply->body, near->source);
        else
            log_debug ("no coordinates for ?near status=%d", status);
        catalog_link_reply_read (request, near->body, true);
    }
    s_near_destroy (&near);
}

static void
s_near_fetched (void *arg, http_request_t *request, cJSON *body)
{
    s_near_t *near = arg;
    if (!request) {
        s_near_destroy (&near);
        return;
    }
    near->body = body;
    cJSON *command = cJSON_CreateObject ();
    peer_request (near->api->gossip, request, "coordinate.nodes", &command,
                  LINK_TIMEOUT_MS, s_near_coordinates, near);
}

void
api_read (api_t *api, http_request_t *request, const char *command,
          cJSON **body_p, const query_opts_t *opts, unsigned tables,
          near_key_t near_key)
{
    const char *source = near_key ? request_query (request, "near") : NULL;
    //  Coordinates of another datacenter's nodes are not known here.
    bool local = !opts->dc || strcmp (opts->dc, api->cfg->datacenter) == 0;
    if (!source || !*source || !local) {
        catalog_link_read (api->link, request, command, body_p, opts, tables, true);
        return;
    }
    s_near_t *near = calloc (1, sizeof (s_near_t));
    if (near)
        near->source = strdup (strcmp (source, "_agent") == 0
                               ? api->cfg->node_name : source);
    if (!near || !near->source) {
        free (near);
        cJSON_Delete (*body_p);
        *body_p = NULL;
        request_reply_text (request, 500, "out of memory");
        return;
    }
    near->api = api;
    near->key = near_key;
    catalog_link_read_then (api->link, request, command, body_p, opts,
                            s_near_fetched, near);
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

//  The datacenter of a write: the body's, else ?dc, else ours; set as
//  the body's Datacenter. Returns it (caller frees), NULL after a 400.
static char *
s_write_dc (api_t *api, http_request_t *request, cJSON *body)
{
    cJSON *dc = cJSON_GetObjectItemCaseSensitive (body, "Datacenter");
    if (dc && !cJSON_IsString (dc) && !cJSON_IsNull (dc)) {
        request_reply_text (request, 400, "Request decode failed: json: cannot "
                            "unmarshal %s into Go struct field "
                            "RegisterRequest.Datacenter of type string",
                            cJSON_IsNumber (dc) ? "number" : "value");
        return NULL;
    }
    const char *name = cJSON_GetStringValue (dc);
    if (!name || !*name) {
        const char *query = request_query (request, "dc");
        name = (query && *query) ? query : api->cfg->datacenter;
    }
    char *copy = strdup (name);
    if (!copy) {
        request_reply_text (request, 500, "out of memory");
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive (body, "Datacenter");
    cJSON_AddStringToObject (body, "Datacenter", copy);
    return copy;
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
    char *dc = s_write_dc (api, request, body);
    if (!dc) {
        cJSON_Delete (body);
        return;
    }
    catalog_link_write (api->link, request, "catalog.register", &body, dc);
    free (dc);
}

static void
s_catalog_deregister (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    cJSON *body = s_write_body (request, "structs.DeregisterRequest");
    if (!body)
        return;
    request_canonical_keys (body, s_deregister_keys);
    char *dc = s_write_dc (api, request, body);
    if (!dc) {
        cJSON_Delete (body);
        return;
    }
    catalog_link_write (api->link, request, "catalog.deregister", &body, dc);
    free (dc);
}

//  forwarderd knows the datacenters of the WAN pool; without it there is
//  no right answer (a list of ours alone would silently be wrong).
static void
s_catalog_datacenters (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    catalog_link_datacenters (api->link, request);
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
    if (api_read_options (request, &opts))
        return;
    cJSON *body = cJSON_CreateObject ();
    s_add_node_meta (request, body);
    api_read (api, request, "catalog.nodes", &body, &opts, LINK_TABLE_NODES,
              NEAR_KEY_NODE);
}

static void
s_catalog_services (void *ctx, http_request_t *request)
{
    api_t *api = ctx;
    query_opts_t opts;
    if (api_read_options (request, &opts))
        return;
    cJSON *body = cJSON_CreateObject ();
    s_add_node_meta (request, body);
    api_read (api, request, "catalog.services", &body, &opts,
              LINK_TABLE_NODES | LINK_TABLE_SERVICES, 0);
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
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "ServiceName", name);
    cJSON *tags = request_tags (request);
    if (tags)
        cJSON_AddItemToObject (body, "ServiceTags", tags);
    s_add_node_meta (request, body);
    api_read (api, request, "catalog.service", &body, &opts,
              LINK_TABLE_NODES | LINK_TABLE_SERVICES, NEAR_KEY_NODE);
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
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddStringToObject (body, "Node", name);
    api_read (api, request, "catalog.node", &body, &opts,
              LINK_TABLE_NODES | LINK_TABLE_SERVICES, 0);
}

//  Status reads take ?dc only and send no index headers.
static void
s_status (api_t *api, http_request_t *request, const char *command)
{
    query_opts_t opts;
    memset (&opts, 0, sizeof opts);
    const char *dc = request_query (request, "dc");
    opts.dc = (dc && *dc) ? dc : NULL;
    cJSON *body = cJSON_CreateObject ();
    catalog_link_read (api->link, request, command, &body, &opts, 0, false);
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
