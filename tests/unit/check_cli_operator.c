/*  Unit tests of cli/cmd_operator: Consul's list-peers table from a
    /v1/operator/raft/configuration answer, and the argument errors of
    remove-peer (printed before any request). */
#include <check.h>
#include "../../cli/cmd_operator.h"

#include <stdlib.h>
#include <string.h>

START_TEST (test_list_peers_table)
{
    cJSON *config = cJSON_Parse (
        "{\"Servers\":["
        "{\"ID\":\"3b5378ea-f5fa-4a50-a0ab-7e44e97a8908\",\"Node\":\"s1\","
        "\"Address\":\"127.0.7.1:8300\",\"Leader\":false,\"Voter\":true,"
        "\"ProtocolVersion\":\"3\"},"
        "{\"ID\":\"b12d20bdb8a44dda\",\"Node\":\"(unknown)\","
        "\"Address\":\"127.0.7.3:8300\",\"Leader\":true,\"Voter\":false,"
        "\"ProtocolVersion\":\"\"}],\"Index\":23}");
    char err[128];
    char *text = operator_raft_peers_render (config, err, sizeof err);
    ck_assert_ptr_nonnull (text);
    ck_assert_str_eq (text,
        "Node       ID                                    Address         "
        "State     Voter  RaftProtocol\n"
        "s1         3b5378ea-f5fa-4a50-a0ab-7e44e97a8908  127.0.7.1:8300  "
        "follower  true   3\n"
        "(unknown)  b12d20bdb8a44dda                      127.0.7.3:8300  "
        "leader    false  <=1\n");
    free (text);
    cJSON_Delete (config);
    config = cJSON_Parse ("{\"Index\":1}");
    ck_assert_ptr_null (operator_raft_peers_render (config, err, sizeof err));
    ck_assert_str_eq (err, "unexpected response (no Servers list)");
    cJSON_Delete (config);
}
END_TEST

START_TEST (test_remove_peer_arguments)
{
    char *none[] = { "raft", "remove-peer", NULL };
    ck_assert_int_eq (cmd_operator_run (2, none), 1);
    char *both[] = { "raft", "remove-peer", "-id=x", "-address=1.2.3.4:8300", NULL };
    ck_assert_int_eq (cmd_operator_run (4, both), 1);
    char *extra[] = { "raft", "list-peers", "surplus", NULL };
    ck_assert_int_eq (cmd_operator_run (3, extra), 1);
    char *unknown[] = { "raft", "transfer", NULL };
    ck_assert_int_eq (cmd_operator_run (2, unknown), 1);
    char *other[] = { "autopilot", "get-config", NULL };
    ck_assert_int_eq (cmd_operator_run (2, other), 1);
    char *help[] = { "-h", NULL };
    ck_assert_int_eq (cmd_operator_run (1, help), 0);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_operator");
    TCase *tc = tcase_create ("list-peers table");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_list_peers_table);
    suite_add_tcase (suite, tc);
    tc = tcase_create ("remove-peer arguments");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_remove_peer_arguments);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_set_fork_status (runner, CK_FORK);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
