/*  Unit tests of cli/cmd_members' rendering: Consul's members columns,
    servers first then by name, status regex filtering, -detailed tags,
    and members JSON of the wrong shape. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/cmd_members.h"

static const char *s_members =
    "[{\"Name\":\"zeta\",\"Addr\":\"127.0.0.3\",\"Port\":8301,"
    "  \"Tags\":{\"role\":\"node\",\"dc\":\"dc1\",\"vsn\":\"2\","
    "            \"build\":\"0.1.0:abcdef\"},\"Status\":1},"
    " {\"Name\":\"beta\",\"Addr\":\"127.0.0.2\",\"Port\":8301,"
    "  \"Tags\":{\"role\":\"consul\",\"dc\":\"dc1\",\"vsn\":\"2\","
    "            \"build\":\"0.1.0\",\"port\":\"8300\"},\"Status\":1},"
    " {\"Name\":\"alpha\",\"Addr\":\"::1\",\"Port\":8301,"
    "  \"Tags\":{\"role\":\"node\",\"dc\":\"dc1\"},\"Status\":4},"
    " {\"Name\":\"gamma\",\"Addr\":\"127.0.0.4\",\"Port\":8301,"
    "  \"Tags\":{\"role\":\"consul\",\"dc\":\"dc2\",\"vsn\":\"2\","
    "            \"build\":\"0.1.0\"},\"Status\":3},"
    " {\"Name\":\"odd\",\"Addr\":\"127.0.0.5\",\"Port\":8301,"
    "  \"Tags\":{\"role\":\"other\"},\"Status\":9}]";

START_TEST (test_standard)
{
    cJSON *members = cJSON_Parse (s_members);
    char *output = NULL;
    char err [256];
    int shown = members_render (members, ".*", false, &output, err,
                                sizeof (err));
    ck_assert_int_eq (shown, 5);
    ck_assert_str_eq (output,
        "Node   Address         Status   Type     Build  Protocol  DC   "
        "Segment\n"
        "beta   127.0.0.2:8301  alive    server   0.1.0  2         dc1  "
        "<all>\n"
        "gamma  127.0.0.4:8301  left     server   0.1.0  2         dc2  "
        "<all>\n"
        "alpha  [::1]:8301      failed   client   < 0.3            dc1  "
        "<default>\n"
        "odd    127.0.0.5:8301  unknown  unknown                        \n"
        "zeta   127.0.0.3:8301  alive    client   0.1.0  2         dc1  "
        "<default>\n");
    free (output);
    cJSON_Delete (members);
}
END_TEST

START_TEST (test_status_filter)
{
    cJSON *members = cJSON_Parse (s_members);
    char *output = NULL;
    char err [256];
    ck_assert_int_eq (members_render (members, "^(failed|left)$", false,
                                      &output, err, sizeof (err)), 2);
    ck_assert_ptr_nonnull (strstr (output, "gamma"));
    ck_assert_ptr_nonnull (strstr (output, "alpha"));
    ck_assert_ptr_null (strstr (output, "beta"));
    free (output);
    //  Nothing matches: 0 and no output (the command exits 2).
    ck_assert_int_eq (members_render (members, "leaving", false, &output, err,
                                      sizeof (err)), 0);
    ck_assert_ptr_null (output);
    //  A bad regex.
    ck_assert_int_eq (members_render (members, "(", false, &output, err,
                                      sizeof (err)), -1);
    ck_assert_ptr_nonnull (strstr (err, "Failed to compile status regexp"));
    cJSON_Delete (members);
}
END_TEST

START_TEST (test_detailed)
{
    cJSON *members = cJSON_Parse (s_members);
    char *output = NULL;
    char err [256];
    ck_assert_int_eq (members_render (members, "alive", true, &output, err,
                                      sizeof (err)), 2);
    ck_assert_str_eq (output,
        "Node  Address         Status  Tags\n"
        "beta  127.0.0.2:8301  alive   build=0.1.0,dc=dc1,port=8300,"
        "role=consul,segment=<all>,vsn=2\n"
        "zeta  127.0.0.3:8301  alive   build=0.1.0:abcdef,dc=dc1,role=node,"
        "segment=<default>,vsn=2\n");
    free (output);
    cJSON_Delete (members);
}
END_TEST

START_TEST (test_wrong_shapes)
{
    char *output = NULL;
    char err [256];
    cJSON *object = cJSON_Parse ("{\"Name\":\"x\"}");
    ck_assert_int_eq (members_render (object, ".*", false, &output, err,
                                      sizeof (err)), -1);
    ck_assert_ptr_null (output);
    cJSON_Delete (object);
    //  Members with missing or mistyped fields still render.
    cJSON *members = cJSON_Parse ("[{}, {\"Name\":5,\"Tags\":[],\"Port\":\"x\","
                                  "\"Status\":1.5}, 7]");
    ck_assert_int_eq (members_render (members, ".*", false, &output, err,
                                      sizeof (err)), 3);
    ck_assert_ptr_nonnull (strstr (output, "Node"));
    free (output);
    cJSON_Delete (members);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_members");
    TCase *tc = tcase_create ("render");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_standard);
    tcase_add_test (tc, test_status_filter);
    tcase_add_test (tc, test_detailed);
    tcase_add_test (tc, test_wrong_shapes);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
