/*  Unit tests of forwarderd/fwd_msg: the command table, the type checks of
    the forwarding fields, hop deadlines and Consul's error words
    (docs/protocol/server-rpc.md). */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "../../forwarderd/fwd_msg.h"

static int
s_parse (const char *command, const char *json, fwd_request_t *info,
         char *err, size_t size)
{
    cJSON *body = cJSON_Parse (json);
    int rc = fwd_request_parse (command, body, "dc1", info, err, size);
    cJSON_Delete (body);
    return rc;
}

START_TEST (test_command_kinds)
{
    fwd_kind_t kind;
    ck_assert_int_eq (fwd_command_kind ("catalog.nodes", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_READ);
    ck_assert_int_eq (fwd_command_kind ("health.service", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_READ);
    ck_assert_int_eq (fwd_command_kind ("status.leader", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_READ);
    ck_assert_int_eq (fwd_command_kind ("catalog.register", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_WRITE);
    ck_assert_int_eq (fwd_command_kind ("catalog.deregister", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_WRITE);
    ck_assert_int_eq (fwd_command_kind ("datacenters", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_DATACENTERS);
    ck_assert_int_eq (fwd_command_kind ("stats", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_STATS);
    ck_assert_int_eq (fwd_command_kind ("coordinate.nodes", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_READ);
    ck_assert_int_eq (fwd_command_kind ("coordinate.datacenters", &kind), 0);
    ck_assert_int_eq (kind, FWD_KIND_READ);
    ck_assert_int_eq (fwd_command_kind ("catalog.nodez", &kind), -1);
    //  Who serves each in the target DC.
    ck_assert_int_eq (fwd_command_daemon ("catalog.nodes"), FWD_DAEMON_CATALOGD);
    ck_assert_int_eq (fwd_command_daemon ("catalog.register"), FWD_DAEMON_CATALOGD);
    ck_assert_int_eq (fwd_command_daemon ("coordinate.nodes"), FWD_DAEMON_GOSSIPD);
    ck_assert_int_eq (fwd_command_daemon ("coordinate.datacenters"), FWD_DAEMON_GOSSIPD);
    ck_assert_int_eq (fwd_command_daemon ("datacenters"), FWD_DAEMON_FORWARDERD);
    ck_assert_int_eq (fwd_command_daemon ("stats"), FWD_DAEMON_FORWARDERD);
    ck_assert_int_eq (fwd_command_daemon ("no.such"), FWD_DAEMON_CATALOGD);
    ck_assert_int_eq (fwd_command_daemon (NULL), FWD_DAEMON_CATALOGD);
    ck_assert_int_eq (fwd_command_kind ("", &kind), -1);
    ck_assert_int_eq (fwd_command_kind (NULL, &kind), -1);
}
END_TEST

START_TEST (test_datacenter_field)
{
    fwd_request_t info;
    char err[128];
    ck_assert_int_eq (s_parse ("catalog.nodes", "{}", &info, err, sizeof err), 0);
    ck_assert_str_eq (info.datacenter, "dc1");
    ck_assert (info.datacenter_valid);
    ck_assert_str_eq (info.via, "");
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"Datacenter\":\"\"}", &info, err, sizeof err), 0);
    ck_assert_str_eq (info.datacenter, "dc1");
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"Datacenter\":null}", &info, err, sizeof err), 0);
    ck_assert_str_eq (info.datacenter, "dc1");
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"Datacenter\":\"dc2\",\"ViaDatacenter\":\"dc3\"}",
                               &info, err, sizeof err), 0);
    ck_assert_str_eq (info.datacenter, "dc2");
    ck_assert (info.datacenter_valid);
    ck_assert_str_eq (info.via, "dc3");
    //  Not a DC name: accepted, but no DC can match (No path to datacenter).
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"Datacenter\":\"DC 2!\"}", &info, err, sizeof err), 0);
    ck_assert (!info.datacenter_valid);
    char json[300];
    char longname[200];
    memset (longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    snprintf (json, sizeof json, "{\"Datacenter\":\"%s\"}", longname);
    ck_assert_int_eq (s_parse ("catalog.nodes", json, &info, err, sizeof err), 0);
    ck_assert (!info.datacenter_valid);
    //  Wrong types are 400s.
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"Datacenter\":2}", &info, err, sizeof err), -1);
    ck_assert_str_eq (err, "Datacenter must be a string");
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"ViaDatacenter\":[]}", &info, err, sizeof err), -1);
    ck_assert_str_eq (err, "ViaDatacenter must be a string");
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"ViaDatacenter\":\"Bad DC\"}", &info, err, sizeof err), -1);
    ck_assert_int_eq (s_parse ("catalog.nodes", "[1,2]", &info, err, sizeof err), -1);
    ck_assert_str_eq (err, "request body must be a JSON object");
    ck_assert_int_eq (s_parse ("no.such", "{}", &info, err, sizeof err), -1);
    ck_assert_str_eq (err, "unknown command \"no.such\"");
    ck_assert_int_eq (fwd_request_parse ("catalog.nodes", NULL, "dc1", &info, err, sizeof err), -1);
}
END_TEST

