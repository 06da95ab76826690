/*  cmd_catalog: `meridian catalog datacenters|nodes|services` (Consul's
    command/catalog/list), reading /v1/catalog/datacenters, /nodes,
    /service/:name, /services and /node/:node. */
#include "cmd_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_api.h"
#include "flags.h"
#include "http_client.h"
#include "table.h"

#define PATH_MAX_LEN 2048
//  Consul pads the service column of `catalog services -tags` with a
//  tabwriter of padding 6.
#define SERVICES_TAGS_PADDING 6

typedef struct {
    const char *http_addr;
    const char *token;
    const char *datacenter;
    bool stale;
    const char **node_meta;
    int node_meta_count;
} query_flags_t;

static void
s_query_flags (flags_t *flags, query_flags_t *query)
{
    flags_http (flags, &query->http_addr, &query->token);
    flags_string (flags, "datacenter", &query->datacenter,
                  "Name of the datacenter to query. Defaults to the "
                  "agent's datacenter.");
    flags_bool (flags, "stale", &query->stale,
                "Permit any server to answer the query (?stale).");
    flags_list (flags, "node-meta", &query->node_meta,
                &query->node_meta_count,
                "Metadata to filter nodes with, key=value. Repeatable.");
}

//  Adds ?dc, ?stale and ?node-meta=k:v to path. Returns 0, or -1 after
//  printing why.
static int
s_query_apply (const query_flags_t *query, char *path, size_t size)
{
    if (query->datacenter && *query->datacenter
    &&  agent_api_query (path, size, "dc", query->datacenter))
        goto too_long;
    if (query->stale && agent_api_query (path, size, "stale", NULL))
        goto too_long;
    for (int i = 0; i < query->node_meta_count; i++) {
        const char *pair = query->node_meta [i];
        const char *equals = strchr (pair, '=');
        if (!equals || equals == pair) {
            fprintf (stderr, "invalid value \"%s\" for -node-meta: expected "
                     "key=value\n", pair);
            return -1;
        }
        char meta [512];
        if (snprintf (meta, sizeof (meta), "%.*s:%s", (int) (equals - pair),
                      pair, equals + 1) >= (int) sizeof (meta)
        ||  agent_api_query (path, size, "node-meta", meta))
            goto too_long;
    }
    return 0;
too_long:
    fprintf (stderr, "Error: query too long\n");
    return -1;
}

static int
s_too_many_args (int argc, int first)
{
    if (first < argc) {
        fprintf (stderr, "Too many arguments (expected 0, got %d)\n",
                 argc - first);
        return 1;
    }
    return 0;
}

