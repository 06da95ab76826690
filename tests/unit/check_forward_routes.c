/*  Unit tests of forwarderd/fwd_routes: server lists from gossipd member
    lists, picking, rotation of failed servers, known vs reachable DCs,
    the datacenters order (docs/protocol/server-rpc.md, "Routing"). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../forwarderd/fwd_routes.h"

//  One member in Consul's /v1/agent/members shape.
static cJSON *
s_member (const char *name, const char *addr, const char *port, const char *dc,
          const char *role, int status)
{
    cJSON *member = cJSON_CreateObject ();
    cJSON_AddStringToObject (member, "Name", name);
    cJSON_AddStringToObject (member, "Addr", addr);
    cJSON_AddNumberToObject (member, "Port", 8302);
    cJSON *tags = cJSON_AddObjectToObject (member, "Tags");
    cJSON_AddStringToObject (tags, "role", role);
    cJSON_AddStringToObject (tags, "dc", dc);
    if (port)
        cJSON_AddStringToObject (tags, "port", port);
    cJSON_AddStringToObject (tags, "id", "2f1c5c1e-0000-0000-0000-000000000000");
    cJSON_AddNumberToObject (member, "Status", status);
    return member;
}

static cJSON *
s_wan_members (void)
{
    cJSON *list = cJSON_CreateArray ();
    cJSON_AddItemToArray (list, s_member ("s1.dc1", "10.0.0.1", "8300", "dc1", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("s2.dc1", "10.0.0.2", "8300", "dc1", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("s1.dc2", "10.0.0.1", "8300", "dc2", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("s2.dc2", "10.0.1.2", "8300", "dc2", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("s3.dc2", "10.0.1.3", "8300", "dc2", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("s1.dc0", "10.0.2.1", "8300", "dc0", "consul", 4));
    cJSON_AddItemToArray (list, s_member ("s1.dc9", "10.0.9.1", "8300", "dc9", "consul", 3));
    cJSON_AddItemToArray (list, s_member ("s1.dca", "10.0.10.1", "8300", "dca", "consul", 2));
    return list;
}

START_TEST (test_update_and_pick)
{
    fwd_routes_t *routes = fwd_routes_new ("dc1", false, 42);
    ck_assert_ptr_nonnull (routes);
    char address[FWD_ADDRESS_MAX];
    //  Before any member list, only the local DC is named.
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, address, sizeof address),
                      FWD_ROUTE_NO_PATH);
    cJSON *list = fwd_routes_datacenters (routes);
    ck_assert_int_eq (cJSON_GetArraySize (list), 1);
    cJSON_Delete (list);

    cJSON *members = s_wan_members ();
    ck_assert_int_eq (fwd_routes_update (routes, members), 7);
    cJSON_Delete (members);
    ck_assert (fwd_routes_known (routes, "dc1"));
    ck_assert (fwd_routes_known (routes, "dc2"));
    ck_assert (fwd_routes_known (routes, "dc0"));     //  failed: still known
    ck_assert (fwd_routes_known (routes, "dca"));     //  leaving: still known
    ck_assert (!fwd_routes_known (routes, "dc9"));    //  left: gone
    ck_assert_int_eq (fwd_routes_server_count (routes, "dc2"), 3);

    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, address, sizeof address),
                      FWD_ROUTE_OK);
    ck_assert (fwd_routes_has (routes, "dc2", address));
    ck_assert_int_eq (fwd_routes_pick (routes, "dc0", NULL, NULL, NULL, address, sizeof address),
                      FWD_ROUTE_NO_SERVER);
    ck_assert_int_eq (fwd_routes_pick (routes, "dca", NULL, NULL, NULL, address, sizeof address),
                      FWD_ROUTE_NO_SERVER);
    ck_assert_int_eq (fwd_routes_pick (routes, "dc9", NULL, NULL, NULL, address, sizeof address),
                      FWD_ROUTE_NO_PATH);
    ck_assert_int_eq (fwd_routes_pick (routes, NULL, NULL, NULL, NULL, address, sizeof address),
                      FWD_ROUTE_NO_PATH);

    //  The same address in two DCs is two distinct servers (#19503).
    ck_assert (fwd_routes_has (routes, "dc1", "10.0.0.1:8300"));
    ck_assert (fwd_routes_has (routes, "dc2", "10.0.0.1:8300"));
    ck_assert (!fwd_routes_has (routes, "dc0", "10.0.0.1:8300"));

    //  Local first, then by name.
    list = fwd_routes_datacenters (routes);
    char *text = cJSON_PrintUnformatted (list);
    ck_assert_str_eq (text, "[\"dc1\",\"dc0\",\"dc2\",\"dca\"]");
    free (text);
    cJSON_Delete (list);
    fwd_routes_destroy (&routes);
    ck_assert_ptr_null (routes);
    fwd_routes_destroy (&routes);
}
END_TEST

START_TEST (test_rotation_and_order_kept)
{
    fwd_routes_t *routes = fwd_routes_new ("dc1", false, 7);
    cJSON *members = s_wan_members ();
    fwd_routes_update (routes, members);
    char first[FWD_ADDRESS_MAX], second[FWD_ADDRESS_MAX], again[FWD_ADDRESS_MAX];
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, first, sizeof first), 0);
    //  Picking does not rotate: the head stays the head.
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, again, sizeof again), 0);
    ck_assert_str_eq (first, again);
    //  A failure moves it to the back.
    fwd_routes_fail (routes, "dc2", first);
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, second, sizeof second), 0);
    ck_assert_str_ne (first, second);
    fwd_routes_fail (routes, "dc2", second);
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, again, sizeof again), 0);
    ck_assert_str_ne (again, first);
    ck_assert_str_ne (again, second);
    fwd_routes_fail (routes, "dc2", again);
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, again, sizeof again), 0);
    ck_assert_str_eq (again, first);        //  round the list
    //  exclude skips one.
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", first, NULL, NULL, again, sizeof again), 0);
    ck_assert_str_eq (again, second);
    //  Unknown servers and DCs are ignored by fail.
    fwd_routes_fail (routes, "dc2", "1.2.3.4:1");
    fwd_routes_fail (routes, "nope", "1.2.3.4:1");
    //  An update with the same members keeps the order.
    fwd_routes_update (routes, members);
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, again, sizeof again), 0);
    ck_assert_str_eq (again, first);
    //  A server gone from the list is dropped; one that failed is skipped.
    cJSON *member;
    cJSON_ArrayForEach (member, members) {
        cJSON *tags = cJSON_GetObjectItem (member, "Tags");
        char addr[FWD_ADDRESS_MAX];
        snprintf (addr, sizeof addr, "%s:8300", cJSON_GetObjectItem (member, "Addr")->valuestring);
        if (strcmp (cJSON_GetObjectItem (tags, "dc")->valuestring, "dc2") == 0
            && strcmp (addr, first) == 0)
            cJSON_SetNumberValue (cJSON_GetObjectItem (member, "Status"), 4);
    }
    fwd_routes_update (routes, members);
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, again, sizeof again), 0);
    ck_assert_str_eq (again, second);
    ck_assert_int_eq (fwd_routes_server_count (routes, "dc2"), 3);
    //  Rebalance keeps the same set.
    fwd_routes_rebalance (routes);
    ck_assert_int_eq (fwd_routes_server_count (routes, "dc2"), 3);
    ck_assert (fwd_routes_has (routes, "dc2", first));
    ck_assert (fwd_routes_has (routes, "dc2", second));
    cJSON_Delete (members);
    //  An empty list forgets every DC.
    cJSON *empty = cJSON_CreateArray ();
    ck_assert_int_eq (fwd_routes_update (routes, empty), 0);
    cJSON_Delete (empty);
    ck_assert (!fwd_routes_known (routes, "dc2"));
    fwd_routes_destroy (&routes);
}
END_TEST

static bool
s_not_first (void *arg, const char *dc, const char *address)
{
    return strcmp (address, (const char *) arg) != 0;
}

START_TEST (test_usable_callback)
{
    fwd_routes_t *routes = fwd_routes_new ("dc1", false, 3);
    cJSON *members = s_wan_members ();
    fwd_routes_update (routes, members);
    cJSON_Delete (members);
    char head[FWD_ADDRESS_MAX], other[FWD_ADDRESS_MAX];
    fwd_routes_pick (routes, "dc2", NULL, NULL, NULL, head, sizeof head);
    ck_assert_int_eq (fwd_routes_pick (routes, "dc2", NULL, s_not_first, head, other, sizeof other), 0);
    ck_assert_str_ne (head, other);
    //  dc1 has two servers; refuse both in turn.
    char a[FWD_ADDRESS_MAX], b[FWD_ADDRESS_MAX];
    fwd_routes_pick (routes, "dc1", NULL, NULL, NULL, a, sizeof a);
    ck_assert_int_eq (fwd_routes_pick (routes, "dc1", a, s_not_first, a, b, sizeof b), 0);
    ck_assert_int_eq (fwd_routes_pick (routes, "dc1", b, s_not_first, a, b, sizeof b),
                      FWD_ROUTE_NO_SERVER);
    fwd_routes_destroy (&routes);
}
END_TEST

START_TEST (test_lan_and_malformed)
{
    fwd_routes_t *routes = fwd_routes_new ("dc1", true, 1);
    cJSON *list = cJSON_CreateArray ();
    cJSON_AddItemToArray (list, s_member ("s1", "10.0.0.1", "8300", "dc1", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("c1", "10.0.0.9", NULL, "dc1", "node", 1));
    cJSON_AddItemToArray (list, s_member ("x1", "10.0.0.8", "8300", "dc2", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("s6", "fe80::1", "8300", "dc1", "consul", 1));
    //  Malformed: no port, bad port, bad DC, no Addr, Tags not an object,
    //  status out of range, not an object.
    cJSON_AddItemToArray (list, s_member ("m1", "10.0.0.7", NULL, "dc1", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("m2", "10.0.0.7", "99999", "dc1", "consul", 1));
    cJSON_AddItemToArray (list, s_member ("m3", "10.0.0.7", "8300", "DC 1", "consul", 1));
    cJSON *m4 = s_member ("m4", "10.0.0.7", "8300", "dc1", "consul", 1);
    cJSON_DeleteItemFromObject (m4, "Addr");
    cJSON_AddItemToArray (list, m4);
    cJSON *m5 = s_member ("m5", "10.0.0.7", "8300", "dc1", "consul", 1);
    cJSON_ReplaceItemInObject (m5, "Tags", cJSON_CreateString ("role=consul"));
    cJSON_AddItemToArray (list, m5);
    cJSON_AddItemToArray (list, s_member ("m6", "10.0.0.7", "8300", "dc1", "consul", 9));
    cJSON_AddItemToArray (list, cJSON_CreateString ("member"));
    cJSON *m7 = s_member ("m7", "10.0.0.7", "83x0", "dc1", "consul", 1);
    cJSON_AddItemToArray (list, m7);
    //  Status as a name.
    cJSON *s3 = s_member ("s3", "10.0.0.3", "8300", "dc1", "consul", 1);
    cJSON_ReplaceItemInObject (s3, "Status", cJSON_CreateString ("alive"));
    cJSON_AddItemToArray (list, s3);
    ck_assert_int_eq (fwd_routes_update (routes, list), 3);
    ck_assert_uint_eq (fwd_routes_malformed (routes), 8);
    ck_assert (!fwd_routes_known (routes, "dc2"));
    ck_assert (fwd_routes_has (routes, "dc1", "10.0.0.1:8300"));
    ck_assert (fwd_routes_has (routes, "dc1", "[fe80::1]:8300"));
    ck_assert (fwd_routes_has (routes, "dc1", "10.0.0.3:8300"));
    ck_assert (!fwd_routes_has (routes, "dc1", "10.0.0.9:8300"));
    cJSON_Delete (list);
    //  Not a list: -1 and nothing changes.
    cJSON *object = cJSON_CreateObject ();
    ck_assert_int_eq (fwd_routes_update (routes, object), -1);
    ck_assert_int_eq (fwd_routes_update (routes, NULL), -1);
    cJSON_Delete (object);
    ck_assert_int_eq (fwd_routes_server_count (routes, "dc1"), 3);
    cJSON *dump = fwd_routes_dump (routes);
    ck_assert_int_eq (cJSON_GetArraySize (cJSON_GetObjectItem (dump, "dc1")), 3);
    cJSON_Delete (dump);
    fwd_routes_destroy (&routes);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("forward_routes");
    TCase *tc = tcase_create ("update");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_update_and_pick);
    tcase_add_test (tc, test_lan_and_malformed);
    suite_add_tcase (suite, tc);
    tc = tcase_create ("rotation");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_rotation_and_order_kept);
    tcase_add_test (tc, test_usable_callback);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
