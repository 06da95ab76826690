/*  Unit tests of catalogd's state store: Consul's register/deregister
    rules, per-table indexes, no-op writes, snapshot and restore. */
#include <check.h>
#include "../../catalogd/store.h"

#include <stdlib.h>
#include <string.h>

//  Registers a JSON body at index; returns the tables changed, or -1.
static int
s_register (catalog_store_t *store, const char *text, uint64_t index)
{
    char err[256] = "";
    cJSON *body = cJSON_Parse (text);
    ck_assert_msg (body != NULL, "test JSON is valid: %s", text);
    catalog_reg_t *reg = catalog_reg_from_json (body, err, sizeof err);
    cJSON_Delete (body);
    ck_assert_msg (reg != NULL, "%s", err);
    unsigned tables = 0;
    const char *error = NULL;
    int rc = catalog_store_register (store, reg, index, &tables, &error);
    catalog_reg_destroy (&reg);
    return rc ? -1 : (int) tables;
}

static unsigned
s_deregister (catalog_store_t *store, const char *text, uint64_t index)
{
    char err[256] = "";
    cJSON *body = cJSON_Parse (text);
    catalog_dereg_t *dereg = catalog_dereg_from_json (body, err, sizeof err);
    cJSON_Delete (body);
    ck_assert_msg (dereg != NULL, "%s", err);
    unsigned tables = 0;
    ck_assert_int_eq (catalog_store_deregister (store, dereg, index, &tables), 0);
    catalog_dereg_destroy (&dereg);
    return tables;
}

static size_t
s_count_checks (catalog_store_t *store, const char *node)
{
    catalog_list_t list = { 0 };
    catalog_store_node_checks (store, node, &list);
    size_t size = list.size;
    catalog_list_free (&list);
    return size;
}

static size_t
s_count_instances (catalog_store_t *store, const char *name)
{
    catalog_list_t list = { 0 };
    catalog_store_service_instances (store, name, &list);
    size_t size = list.size;
    catalog_list_free (&list);
    return size;
}

#define WEB_NODE \
    "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\"," \
    "\"Service\":{\"Service\":\"web\",\"Port\":80}," \
    "\"Checks\":[{\"Name\":\"web-alive\",\"ServiceID\":\"web\"}," \
    "{\"Name\":\"node-alive\",\"Status\":\"passing\"}]}"

START_TEST (test_register_and_indexes)
{
    catalog_store_t *store = catalog_store_new ();
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLES_ALL), 0);
    ck_assert_int_eq (s_register (store, WEB_NODE, 5), (int) CATALOG_TABLES_ALL);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLE_NODES), 5);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLE_CHECKS), 5);
    const catalog_node_t *node = catalog_store_node (store, "n1");
    ck_assert_ptr_nonnull (node);
    ck_assert_uint_eq (node->create_index, 5);
    //  Names are case-insensitive keys.
    ck_assert_ptr_eq (catalog_store_node (store, "N1"), node);
    const catalog_service_t *service = catalog_store_service (store, "n1", "WEB");
    ck_assert_ptr_nonnull (service);
    ck_assert_str_eq (service->id, "web");
    ck_assert_uint_eq (s_count_checks (store, "n1"), 2);
    ck_assert_uint_eq (s_count_instances (store, "web"), 1);

    //  The same write again changes nothing: no table index moves.
    ck_assert_int_eq (s_register (store, WEB_NODE, 6), 0);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLES_ALL), 5);

    //  A check-only change touches only the checks table.
    ck_assert_int_eq (s_register (store,
                                  "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\","
                                  "\"Check\":{\"Name\":\"web-alive\","
                                  "\"ServiceID\":\"web\",\"Status\":\"passing\"}}",
                                  7),
                      (int) CATALOG_TABLE_CHECKS);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLE_CHECKS), 7);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLE_SERVICES), 5);
    ck_assert_uint_eq (catalog_store_index (store,
                                            CATALOG_TABLE_NODES
                                            | CATALOG_TABLE_SERVICES), 5);
    //  The updated check keeps its CreateIndex.
    catalog_list_t checks = { 0 };
    catalog_store_node_checks (store, "n1", &checks);
    for (size_t i = 0; i < checks.size; i++) {
        const catalog_check_t *check = (const catalog_check_t *) checks.items[i];
        if (strcmp (check->check_id, "web-alive") == 0) {
            ck_assert_uint_eq (check->create_index, 5);
            ck_assert_uint_eq (check->modify_index, 7);
            ck_assert_int_eq (check->status, CATALOG_PASSING);
        }
    }
    catalog_list_free (&checks);

    //  A node address change touches only nodes.
    ck_assert_int_eq (s_register (store,
                                  "{\"Node\":\"n1\",\"Address\":\"10.0.0.9\"}", 8),
                      (int) CATALOG_TABLE_NODES);
    ck_assert_str_eq (catalog_store_node (store, "n1")->address, "10.0.0.9");
    //  SkipNodeUpdate leaves an existing node alone.
    ck_assert_int_eq (s_register (store,
                                  "{\"Node\":\"n1\",\"SkipNodeUpdate\":true,"
                                  "\"Service\":{\"Service\":\"db\"}}", 9),
                      (int) CATALOG_TABLE_SERVICES);
    ck_assert_str_eq (catalog_store_node (store, "n1")->address, "10.0.0.9");
    catalog_store_destroy (&store);
    ck_assert_ptr_null (store);
}
END_TEST

