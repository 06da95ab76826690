/*  Unit tests of catalogd/servers: the DC's servers from gossipd's LAN
    member list (docs/protocol/gossip.md member shape): which members count,
    their addresses and tags, malformed members, lookups. */
#include <check.h>
#include "../../catalogd/servers.h"
#include "../../catalogd/raftnode.h"

#include <string.h>

static cJSON *
s_member (const char *name, const char *addr, const char *dc, const char *role,
          const char *id, int status)
{
    cJSON *member = cJSON_CreateObject ();
    cJSON_AddStringToObject (member, "Name", name);
    cJSON_AddStringToObject (member, "Addr", addr);
    cJSON_AddNumberToObject (member, "Port", 8301);
    cJSON *tags = cJSON_AddObjectToObject (member, "Tags");
    cJSON_AddStringToObject (tags, "role", role);
    cJSON_AddStringToObject (tags, "dc", dc);
    cJSON_AddStringToObject (tags, "id", id);
    cJSON_AddStringToObject (tags, "port", "8300");
    cJSON_AddStringToObject (tags, "raft_vsn", "3");
    cJSON_AddNumberToObject (member, "Status", status);
    return member;
}

#define ID1 "11111111-2222-3333-4444-555555555555"
#define ID2 "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define ID3 "01234567-89ab-cdef-0123-456789abcdef"

START_TEST (test_servers_of_our_dc)
{
    catalog_servers_t *servers = catalog_servers_new ("dc1", 8303);
    ck_assert (!catalog_servers_known (servers));
    cJSON *list = cJSON_CreateArray ();
    cJSON_AddItemToArray (list, s_member ("s1", "10.0.0.1", "dc1", "consul", ID1, 1));
    cJSON_AddItemToArray (list, s_member ("c1", "10.0.0.9", "dc1", "node", ID3, 1));
    cJSON_AddItemToArray (list, s_member ("s9", "10.9.0.1", "dc9", "consul", ID3, 1));
    cJSON *s2 = s_member ("s2", "10.0.0.2", "dc1", "consul", ID2, 4);
    cJSON_AddStringToObject (cJSON_GetObjectItem (s2, "Tags"), "expect", "3");
    cJSON_AddStringToObject (cJSON_GetObjectItem (s2, "Tags"), "raft_port", "9303");
    cJSON_AddItemToArray (list, s2);
    ck_assert_int_eq (catalog_servers_update (servers, list), 2);
    ck_assert (catalog_servers_known (servers));
    ck_assert_uint_eq (catalog_servers_size (servers), 2);
    const catalog_server_t *first = catalog_servers_at (servers, 0);
    ck_assert_str_eq (first->name, "s1");
    ck_assert_str_eq (first->raft_address, "10.0.0.1:8303");
    ck_assert_str_eq (first->server_address, "10.0.0.1:8300");
    ck_assert_uint_eq (first->raft_id, catalog_raft_id_from_uuid (ID1));
    ck_assert_int_eq (first->status, CATALOG_MEMBER_ALIVE);
    ck_assert_int_eq (first->expect, 0);
    ck_assert_str_eq (first->raft_vsn, "3");
    const catalog_server_t *second = catalog_servers_by_id (servers,
                                                            catalog_raft_id_from_uuid (ID2));
    ck_assert_ptr_nonnull (second);
    ck_assert_str_eq (second->raft_address, "10.0.0.2:9303");
    ck_assert_int_eq (second->expect, 3);
    ck_assert_int_eq (second->status, CATALOG_MEMBER_FAILED);
    ck_assert_ptr_eq (catalog_servers_by_address (servers, "10.0.0.2:8300"), second);
    ck_assert_ptr_eq (catalog_servers_by_address (servers, "10.0.0.2:9303"), second);
    ck_assert_ptr_null (catalog_servers_by_address (servers, "10.0.0.9:8300"));
    ck_assert_ptr_null (catalog_servers_at (servers, 2));
    //  The object forms of a members answer.
    cJSON *wrapped = cJSON_CreateObject ();
    cJSON_AddItemToObject (wrapped, "Result", list);
    ck_assert_int_eq (catalog_servers_update (servers, wrapped), 2);
    cJSON_Delete (wrapped);
    catalog_servers_destroy (&servers);
    catalog_servers_destroy (&servers);
}
END_TEST

