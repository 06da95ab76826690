/*  Unit tests of catalogd's read commands: argument parsing, Consul's
    result shapes ([] never null, {} maps), filters (tags AND, node meta,
    passing), orders, indexes and the result cache. */
#include <check.h>
#include "../../catalogd/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_register (catalog_store_t *store, const char *text, uint64_t index)
{
    char err[256] = "";
    cJSON *body = cJSON_Parse (text);
    ck_assert_msg (body != NULL, "test JSON is valid: %s", text);
    catalog_reg_t *reg = catalog_reg_from_json (body, err, sizeof err);
    cJSON_Delete (body);
    ck_assert_msg (reg != NULL, "%s", err);
    unsigned tables;
    const char *error = NULL;
    ck_assert_int_eq (catalog_store_register (store, reg, index, &tables, &error), 0);
    catalog_reg_destroy (&reg);
}

//  Three nodes: n1 and n2 run web (n2's web check critical), n3 runs db;
//  n1 carries a warning node check.
static catalog_store_t *
s_fixture (void)
{
    catalog_store_t *store = catalog_store_new ();
    s_register (store, "{\"Node\":\"n2\",\"Address\":\"10.0.0.2\","
                "\"NodeMeta\":{\"rack\":\"r2\"},"
                "\"Service\":{\"Service\":\"web\",\"Tags\":[\"v1\",\"Prod\"],\"Port\":80},"
                "\"Check\":{\"Name\":\"web-2\",\"ServiceID\":\"web\"}}", 4);
    s_register (store, "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\","
                "\"NodeMeta\":{\"rack\":\"r1\"},"
                "\"Service\":{\"Service\":\"web\",\"Tags\":[\"v2\",\"prod\"],\"Port\":81},"
                "\"Checks\":[{\"Name\":\"web-1\",\"ServiceID\":\"web\",\"Status\":\"passing\"},"
                "{\"Name\":\"mem\",\"Status\":\"passing\"}]}", 5);
    s_register (store, "{\"Node\":\"n3\",\"Address\":\"10.0.0.3\","
                "\"Service\":{\"Service\":\"db\",\"Port\":5432}}", 6);
    s_register (store, "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\","
                "\"NodeMeta\":{\"rack\":\"r1\"},"
                "\"Check\":{\"Name\":\"disk\",\"Status\":\"warning\"}}", 7);
    return store;
}

//  Runs a command on the fixture; returns the parsed Result.
static cJSON *
s_run (catalog_store_t *store, const char *command, const char *body_text,
       uint64_t *index)
{
    char err[256] = "";
    cJSON *body = cJSON_Parse (body_text);
    catalog_query_t *query = catalog_query_new (command, body, err, sizeof err);
    cJSON_Delete (body);
    ck_assert_msg (query != NULL, "%s: %s", command, err);
    uint64_t ignored;
    const char *text = catalog_query_run (query, store, NULL, "dc1",
                                          index ? index : &ignored);
    cJSON *result = cJSON_Parse (text);
    ck_assert_msg (result != NULL, "result is JSON: %s", text);
    catalog_query_destroy (&query);
    return result;
}

static const char *
s_str (const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (obj, key);
    ck_assert_msg (cJSON_IsString (item), "%s is a string", key);
    return item->valuestring;
}

static void
s_assert_keys (const cJSON *obj, const char *const keys[], size_t count)
{
    ck_assert_int_eq (cJSON_GetArraySize (obj), (int) count);
    const cJSON *item = obj->child;
    for (size_t i = 0; i < count; i++, item = item->next)
        ck_assert_str_eq (item->string, keys[i]);
}

