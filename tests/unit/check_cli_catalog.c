/*  Unit tests of cli/cmd_catalog's rendering: `catalog nodes` (short IDs,
    -detailed tagged addresses and meta) and `catalog services` (sorted
    names, -tags), with JSON of the wrong shape. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/cmd_catalog.h"

static const char *s_nodes =
    "[{\"ID\":\"40e4a748-2192-161a-0510-9bf59fe950b5\",\"Node\":\"server-1\","
    "  \"Address\":\"127.0.2.10\",\"Datacenter\":\"dc1\","
    "  \"TaggedAddresses\":{\"wan\":\"127.0.2.10\",\"lan\":\"127.0.2.10\"},"
    "  \"Meta\":{\"consul-network-segment\":\"\"}},"
    " {\"ID\":\"\",\"Node\":\"ext\",\"Address\":\"10.1.2.3\","
    "  \"Datacenter\":\"dc1\",\"TaggedAddresses\":null,\"Meta\":{}}]";

START_TEST (test_nodes)
{
    cJSON *nodes = cJSON_Parse (s_nodes);
    char *text = catalog_nodes_render (nodes, false);
    ck_assert_str_eq (text,
                      "Node      ID        Address     DC\n"
                      "server-1  40e4a748  127.0.2.10  dc1\n"
                      "ext                 10.1.2.3    dc1\n");
    free (text);
    text = catalog_nodes_render (nodes, true);
    ck_assert_str_eq (text,
        "Node      ID                                    Address     DC   "
        "TaggedAddresses                 Meta\n"
        "server-1  40e4a748-2192-161a-0510-9bf59fe950b5  127.0.2.10  dc1  "
        "lan=127.0.2.10, wan=127.0.2.10  consul-network-segment=\n"
        "ext                                             10.1.2.3    dc1  "
        "                                \n");
    free (text);
    cJSON_Delete (nodes);
    //  Not a list: refused. Entries of the wrong type render empty.
    cJSON *object = cJSON_Parse ("{}");
    ck_assert_ptr_null (catalog_nodes_render (object, false));
    cJSON_Delete (object);
    nodes = cJSON_Parse ("[1, {\"Node\":[]}]");
    text = catalog_nodes_render (nodes, false);
    ck_assert_str_eq (text, "Node  ID  Address  DC\n"
                            "                   \n"
                            "                   \n");
    free (text);
    cJSON_Delete (nodes);
}
END_TEST

START_TEST (test_services)
{
    cJSON *services = cJSON_Parse ("{\"web\":[\"v2\",\"v1\"],\"consul\":[],"
                                   "\"database\":[\"primary\"]}");
    char *text = catalog_services_render (services, false);
    ck_assert_str_eq (text, "consul\ndatabase\nweb\n");
    free (text);
    text = catalog_services_render (services, true);
    ck_assert_str_eq (text,
                      "consul\n"
                      "database      primary\n"
                      "web           v1,v2\n");
    free (text);
    cJSON_Delete (services);
    //  Wrong shapes.
    cJSON *list = cJSON_Parse ("[]");
    ck_assert_ptr_null (catalog_services_render (list, true));
    cJSON_Delete (list);
    services = cJSON_Parse ("{\"a\":7,\"b\":[1,\"x\"]}");
    text = catalog_services_render (services, true);
    ck_assert_str_eq (text, "a\nb      x\n");
    free (text);
    cJSON_Delete (services);
    services = cJSON_Parse ("{}");
    text = catalog_services_render (services, true);
    ck_assert_str_eq (text, "");
    free (text);
    cJSON_Delete (services);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_catalog");
    TCase *tc = tcase_create ("render");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_nodes);
    tcase_add_test (tc, test_services);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