START_TEST (test_malformed_members)
{
    catalog_servers_t *servers = catalog_servers_new ("dc1", 8303);
    cJSON *not_a_list = cJSON_CreateString ("members");
    ck_assert_int_eq (catalog_servers_update (servers, not_a_list), -1);
    ck_assert (!catalog_servers_known (servers));
    cJSON_Delete (not_a_list);
    cJSON *list = cJSON_CreateArray ();
    cJSON_AddItemToArray (list, cJSON_CreateNumber (7));
    cJSON *no_id = s_member ("s1", "10.0.0.1", "dc1", "consul", ID1, 1);
    cJSON_DeleteItemFromObject (cJSON_GetObjectItem (no_id, "Tags"), "id");
    cJSON_AddItemToArray (list, no_id);
    cJSON *bad_status = s_member ("s2", "10.0.0.2", "dc1", "consul", ID2, 1);
    cJSON_ReplaceItemInObject (bad_status, "Status", cJSON_CreateNumber (9));
    cJSON_AddItemToArray (list, bad_status);
    cJSON *named_status = s_member ("s3", "10.0.0.3", "dc1", "consul", ID3, 1);
    cJSON_ReplaceItemInObject (named_status, "Status", cJSON_CreateString ("left"));
    cJSON_AddItemToArray (list, named_status);
    cJSON *bad_expect = s_member ("s4", "10.0.0.4", "dc1", "consul", ID1, 1);
    cJSON_AddStringToObject (cJSON_GetObjectItem (bad_expect, "Tags"), "expect", "x");
    cJSON_AddItemToArray (list, bad_expect);
    //  The same name twice keeps the first.
    cJSON_AddItemToArray (list, s_member ("s3", "10.0.0.33", "dc1", "consul", ID3, 1));
    ck_assert_int_eq (catalog_servers_update (servers, list), 2);
    ck_assert_uint_eq (catalog_servers_malformed (servers), 3);
    ck_assert_int_eq (catalog_servers_at (servers, 0)->status, CATALOG_MEMBER_LEFT);
    ck_assert_int_eq (catalog_servers_at (servers, 1)->expect, -1);
    cJSON_Delete (list);
    catalog_servers_destroy (&servers);
}
END_TEST

START_TEST (test_status_names)
{
    const char *names[] = { "none", "alive", "leaving", "left", "failed" };
    for (int i = 0; i < 5; i++) {
        cJSON *name = cJSON_CreateString (names[i]);
        cJSON *number = cJSON_CreateNumber (i);
        ck_assert_int_eq (catalog_member_status_parse (name), i);
        ck_assert_int_eq (catalog_member_status_parse (number), i);
        cJSON_Delete (name);
        cJSON_Delete (number);
    }
    cJSON *bad = cJSON_CreateString ("dead");
    ck_assert_int_eq (catalog_member_status_parse (bad), -1);
    cJSON_Delete (bad);
    bad = cJSON_CreateNumber (1.5);
    ck_assert_int_eq (catalog_member_status_parse (bad), -1);
    cJSON_Delete (bad);
    ck_assert_int_eq (catalog_member_status_parse (NULL), -1);
}
END_TEST

START_TEST (test_raft_ids)
{
    ck_assert_uint_eq (catalog_raft_id_parse (ID1), 0x1111111122223333ULL);
    ck_assert_uint_eq (catalog_raft_id_parse ("1111111122223333"), 0x1111111122223333ULL);
    ck_assert_uint_eq (catalog_raft_id_parse ("111111112222333"), 0);
    ck_assert_uint_eq (catalog_raft_id_parse ("11111111-2222-3333-4444-55555555555g"), 0);
    ck_assert_uint_eq (catalog_raft_id_parse ("11111111x2222-3333-4444-555555555555"), 0);
    ck_assert_uint_eq (catalog_raft_id_parse (""), 0);
    ck_assert_uint_eq (catalog_raft_id_parse (NULL), 0);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("catalog_servers");
    struct { const char *name; const TTest *test; } cases[] = {
        { "servers of our dc", test_servers_of_our_dc },
        { "malformed members", test_malformed_members },
        { "status names", test_status_names },
        { "raft ids", test_raft_ids },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create (cases[i].name);
        tcase_set_timeout (tc, 10);
        tcase_add_test (tc, cases[i].test);
        suite_add_tcase (suite, tc);
    }
    SRunner *runner = srunner_create (suite);
    srunner_set_fork_status (runner, CK_FORK);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