START_TEST (test_check_needs_service)
{
    catalog_store_t *store = catalog_store_new ();
    //  A check may name only a service of its own node.
    ck_assert_int_eq (s_register (store,
                                  "{\"Node\":\"n1\",\"Address\":\"a\","
                                  "\"Check\":{\"Name\":\"c\",\"ServiceID\":\"web\"}}",
                                  3), -1);
    ck_assert_uint_eq (catalog_store_node_count (store), 0);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLES_ALL), 0);
    ck_assert_int_eq (s_register (store, WEB_NODE, 4), (int) CATALOG_TABLES_ALL);
    ck_assert_int_eq (s_register (store,
                                  "{\"Node\":\"n2\",\"Address\":\"b\","
                                  "\"Check\":{\"Name\":\"c\",\"ServiceID\":\"web\"}}",
                                  5), -1);
    ck_assert_ptr_null (catalog_store_node (store, "n2"));
    //  The service registered in the same request counts.
    ck_assert (s_register (store,
                           "{\"Node\":\"n2\",\"Address\":\"b\","
                           "\"Service\":{\"Service\":\"web\"},"
                           "\"Check\":{\"Name\":\"c\",\"ServiceID\":\"web\"}}",
                           6) > 0);
    ck_assert_uint_eq (s_count_instances (store, "web"), 2);
    catalog_store_destroy (&store);
}
END_TEST

START_TEST (test_deregister_cascades)
{
    catalog_store_t *store = catalog_store_new ();
    s_register (store, WEB_NODE, 3);
    s_register (store, "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\","
                "\"Service\":{\"Service\":\"db\"},"
                "\"Check\":{\"Name\":\"db-alive\",\"ServiceID\":\"db\"}}", 4);
    ck_assert_uint_eq (s_count_checks (store, "n1"), 3);
    //  Deregistering a service removes its checks only.
    ck_assert_uint_eq (s_deregister (store, "{\"Node\":\"n1\",\"ServiceID\":\"web\"}", 5),
                       CATALOG_TABLE_SERVICES | CATALOG_TABLE_CHECKS);
    ck_assert_uint_eq (s_count_checks (store, "n1"), 2);
    ck_assert_uint_eq (s_count_instances (store, "web"), 0);
    ck_assert_uint_eq (s_count_instances (store, "db"), 1);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLE_NODES), 3);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLE_SERVICES), 5);
    //  Deregistering one check.
    ck_assert_uint_eq (s_deregister (store, "{\"Node\":\"n1\",\"CheckID\":\"node-alive\"}", 6),
                       CATALOG_TABLE_CHECKS);
    ck_assert_uint_eq (s_count_checks (store, "n1"), 1);
    //  Absent things: no change.
    ck_assert_uint_eq (s_deregister (store, "{\"Node\":\"n1\",\"CheckID\":\"nope\"}", 7), 0);
    ck_assert_uint_eq (s_deregister (store, "{\"Node\":\"ghost\"}", 8), 0);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLE_CHECKS), 6);
    //  Deregistering the node removes its services and checks.
    ck_assert_uint_eq (s_deregister (store, "{\"Node\":\"N1\"}", 9), CATALOG_TABLES_ALL);
    ck_assert_uint_eq (catalog_store_node_count (store), 0);
    ck_assert_uint_eq (s_count_instances (store, "db"), 0);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLES_ALL), 9);
    //  A node without services or checks touches only nodes.
    s_register (store, "{\"Node\":\"bare\",\"Address\":\"a\"}", 10);
    ck_assert_uint_eq (s_deregister (store, "{\"Node\":\"bare\"}", 11),
                       CATALOG_TABLE_NODES);
    catalog_store_destroy (&store);
}
END_TEST