START_TEST (test_blocking_budget)
{
    fwd_request_t info;
    char err[128];
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"MaxQueryTime\":1000}", &info, err, sizeof err), 0);
    ck_assert (!info.blocking);
    ck_assert_int_eq (info.budget_ms, 0);
    ck_assert_int_eq (fwd_hop_timeout (&info, FWD_MARGIN_WAN), 3500);
    //  wait + wait/16
    ck_assert_int_eq (s_parse ("health.service", "{\"MinQueryIndex\":5,\"MaxQueryTime\":16000}",
                               &info, err, sizeof err), 0);
    ck_assert (info.blocking);
    ck_assert_int_eq (info.budget_ms, 17000);
    ck_assert_int_eq (fwd_hop_timeout (&info, FWD_MARGIN_LOCAL), 20000);
    //  0 is catalogd's default of 5 minutes; above 10 minutes is clamped.
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"MinQueryIndex\":5}", &info, err, sizeof err), 0);
    ck_assert_int_eq (info.budget_ms, 300000 + 18750);
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"MinQueryIndex\":5,\"MaxQueryTime\":9000000}",
                               &info, err, sizeof err), 0);
    ck_assert_int_eq (info.budget_ms, 600000 + 37500);
    //  Writes never block, nor do gossipd's reads.
    ck_assert_int_eq (s_parse ("catalog.register", "{\"MinQueryIndex\":5}", &info, err, sizeof err), 0);
    ck_assert (!info.blocking);
    ck_assert_int_eq (s_parse ("coordinate.nodes", "{\"MinQueryIndex\":5,\"MaxQueryTime\":60000}",
                               &info, err, sizeof err), 0);
    ck_assert (!info.blocking);
    ck_assert_int_eq (info.daemon, FWD_DAEMON_GOSSIPD);
    ck_assert_int_eq (fwd_hop_timeout (&info, FWD_MARGIN_LOCAL), 3000);
    //  Hops nest: every inner hop has less time than its caller.
    ck_assert_int_gt (FWD_MARGIN_CALLER, FWD_MARGIN_LAN);
    ck_assert_int_gt (FWD_MARGIN_LAN, FWD_MARGIN_WAN);
    ck_assert_int_gt (FWD_MARGIN_WAN, FWD_MARGIN_LOCAL);
    //  Malformed blocking fields.
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"MinQueryIndex\":-1}", &info, err, sizeof err), -1);
    ck_assert_str_eq (err, "MinQueryIndex must be a non-negative integer");
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"MinQueryIndex\":1.5}", &info, err, sizeof err), -1);
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"MinQueryIndex\":\"7\"}", &info, err, sizeof err), -1);
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"MinQueryIndex\":1e300}", &info, err, sizeof err), -1);
    ck_assert_int_eq (s_parse ("catalog.nodes", "{\"MaxQueryTime\":\"10s\"}", &info, err, sizeof err), -1);
    ck_assert_str_eq (err, "MaxQueryTime must be a non-negative integer (ms)");
}
END_TEST

START_TEST (test_error_words)
{
    ck_assert_str_eq (FWD_ERR_NO_PATH, "No path to datacenter");
    ck_assert_str_eq (FWD_ERR_NO_SERVER, "Remote DC has no server currently reachable");
    ck_assert_str_eq (FWD_ERR_NO_SERVERS, "No known Consul servers");
    char buf[128];
    fwd_error_relay_text (500, FWD_ERR_NO_PATH, buf, sizeof buf);
    ck_assert_str_eq (buf, "rpc error making call: No path to datacenter");
    fwd_error_relay_text (503, "catalogd is not available", buf, sizeof buf);
    ck_assert_str_eq (buf, "rpc error making call: catalogd is not available");
    fwd_error_relay_text (404, "Unknown node", buf, sizeof buf);
    ck_assert_str_eq (buf, "Unknown node");
    fwd_error_relay_text (400, NULL, buf, sizeof buf);
    ck_assert_str_eq (buf, "");
    //  Truncation is safe.
    char tiny[8];
    fwd_error_relay_text (500, "No cluster leader", tiny, sizeof tiny);
    ck_assert_str_eq (tiny, "rpc err");
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("forward_msg");
    TCase *tc = tcase_create ("commands");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_command_kinds);
    suite_add_tcase (suite, tc);
    tc = tcase_create ("fields");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_datacenter_field);
    tcase_add_test (tc, test_blocking_budget);
    suite_add_tcase (suite, tc);
    tc = tcase_create ("errors");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_error_words);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
