/*  Unit tests of gossipd's RPC helpers that need no sockets
    (gossipd/service.c datacenter order, gossipd/reconcile.c register body),
    spec docs/protocol/gossip.md "Local RPC" and "Catalog reflection". */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../../gossipd/reconcile.h"
#include "../../gossipd/service.h"

START_TEST (test_datacenter_order)
{
    service_dc_t dcs[5] = {
        { "dc-far", 0.200 }, { "dc-unknown", INFINITY }, { "dc1", 0.5 },
        { "dc-b", 0.010 }, { "dc-a", 0.010 }
    };
    service_dc_sort (dcs, 5, "dc1");
    const char *expected[5] = { "dc1", "dc-a", "dc-b", "dc-far", "dc-unknown" };
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq (dcs[i].name, expected[i]);
    ck_assert (dcs[0].rtt == 0.0);
}
END_TEST

START_TEST (test_register_body)
{
    member_t member;
    memset (&member, 0, sizeof member);
    strcpy (member.name, "web-1");
    packet_addr_parse ("10.1.2.3", 8301, &member.addr);
    packet_tag_t tags[1] = { { "id", "0b3f3e0e-1e45-4c42-8b5a-5d9d1d3c5e11" } };
    member.tags_len = (size_t) packet_tags_encode (tags, 1, member.tags, sizeof member.tags);
    cJSON *body = reconcile_register_body ("dc1", &member, true);
    ck_assert_str_eq (cJSON_GetObjectItem (body, "Node")->valuestring, "web-1");
    ck_assert_str_eq (cJSON_GetObjectItem (body, "Address")->valuestring, "10.1.2.3");
    ck_assert_str_eq (cJSON_GetObjectItem (body, "Datacenter")->valuestring, "dc1");
    ck_assert_str_eq (cJSON_GetObjectItem (body, "ID")->valuestring, tags[0].value);
    ck_assert (cJSON_IsTrue (cJSON_GetObjectItem (body, "SkipNodeUpdate")));
    ck_assert_ptr_null (cJSON_GetObjectItem (body, "Service"));
    cJSON *check = cJSON_GetObjectItem (body, "Check");
    ck_assert_str_eq (cJSON_GetObjectItem (check, "CheckID")->valuestring, "serfHealth");
    ck_assert_str_eq (cJSON_GetObjectItem (check, "Name")->valuestring, "Serf Health Status");
    ck_assert_str_eq (cJSON_GetObjectItem (check, "Status")->valuestring, "passing");
    ck_assert_str_eq (cJSON_GetObjectItem (check, "Output")->valuestring,
                      "Agent alive and reachable");
    cJSON_Delete (body);
    body = reconcile_register_body ("dc1", &member, false);
    check = cJSON_GetObjectItem (body, "Check");
    ck_assert_str_eq (cJSON_GetObjectItem (check, "Status")->valuestring, "critical");
    ck_assert_str_eq (cJSON_GetObjectItem (check, "Output")->valuestring,
                      "Agent not live or unreachable");
    cJSON_Delete (body);

    //  A server carries Consul's consul service, port from its tags.
    packet_tag_t server_tags[4] = {
        { "id", "0b3f3e0e-1e45-4c42-8b5a-5d9d1d3c5e11" }, { "role", "consul" },
        { "port", "8300" }, { "build", "0.1.0:abc" }
    };
    member.tags_len = (size_t) packet_tags_encode (server_tags, 4, member.tags,
                                                   sizeof member.tags);
    body = reconcile_register_body ("dc1", &member, true);
    cJSON *service = cJSON_GetObjectItem (body, "Service");
    ck_assert_ptr_nonnull (service);
    ck_assert_str_eq (cJSON_GetObjectItem (service, "ID")->valuestring, "consul");
    ck_assert_str_eq (cJSON_GetObjectItem (service, "Service")->valuestring, "consul");
    ck_assert_int_eq (cJSON_GetObjectItem (service, "Port")->valueint, 8300);
    cJSON *meta = cJSON_GetObjectItem (service, "Meta");
    ck_assert_str_eq (cJSON_GetObjectItem (meta, "version")->valuestring, "0.1.0");
    ck_assert_str_eq (cJSON_GetObjectItem (meta, "raft_version")->valuestring, "3");
    ck_assert_ptr_null (cJSON_GetObjectItem (cJSON_GetObjectItem (body, "Check"), "ServiceID"));
    cJSON_Delete (body);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_service");
    TCase *tc = tcase_create ("helpers");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_datacenter_order);
    tcase_add_test (tc, test_register_body);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