START_TEST (test_parse)
{
    char err[256];
    const char *bad[][3] = {
        { "catalog.service", "{}", "Must provide service name" },
        { "catalog.service", "{\"ServiceName\":3}", "must be a string" },
        { "catalog.service", "{\"ServiceName\":\"w\",\"ServiceTags\":\"a\"}", "ServiceTags" },
        { "catalog.service", "{\"ServiceName\":\"w\",\"ServiceTags\":[1]}", "ServiceTags" },
        { "catalog.node", "{}", "Must provide node" },
        { "health.node", "{\"Node\":\"\"}", "Must provide node" },
        { "health.state", "{}", "Missing check state" },
        { "health.service", "{\"ServiceName\":\"w\",\"PassingOnly\":1}", "PassingOnly" },
        { "catalog.nodes", "{\"NodeMeta\":[]}", "NodeMeta" },
        { "catalog.nodes", "{\"NodeMeta\":{\"a\":1}}", "NodeMeta" },
        { "catalog.nodes", "{\"MinQueryIndex\":-1}", "Invalid index" },
        { "catalog.nodes", "{\"MinQueryIndex\":1.5}", "Invalid index" },
        { "catalog.nodes", "{\"MinQueryIndex\":\"5\"}", "Invalid index" },
        { "catalog.nodes", "{\"MaxQueryTime\":\"5s\"}", "Invalid wait time" },
        { "catalog.nodes", "{\"AllowStale\":\"yes\"}", "AllowStale" },
        { "catalog.nodes", "{\"AllowStale\":true,\"RequireConsistent\":true}", "conflicting" },
        { "catalog.nope", "{}", "unknown command" },
        { "catalog.nodes", "[]", "JSON object" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *body = cJSON_Parse (bad[i][1]);
        err[0] = 0;
        catalog_query_t *query = catalog_query_new (bad[i][0], body, err, sizeof err);
        cJSON_Delete (body);
        ck_assert_msg (query == NULL, "accepted %s %s", bad[i][0], bad[i][1]);
        ck_assert_msg (strstr (err, bad[i][2]) != NULL, "error \"%s\" lacks \"%s\"",
                       err, bad[i][2]);
    }
    ck_assert (catalog_query_known ("health.state"));
    ck_assert (!catalog_query_known ("catalog.register"));

    //  Options: defaults, clamping.
    cJSON *body = cJSON_Parse ("{\"MinQueryIndex\":12,\"MaxQueryTime\":9999999,"
                               "\"AllowStale\":true}");
    catalog_query_t *query = catalog_query_new ("catalog.nodes", body, err, sizeof err);
    cJSON_Delete (body);
    ck_assert_uint_eq (catalog_query_min_index (query), 12);
    ck_assert_int_eq (catalog_query_wait_ms (query), CATALOG_QUERY_WAIT_MAX_MS);
    ck_assert (catalog_query_allow_stale (query));
    ck_assert (!catalog_query_require_consistent (query));
    ck_assert_uint_eq (catalog_query_tables (query), CATALOG_TABLE_NODES);
    ck_assert_str_eq (catalog_query_command (query), "catalog.nodes");
    catalog_query_destroy (&query);
    query = catalog_query_new ("health.checks",
                               cJSON_GetObjectItem (NULL, "x"), err, sizeof err);
    ck_assert_ptr_null (query);     //  no ServiceName
    body = cJSON_Parse ("{\"MaxQueryTime\":0}");
    query = catalog_query_new ("catalog.services", body, err, sizeof err);
    cJSON_Delete (body);
    ck_assert_int_eq (catalog_query_wait_ms (query), CATALOG_QUERY_WAIT_DEFAULT_MS);
    ck_assert_uint_eq (catalog_query_min_index (query), 0);
    ck_assert_uint_eq (catalog_query_tables (query),
                       CATALOG_TABLE_NODES | CATALOG_TABLE_SERVICES);
    catalog_query_destroy (&query);
    body = cJSON_Parse ("{\"ServiceName\":\"web\"}");
    query = catalog_query_new ("health.service", body, err, sizeof err);
    cJSON_Delete (body);
    ck_assert_uint_eq (catalog_query_tables (query), CATALOG_TABLES_ALL);
    catalog_query_destroy (&query);
    ck_assert_ptr_null (query);
}
END_TEST

START_TEST (test_empty_store_shapes)
{
    catalog_store_t *store = catalog_store_new ();
    uint64_t index = 0;
    cJSON *result = s_run (store, "catalog.nodes", "{}", &index);
    ck_assert (cJSON_IsArray (result));
    ck_assert_int_eq (cJSON_GetArraySize (result), 0);
    //  The index is never below 1.
    ck_assert_uint_eq (index, 1);
    cJSON_Delete (result);
    result = s_run (store, "catalog.services", "{}", NULL);
    ck_assert (cJSON_IsObject (result));
    cJSON_Delete (result);
    const char *lists[][2] = {
        { "catalog.service", "{\"ServiceName\":\"x\"}" },
        { "health.service", "{\"ServiceName\":\"x\"}" },
        { "health.checks", "{\"ServiceName\":\"x\"}" },
        { "health.node", "{\"Node\":\"x\"}" },
        { "health.state", "{\"State\":\"any\"}" },
        { "health.state", "{\"State\":\"bogus\"}" },
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        result = s_run (store, lists[i][0], lists[i][1], NULL);
        ck_assert_msg (cJSON_IsArray (result), "%s gives []", lists[i][0]);
        cJSON_Delete (result);
    }
    result = s_run (store, "catalog.node", "{\"Node\":\"x\"}", NULL);
    ck_assert (cJSON_IsNull (result));
    cJSON_Delete (result);
    catalog_store_destroy (&store);
}
END_TEST

START_TEST (test_catalog_shapes)
{
    catalog_store_t *store = s_fixture ();
    uint64_t index = 0;
    cJSON *nodes = s_run (store, "catalog.nodes", "{}", &index);
    //  Index 7 changed only checks.
    ck_assert_uint_eq (index, 6);
    ck_assert_int_eq (cJSON_GetArraySize (nodes), 3);
    //  Sorted by node name; Consul's field order.
    const cJSON *first = cJSON_GetArrayItem (nodes, 0);
    ck_assert_str_eq (s_str (first, "Node"), "n1");
    static const char *node_keys[] = { "ID", "Node", "Address", "Datacenter",
                                       "TaggedAddresses", "Meta", "CreateIndex",
                                       "ModifyIndex" };
    s_assert_keys (first, node_keys, 8);
    ck_assert_str_eq (s_str (first, "Datacenter"), "dc1");
    ck_assert (cJSON_IsObject (cJSON_GetObjectItem (first, "TaggedAddresses")));
    cJSON_Delete (nodes);

    cJSON *services = s_run (store, "catalog.service", "{\"ServiceName\":\"web\"}",
                             &index);
    ck_assert_uint_eq (index, 6);
    ck_assert_int_eq (cJSON_GetArraySize (services), 2);
    first = cJSON_GetArrayItem (services, 0);
    static const char *service_keys[] = {
        "ID", "Node", "Address", "Datacenter", "TaggedAddresses", "NodeMeta",
        "ServiceKind", "ServiceID", "ServiceName", "ServiceTags",
        "ServiceAddress", "ServiceTaggedAddresses", "ServiceWeights",
        "ServiceMeta", "ServicePort", "ServiceEnableTagOverride",
        "ServiceProxy", "ServiceConnect", "CreateIndex", "ModifyIndex" };
    s_assert_keys (first, service_keys, 20);
    ck_assert_str_eq (s_str (first, "Node"), "n1");
    const cJSON *weights = cJSON_GetObjectItem (first, "ServiceWeights");
    ck_assert_int_eq (cJSON_GetObjectItem (weights, "Passing")->valueint, 1);
    ck_assert_int_eq (cJSON_GetObjectItem (weights, "Warning")->valueint, 1);
    ck_assert (cJSON_IsObject (cJSON_GetObjectItem (first, "ServiceMeta")));
    ck_assert (cJSON_IsObject (cJSON_GetObjectItem (first, "ServiceProxy")));
    ck_assert_uint_eq ((uint64_t) cJSON_GetObjectItem (first, "CreateIndex")->valuedouble, 5);
    cJSON_Delete (services);

    //  Tags: AND, case-insensitive.
    services = s_run (store, "catalog.service",
                      "{\"ServiceName\":\"WEB\",\"ServiceTags\":[\"PROD\",\"v1\"]}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (services), 1);
    ck_assert_str_eq (s_str (cJSON_GetArrayItem (services, 0), "Node"), "n2");
    cJSON_Delete (services);
    services = s_run (store, "catalog.service",
                      "{\"ServiceName\":\"web\",\"ServiceTags\":[\"v1\",\"v2\"]}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (services), 0);
    cJSON_Delete (services);
    //  Node meta filter.
    services = s_run (store, "catalog.service",
                      "{\"ServiceName\":\"web\",\"NodeMeta\":{\"rack\":\"r1\"}}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (services), 1);
    ck_assert_str_eq (s_str (cJSON_GetArrayItem (services, 0), "Node"), "n1");
    cJSON_Delete (services);
    nodes = s_run (store, "catalog.nodes", "{\"NodeMeta\":{\"rack\":\"r2\"}}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (nodes), 1);
    cJSON_Delete (nodes);

    //  catalog.services: name -> sorted union of tags.
    cJSON *names = s_run (store, "catalog.services", "{}", NULL);
    static const char *name_keys[] = { "db", "web" };
    s_assert_keys (names, name_keys, 2);
    const cJSON *tags = cJSON_GetObjectItem (names, "web");
    ck_assert_int_eq (cJSON_GetArraySize (tags), 4);
    ck_assert_str_eq (cJSON_GetArrayItem (tags, 0)->valuestring, "Prod");
    ck_assert (cJSON_IsArray (cJSON_GetObjectItem (names, "db")));
    ck_assert_int_eq (cJSON_GetArraySize (cJSON_GetObjectItem (names, "db")), 0);
    cJSON_Delete (names);
    names = s_run (store, "catalog.services", "{\"NodeMeta\":{\"rack\":\"r2\"}}", NULL);
    static const char *web_only[] = { "web" };
    s_assert_keys (names, web_only, 1);
    cJSON_Delete (names);

    //  catalog.node: {Node, Services:{id:{...}}}.
    cJSON *node = s_run (store, "catalog.node", "{\"Node\":\"n1\"}", NULL);
    ck_assert_str_eq (s_str (cJSON_GetObjectItem (node, "Node"), "Node"), "n1");
    const cJSON *web = cJSON_GetObjectItem (cJSON_GetObjectItem (node, "Services"), "web");
    static const char *ns_keys[] = { "ID", "Service", "Tags", "Address",
                                     "TaggedAddresses", "Meta", "Port", "Weights",
                                     "EnableTagOverride", "Proxy", "Connect",
                                     "CreateIndex", "ModifyIndex" };
    s_assert_keys (web, ns_keys, 13);
    cJSON_Delete (node);
    catalog_store_destroy (&store);
}
END_TEST

START_TEST (test_health_shapes_and_filters)
{
    catalog_store_t *store = s_fixture ();
    cJSON *checks = s_run (store, "health.node", "{\"Node\":\"n1\"}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (checks), 3);
    //  Sorted by CheckID; Consul's check fields.
    const cJSON *check = cJSON_GetArrayItem (checks, 0);
    ck_assert_str_eq (s_str (check, "CheckID"), "disk");
    static const char *check_keys[] = {
        "Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID",
        "ServiceName", "ServiceTags", "Type", "Definition", "CreateIndex",
        "ModifyIndex" };
    s_assert_keys (check, check_keys, 13);
    //  A node check: no service, ServiceTags [] (never null).
    ck_assert_str_eq (s_str (check, "ServiceName"), "");
    ck_assert (cJSON_IsArray (cJSON_GetObjectItem (check, "ServiceTags")));
    ck_assert (cJSON_IsObject (cJSON_GetObjectItem (check, "Definition")));
    //  A service check carries the service's name and tags.
    check = cJSON_GetArrayItem (checks, 2);
    ck_assert_str_eq (s_str (check, "CheckID"), "web-1");
    ck_assert_str_eq (s_str (check, "ServiceName"), "web");
    ck_assert_int_eq (cJSON_GetArraySize (cJSON_GetObjectItem (check, "ServiceTags")), 2);
    cJSON_Delete (checks);

    checks = s_run (store, "health.checks", "{\"ServiceName\":\"web\"}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (checks), 2);
    ck_assert_str_eq (s_str (cJSON_GetArrayItem (checks, 0), "Node"), "n1");
    cJSON_Delete (checks);

    //  health.service: node checks first, then the service's; both entries.
    cJSON *entries = s_run (store, "health.service", "{\"ServiceName\":\"web\"}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (entries), 2);
    const cJSON *entry = cJSON_GetArrayItem (entries, 0);
    static const char *entry_keys[] = { "Node", "Service", "Checks" };
    s_assert_keys (entry, entry_keys, 3);
    const cJSON *entry_checks = cJSON_GetObjectItem (entry, "Checks");
    ck_assert_int_eq (cJSON_GetArraySize (entry_checks), 3);
    ck_assert_str_eq (s_str (cJSON_GetArrayItem (entry_checks, 0), "CheckID"), "disk");
    ck_assert_str_eq (s_str (cJSON_GetArrayItem (entry_checks, 1), "CheckID"), "mem");
    ck_assert_str_eq (s_str (cJSON_GetArrayItem (entry_checks, 2), "CheckID"), "web-1");
    ck_assert_str_eq (s_str (cJSON_GetObjectItem (entry, "Service"), "Service"), "web");
    cJSON_Delete (entries);

    //  PassingOnly: n1 has a warning node check, n2 a critical web check.
    entries = s_run (store, "health.service",
                     "{\"ServiceName\":\"web\",\"PassingOnly\":true}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (entries), 0);
    cJSON_Delete (entries);
    s_register (store, "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\","
                "\"NodeMeta\":{\"rack\":\"r1\"},"
                "\"Check\":{\"Name\":\"disk\",\"Status\":\"passing\"}}", 8);
    entries = s_run (store, "health.service",
                     "{\"ServiceName\":\"web\",\"PassingOnly\":true}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (entries), 1);
    ck_assert_str_eq (s_str (cJSON_GetObjectItem (cJSON_GetArrayItem (entries, 0), "Node"),
                             "Node"), "n1");
    cJSON_Delete (entries);
    //  A service without checks passes.
    entries = s_run (store, "health.service",
                     "{\"ServiceName\":\"db\",\"PassingOnly\":true}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (entries), 1);
    ck_assert_int_eq (cJSON_GetArraySize (cJSON_GetObjectItem (
                          cJSON_GetArrayItem (entries, 0), "Checks")), 0);
    cJSON_Delete (entries);

    //  health.state.
    checks = s_run (store, "health.state", "{\"State\":\"critical\"}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (checks), 1);
    ck_assert_str_eq (s_str (cJSON_GetArrayItem (checks, 0), "CheckID"), "web-2");
    cJSON_Delete (checks);
    checks = s_run (store, "health.state", "{\"State\":\"any\"}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (checks), 4);
    cJSON_Delete (checks);
    checks = s_run (store, "health.state",
                    "{\"State\":\"passing\",\"NodeMeta\":{\"rack\":\"r1\"}}", NULL);
    ck_assert_int_eq (cJSON_GetArraySize (checks), 3);
    cJSON_Delete (checks);
    catalog_store_destroy (&store);
}
END_TEST

START_TEST (test_cache)
{
    catalog_store_t *store = s_fixture ();
    catalog_cache_t *cache = catalog_cache_new (16, 1024 * 1024);
    char err[128];
    cJSON *body = cJSON_Parse ("{\"ServiceName\":\"web\"}");
    catalog_query_t *query = catalog_query_new ("catalog.service", body, err, sizeof err);
    catalog_query_t *twin = catalog_query_new ("catalog.service", body, err, sizeof err);
    cJSON_Delete (body);
    uint64_t index = 0;
    const char *text = catalog_query_run (query, store, cache, "dc1", &index);
    char *copy = strdup (text);
    ck_assert_uint_eq (catalog_cache_misses (cache), 1);
    //  The same query (any instance) is answered from the cache.
    const char *again = catalog_query_run (twin, store, cache, "dc1", &index);
    ck_assert_ptr_eq (again, text);
    ck_assert_uint_eq (catalog_cache_hits (cache), 1);
    ck_assert_uint_eq (catalog_cache_size (cache), 1);
    //  A checks-only change does not touch the tables catalog.service reads.
    s_register (store, "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\","
                "\"NodeMeta\":{\"rack\":\"r1\"},"
                "\"Check\":{\"Name\":\"disk\",\"Status\":\"critical\"}}", 8);
    catalog_query_run (query, store, cache, "dc1", &index);
    ck_assert_uint_eq (catalog_cache_hits (cache), 2);
    ck_assert_uint_eq (index, 6);
    //  A service change does.
    s_register (store, "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\","
                "\"NodeMeta\":{\"rack\":\"r1\"},"
                "\"Service\":{\"Service\":\"web\",\"Port\":9999}}", 9);
    text = catalog_query_run (query, store, cache, "dc1", &index);
    ck_assert_uint_eq (catalog_cache_misses (cache), 2);
    ck_assert_uint_eq (index, 9);
    ck_assert_str_ne (text, copy);
    ck_assert_ptr_nonnull (strstr (text, "9999"));
    free (copy);
    //  A restore invalidates everything (new epoch) whatever the indexes.
    size_t size;
    char *snapshot = catalog_store_snapshot (store, &size);
    ck_assert_int_eq (catalog_store_restore (store, snapshot, size, err, sizeof err), 0);
    free (snapshot);
    catalog_query_run (query, store, cache, "dc1", &index);
    ck_assert_uint_eq (catalog_cache_misses (cache), 3);
    //  Bounded: more distinct queries than entries keeps the size bounded.
    for (int i = 0; i < 40; i++) {
        char text_body[64];
        snprintf (text_body, sizeof text_body, "{\"Node\":\"n%d\"}", i);
        body = cJSON_Parse (text_body);
        catalog_query_t *other = catalog_query_new ("health.node", body, err, sizeof err);
        cJSON_Delete (body);
        catalog_query_run (other, store, cache, "dc1", &index);
        catalog_query_destroy (&other);
        ck_assert_uint_le (catalog_cache_size (cache), 16);
    }
    catalog_query_destroy (&query);
    catalog_query_destroy (&twin);
    catalog_cache_destroy (&cache);
    ck_assert_ptr_null (cache);
    catalog_store_destroy (&store);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("catalog_query");
    TCase *parse = tcase_create ("parse");
    tcase_set_timeout (parse, 10);
    tcase_add_test (parse, test_parse);
    suite_add_tcase (suite, parse);
    TCase *shapes = tcase_create ("shapes");
    tcase_set_timeout (shapes, 10);
    tcase_add_test (shapes, test_empty_store_shapes);
    tcase_add_test (shapes, test_catalog_shapes);
    tcase_add_test (shapes, test_health_shapes_and_filters);
    suite_add_tcase (suite, shapes);
    TCase *cache = tcase_create ("cache");
    tcase_set_timeout (cache, 10);
    tcase_add_test (cache, test_cache);
    suite_add_tcase (suite, cache);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
