/*  Unit tests of cli/cmd_agent: the daemons each role runs, and `-t`
    (validation only: exit codes, nothing created). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/cmd_agent.h"

START_TEST (test_daemons_per_role)
{
    const char **server = agent_daemons (true);
    ck_assert_str_eq (server [0], "catalogd");
    ck_assert_str_eq (server [1], "gossipd");
    ck_assert_str_eq (server [2], "forwarderd");
    ck_assert_str_eq (server [3], "httpd");
    ck_assert_ptr_null (server [4]);
    const char **client = agent_daemons (false);
    ck_assert_str_eq (client [0], "gossipd");
    ck_assert_str_eq (client [1], "forwarderd");
    ck_assert_str_eq (client [2], "httpd");
    ck_assert_ptr_null (client [3]);
}
END_TEST

START_TEST (test_validate_only)
{
    char dir [] = "/tmp/mrd-cli-agent-XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    ck_assert_ptr_nonnull (freopen ("/dev/null", "w", stdout));
    ck_assert_ptr_nonnull (freopen ("/dev/null", "w", stderr));
    char data [64];
    snprintf (data, sizeof (data), "%s/data", dir);
    char *good [] = { "-t", "-server", "-data-dir", data, "-datacenter",
                      "east" };
    ck_assert_int_eq (cmd_agent_run (6, good), 0);
    ck_assert_int_eq (access (data, F_OK), -1);     //  -t creates nothing
    char *bad [] = { "-t", "-dev", "-datacenter", "East!" };
    ck_assert_int_eq (cmd_agent_run (4, bad), 1);
    char *unknown [] = { "-t", "-dev", "-no-such-flag" };
    ck_assert_int_eq (cmd_agent_run (3, unknown), 1);
    char *help [] = { "-h" };
    ck_assert_int_eq (cmd_agent_run (1, help), 0);
    ck_assert_int_eq (rmdir (dir), 0);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_agent");
    TCase *tc = tcase_create ("config");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_daemons_per_role);
    tcase_add_test (tc, test_validate_only);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