static int
s_string_compare (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char *
catalog_nodes_render (const cJSON *nodes, bool detailed)
{
    if (!cJSON_IsArray (nodes))
        return NULL;
    table_t *table = table_new (detailed ? 6 : 4);
    if (!table)
        return NULL;
    char *text = NULL;
    if (detailed ? table_addv (table, "Node", "ID", "Address", "DC",
                               "TaggedAddresses", "Meta")
                 : table_addv (table, "Node", "ID", "Address", "DC"))
        goto cleanup;
    const cJSON *node;
    cJSON_ArrayForEach (node, nodes) {
        const char *id = agent_api_field (node, "ID");
        char short_id [64];
        const char *dash = strchr (id, '-');
        size_t id_len = dash && dash > id ? (size_t) (dash - id) : strlen (id);
        snprintf (short_id, sizeof (short_id), "%.*s", (int) id_len, id);
        int rc;
        if (detailed) {
            char *tagged = table_kv_join (
                cJSON_GetObjectItemCaseSensitive (node, "TaggedAddresses"),
                ", ");
            char *meta = table_kv_join (
                cJSON_GetObjectItemCaseSensitive (node, "Meta"), ", ");
            rc = tagged && meta
               ? table_addv (table, agent_api_field (node, "Node"), id,
                             agent_api_field (node, "Address"),
                             agent_api_field (node, "Datacenter"), tagged,
                             meta)
               : -1;
            free (tagged);
            free (meta);
        }
        else
            rc = table_addv (table, agent_api_field (node, "Node"), short_id,
                             agent_api_field (node, "Address"),
                             agent_api_field (node, "Datacenter"));
        if (rc)
            goto cleanup;
    }
    text = table_render (table);
cleanup:
    table_destroy (&table);
    return text;
}

char *
catalog_services_render (const cJSON *services, bool tags)
{
    if (!cJSON_IsObject (services))
        return NULL;
    int count = cJSON_GetArraySize (services);
    const cJSON **sorted = calloc (count ? count : 1, sizeof (cJSON *));
    if (!sorted)
        return NULL;
    size_t width = 0;
    size_t total = 1;
    int size = 0;
    const cJSON *service;
    cJSON_ArrayForEach (service, services) {
        sorted [size++] = service;
        size_t len = strlen (service->string);
        if (len > width)
            width = len;
        total += len + 1 + SERVICES_TAGS_PADDING;
        const cJSON *tag;
        cJSON_ArrayForEach (tag, service)
            if (cJSON_IsString (tag))
                total += strlen (tag->valuestring) + 1;
    }
    //  Sort by name: cJSON items carry the name in ->string.
    const char **names = calloc (count ? count : 1, sizeof (char *));
    char *text = NULL;
    if (!names)
        goto cleanup;
    for (int i = 0; i < size; i++)
        names [i] = sorted [i]->string;
    qsort (names, size, sizeof (char *), s_string_compare);
    text = malloc (total + (size_t) size * width);
    if (!text)
        goto cleanup;
    char *cursor = text;
    for (int i = 0; i < size; i++) {
        cursor = stpcpy (cursor, names [i]);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive (services,
                                                              names [i]);
        int tag_count = tags && cJSON_IsArray (list)
                      ? cJSON_GetArraySize (list) : 0;
        const char **tag_text = calloc (tag_count ? tag_count : 1,
                                        sizeof (char *));
        if (!tag_text) {
            free (text);
            text = NULL;
            goto cleanup;
        }
        int tag_size = 0;
        for (int t = 0; t < tag_count; t++) {
            const cJSON *tag = cJSON_GetArrayItem (list, t);
            if (cJSON_IsString (tag))
                tag_text [tag_size++] = tag->valuestring;
        }
        if (tag_size) {
            qsort (tag_text, tag_size, sizeof (char *), s_string_compare);
            size_t pad = width - strlen (names [i]) + SERVICES_TAGS_PADDING;
            memset (cursor, ' ', pad);
            cursor += pad;
            for (int t = 0; t < tag_size; t++) {
                if (t)
                    *cursor++ = ',';
                cursor = stpcpy (cursor, tag_text [t]);
            }
        }
        free (tag_text);
        *cursor++ = '\n';
    }
    *cursor = '\0';
cleanup:
    free (names);
    free (sorted);
    return text;
}

static int
s_datacenters (int argc, char **argv)
{
    query_flags_t query = { 0 };
    flags_t *flags = flags_new (
        "Usage: meridian catalog datacenters [options]\n\n"
        "  Lists all known datacenters, nearest first.");
    flags_http (flags, &query.http_addr, &query.token);
    int first = flags_parse (flags, argc, argv);
    flags_destroy (&flags);
    if (first < 0)
        return first == -2 ? 0 : 1;
    if (s_too_many_args (argc, first))
        return 1;
    agent_api_t *api = agent_api_new (query.http_addr, query.token);
    if (!api)
        return 1;
    int rc = 1;
    cJSON *list = agent_api_get (api, "/v1/catalog/datacenters",
                                 "listing datacenters");
    if (list && !cJSON_IsArray (list))
        fprintf (stderr, "Error listing datacenters: unexpected response "
                 "(not a list)\n");
    else
    if (list) {
        const cJSON *dc;
        cJSON_ArrayForEach (dc, list)
            if (cJSON_IsString (dc))
                printf ("%s\n", dc->valuestring);
        rc = 0;
    }
    cJSON_Delete (list);
    agent_api_destroy (&api);
    return rc;
}

//  Turns /v1/catalog/service/:name entries into node objects.
static cJSON *
s_service_nodes (const cJSON *entries)
{
    cJSON *nodes = cJSON_CreateArray ();
    const cJSON *entry;
    cJSON_ArrayForEach (entry, entries) {
        cJSON *node = cJSON_CreateObject ();
        cJSON_AddItemToArray (nodes, node);
        static const char *fields [] = { "ID", "Node", "Address", "Datacenter" };
        for (size_t i = 0; i < sizeof (fields) / sizeof (fields [0]); i++)
            cJSON_AddStringToObject (node, fields [i],
                                     agent_api_field (entry, fields [i]));
        const cJSON *tagged = cJSON_GetObjectItemCaseSensitive (
            entry, "TaggedAddresses");
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive (entry,
                                                              "NodeMeta");
        if (tagged)
            cJSON_AddItemToObject (node, "TaggedAddresses",
                                   cJSON_Duplicate (tagged, true));
        if (meta)
            cJSON_AddItemToObject (node, "Meta", cJSON_Duplicate (meta, true));
    }
    return nodes;
}

static int
s_nodes (int argc, char **argv)
{
    query_flags_t query = { 0 };
    bool detailed = false;
    const char *service = NULL;
    flags_t *flags = flags_new (
        "Usage: meridian catalog nodes [options]\n\n"
        "  Lists the nodes registered in a datacenter (by default the\n"
        "  agent's), or with -service only those providing a service.");
    s_query_flags (flags, &query);
    flags_bool (flags, "detailed", &detailed,
                "Output detailed information about the nodes including "
                "their addresses and metadata.");
    flags_string (flags, "service", &service,
                  "Service id or name to filter nodes. Only nodes which are "
                  "providing the given service will be returned.");
    int first = flags_parse (flags, argc, argv);
    int rc = 1;
    agent_api_t *api = NULL;
    cJSON *nodes = NULL;
    if (first < 0) {
        rc = first == -2 ? 0 : 1;
        goto cleanup;
    }
    if (s_too_many_args (argc, first))
        goto cleanup;
    char path [PATH_MAX_LEN];
    const char *what = "listing nodes";
    if (service && *service) {
        char *escaped = http_escape (service);
        if (!escaped)
            goto cleanup;
        snprintf (path, sizeof (path), "/v1/catalog/service/%.1900s", escaped);
        free (escaped);
        what = "listing nodes for service";
    }
    else
        snprintf (path, sizeof (path), "/v1/catalog/nodes");
    if (s_query_apply (&query, path, sizeof (path)))
        goto cleanup;
    api = agent_api_new (query.http_addr, query.token);
    if (!api)
        goto cleanup;
    nodes = agent_api_get (api, path, what);
    if (!nodes)
        goto cleanup;
    if (!cJSON_IsArray (nodes)) {
        fprintf (stderr, "Error %s: unexpected response (not a list)\n", what);
        goto cleanup;
    }
    if (service && *service) {
        cJSON *converted = s_service_nodes (nodes);
        cJSON_Delete (nodes);
        nodes = converted;
    }
    if (cJSON_GetArraySize (nodes) == 0) {
        fprintf (stderr, "No nodes match the given query - try expanding "
                 "your search.\n");
        rc = 0;
        goto cleanup;
    }
    char *text = catalog_nodes_render (nodes, detailed);
    if (text) {
        fputs (text, stdout);
        free (text);
        rc = 0;
    }
    else
        fprintf (stderr, "Error printing nodes: out of memory\n");
cleanup:
    cJSON_Delete (nodes);
    agent_api_destroy (&api);
    flags_destroy (&flags);
    return rc;
}

//  The services of one node, from /v1/catalog/node/:node, as the
//  name -> tags map of /v1/catalog/services. NULL node: no services.
static cJSON *
s_node_services (const cJSON *node)
{
    cJSON *services = cJSON_CreateObject ();
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive (node, "Services");
    if (!cJSON_IsObject (entries))
        entries = NULL;
    const cJSON *entry;
    cJSON_ArrayForEach (entry, entries) {
        const char *name = agent_api_field (entry, "Service");
        cJSON *tags = cJSON_GetObjectItemCaseSensitive (services, name);
        if (!tags)
            tags = cJSON_AddArrayToObject (services, name);
        const cJSON *tag;
        const cJSON *list = cJSON_GetObjectItemCaseSensitive (entry, "Tags");
        if (!cJSON_IsArray (list))
            list = NULL;
        cJSON_ArrayForEach (tag, list)
            if (cJSON_IsString (tag))
                cJSON_AddItemToArray (tags,
                                      cJSON_CreateString (tag->valuestring));
    }
    return services;
}

static int
s_services (int argc, char **argv)
{
    query_flags_t query = { 0 };
    bool tags = false;
    const char *node = NULL;
    flags_t *flags = flags_new (
        "Usage: meridian catalog services [options]\n\n"
        "  Lists the services registered in a datacenter (by default the\n"
        "  agent's), or with -node those of one node.");
    s_query_flags (flags, &query);
    flags_bool (flags, "tags", &tags,
                "Display each service's tags as a comma-separated list "
                "beside each service entry.");
    flags_string (flags, "node", &node,
                  "Node id or name for which to list services.");
    int first = flags_parse (flags, argc, argv);
    int rc = 1;
    agent_api_t *api = NULL;
    cJSON *services = NULL;
    if (first < 0) {
        rc = first == -2 ? 0 : 1;
        goto cleanup;
    }
    if (s_too_many_args (argc, first))
        goto cleanup;
    char path [PATH_MAX_LEN];
    const char *what = "listing services";
    if (node && *node) {
        char *escaped = http_escape (node);
        if (!escaped)
            goto cleanup;
        snprintf (path, sizeof (path), "/v1/catalog/node/%.1900s", escaped);
        free (escaped);
        what = "listing services for node";
    }
    else
        snprintf (path, sizeof (path), "/v1/catalog/services");
    if (s_query_apply (&query, path, sizeof (path)))
        goto cleanup;
    api = agent_api_new (query.http_addr, query.token);
    if (!api)
        goto cleanup;
    services = agent_api_get (api, path, what);
    if (!services)
        goto cleanup;
    if (node && *node) {
        if (!cJSON_IsObject (services) && !cJSON_IsNull (services)) {
            fprintf (stderr, "Error %s: unexpected response (not an "
                     "object)\n", what);
            goto cleanup;
        }
        cJSON *converted = s_node_services (services);
        cJSON_Delete (services);
        services = converted;
    }
    if (!cJSON_IsObject (services)) {
        fprintf (stderr, "Error %s: unexpected response (not an object)\n",
                 what);
        goto cleanup;
    }
    if (cJSON_GetArraySize (services) == 0) {
        fprintf (stderr, "No services match the given query - try "
                 "expanding your search.\n");
        rc = 0;
        goto cleanup;
    }
    char *text = catalog_services_render (services, tags);
    if (text) {
        fputs (text, stdout);
        free (text);
        rc = 0;
    }
    else
        fprintf (stderr, "Error printing services: out of memory\n");
cleanup:
    cJSON_Delete (services);
    agent_api_destroy (&api);
    flags_destroy (&flags);
    return rc;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: meridian catalog <subcommand> [options]\n\n"
             "  Reads the catalog of services and nodes.\n\n"
             "Subcommands:\n"
             "    datacenters    Lists all known datacenters\n"
             "    nodes          Lists all nodes in the given datacenter\n"
             "    services       Lists all registered services in a "
             "datacenter\n");
}

int
cmd_catalog_run (int argc, char **argv)
{
    if (argc < 1) {
        s_usage (stderr);
        return 1;
    }
    const char *sub = argv [0];
    if (strcmp (sub, "datacenters") == 0)
        return s_datacenters (argc - 1, argv + 1);
    if (strcmp (sub, "nodes") == 0)
        return s_nodes (argc - 1, argv + 1);
    if (strcmp (sub, "services") == 0)
        return s_services (argc - 1, argv + 1);
    if (strcmp (sub, "-h") == 0 || strcmp (sub, "-help") == 0
    ||  strcmp (sub, "--help") == 0) {
        s_usage (stdout);
        return 0;
    }
    fprintf (stderr, "Unknown catalog subcommand: %s\n\n", sub);
    s_usage (stderr);
    return 1;
}