START_TEST (test_node_id_rename)
{
    catalog_store_t *store = catalog_store_new ();
    s_register (store, "{\"Node\":\"old\",\"Address\":\"a\","
                "\"ID\":\"40e4a748-2192-161a-0510-9bf59fe950b5\","
                "\"Service\":{\"Service\":\"web\"}}", 3);
    //  The same node ID under a new name replaces the old node (Consul's
    //  rename), with its services.
    ck_assert_int_eq (s_register (store, "{\"Node\":\"new\",\"Address\":\"a\","
                                  "\"ID\":\"40e4a748-2192-161a-0510-9bf59fe950b5\"}", 4),
                      (int) (CATALOG_TABLE_NODES | CATALOG_TABLE_SERVICES));
    ck_assert_ptr_null (catalog_store_node (store, "old"));
    ck_assert_ptr_nonnull (catalog_store_node (store, "new"));
    ck_assert_uint_eq (s_count_instances (store, "web"), 0);
    catalog_store_destroy (&store);
}
END_TEST

START_TEST (test_readers)
{
    catalog_store_t *store = catalog_store_new ();
    s_register (store, WEB_NODE, 3);
    s_register (store, "{\"Node\":\"n2\",\"Address\":\"b\","
                "\"Service\":{\"Service\":\"web\",\"ID\":\"web-2\"}}", 4);
    s_register (store, "{\"Node\":\"n2\",\"Address\":\"b\","
                "\"Service\":{\"Service\":\"db\"}}", 5);
    catalog_list_t list = { 0 };
    catalog_store_nodes (store, &list);
    ck_assert_uint_eq (list.size, 2);
    catalog_list_clear (&list);
    catalog_store_service_names (store, &list);
    ck_assert_uint_eq (list.size, 2);
    catalog_list_clear (&list);
    catalog_store_node_services (store, "n2", &list);
    ck_assert_uint_eq (list.size, 2);
    catalog_list_clear (&list);
    catalog_store_checks (store, &list);
    ck_assert_uint_eq (list.size, 2);
    catalog_list_clear (&list);
    catalog_store_node_services (store, "ghost", &list);
    ck_assert_uint_eq (list.size, 0);
    catalog_list_free (&list);
    //  Renaming a service moves it between names.
    s_register (store, "{\"Node\":\"n2\",\"Address\":\"b\","
                "\"Service\":{\"Service\":\"api\",\"ID\":\"web-2\"}}", 6);
    ck_assert_uint_eq (s_count_instances (store, "web"), 1);
    ck_assert_uint_eq (s_count_instances (store, "api"), 1);
    ck_assert_str_eq (catalog_table_name (CATALOG_TABLE_SERVICES), "services");
    catalog_store_destroy (&store);
}
END_TEST

START_TEST (test_snapshot_roundtrip)
{
    catalog_store_t *store = catalog_store_new ();
    s_register (store, WEB_NODE, 3);
    s_register (store, "{\"Node\":\"n2\",\"Address\":\"b\","
                "\"ID\":\"40e4a748-2192-161a-0510-9bf59fe950b5\","
                "\"NodeMeta\":{\"rack\":\"r2\"},"
                "\"Service\":{\"Service\":\"web\",\"ID\":\"web-2\",\"Tags\":[\"x\"]},"
                "\"Check\":{\"Name\":\"c\",\"ServiceID\":\"web-2\",\"Output\":\"ok\"}}", 9);
    s_deregister (store, "{\"Node\":\"n1\",\"CheckID\":\"node-alive\"}", 11);
    size_t size = 0;
    char *text = catalog_store_snapshot (store, &size);
    ck_assert_ptr_nonnull (text);
    ck_assert_uint_eq (size, strlen (text));

    catalog_store_t *copy = catalog_store_new ();
    char err[256] = "";
    uint64_t epoch = catalog_store_epoch (copy);
    ck_assert_msg (catalog_store_restore (copy, text, size, err, sizeof err) == 0,
                   "%s", err);
    ck_assert_uint_gt (catalog_store_epoch (copy), epoch);
    for (unsigned t = 1; t <= CATALOG_TABLE_CHECKS; t <<= 1)
        ck_assert_uint_eq (catalog_store_index (copy, t),
                           catalog_store_index (store, t));
    const catalog_node_t *a = catalog_store_node (store, "n2");
    const catalog_node_t *b = catalog_store_node (copy, "n2");
    ck_assert (catalog_node_same (a, b));
    ck_assert_uint_eq (b->create_index, 9);
    const catalog_service_t *sa = catalog_store_service (store, "n2", "web-2");
    const catalog_service_t *sb = catalog_store_service (copy, "n2", "web-2");
    ck_assert (catalog_service_same (sa, sb));
    ck_assert_uint_eq (sb->modify_index, 9);
    ck_assert_uint_eq (s_count_instances (copy, "web"), 2);
    ck_assert_uint_eq (s_count_checks (copy, "n1"), 1);
    //  The same text again: the same snapshot.
    size_t size2 = 0;
    char *text2 = catalog_store_snapshot (copy, &size2);
    ck_assert_uint_eq (size2, size);
    free (text2);
    free (text);
    catalog_store_destroy (&copy);
    catalog_store_destroy (&store);
}
END_TEST

START_TEST (test_restore_malformed)
{
    catalog_store_t *store = catalog_store_new ();
    s_register (store, WEB_NODE, 3);
    const char *bad[] = {
        "",
        "not json",
        "[]",
        "{\"Version\":2,\"Tables\":{},\"Nodes\":[]}",
        "{\"Version\":1,\"Nodes\":[]}",
        "{\"Version\":1,\"Tables\":{\"nodes\":1,\"services\":1},\"Nodes\":[]}",
        "{\"Version\":1,\"Tables\":{\"nodes\":1,\"services\":1,\"checks\":1},"
        "\"Nodes\":[{\"Address\":\"a\"}]}",
        "{\"Version\":1,\"Tables\":{\"nodes\":1,\"services\":1,\"checks\":1},"
        "\"Nodes\":[{\"Node\":\"x\",\"Checks\":[{\"Name\":\"c\",\"ServiceID\":\"s\"}]}]}",
        "{\"Version\":1,\"Tables\":{\"nodes\":1,\"services\":1,\"checks\":1},"
        "\"Nodes\":[{\"Node\":\"x\"},{\"Node\":\"X\"}]}",
        "{\"Version\":1,\"Tables\":{\"nodes\":1,\"services\":1,\"checks\":1},"
        "\"Nodes\":[{\"Node\":\"x\",\"Services\":{}}]}",
        "{\"Version\":1,\"Tables\":{\"nodes\":1,\"services\":1,\"checks\":1},"
        "\"Nodes\":[{\"Node\":\"x\",\"CreateIndex\":-4}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        ck_assert_msg (catalog_store_restore (store, bad[i], strlen (bad[i]),
                                              err, sizeof err) == -1,
                       "accepted: %s", bad[i]);
        ck_assert (*err);
    }
    //  A failed restore changes nothing.
    ck_assert_ptr_nonnull (catalog_store_node (store, "n1"));
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLES_ALL), 3);
    ck_assert_uint_eq (catalog_store_epoch (store), 0);
    catalog_store_destroy (&store);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("catalog_store");
    TCase *rules = tcase_create ("rules");
    tcase_set_timeout (rules, 10);
    tcase_add_test (rules, test_register_and_indexes);
    tcase_add_test (rules, test_check_needs_service);
    tcase_add_test (rules, test_deregister_cascades);
    tcase_add_test (rules, test_node_id_rename);
    tcase_add_test (rules, test_readers);
    suite_add_tcase (suite, rules);
    TCase *snapshot = tcase_create ("snapshot");
    tcase_set_timeout (snapshot, 10);
    tcase_add_test (snapshot, test_snapshot_roundtrip);
    tcase_add_test (snapshot, test_restore_malformed);
    suite_add_tcase (suite, snapshot);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
