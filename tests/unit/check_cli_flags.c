/*  Unit tests of cli/flags: Go flag syntax, repeatable flags, positional
    arguments, "--", help and errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/flags.h"

START_TEST (test_parse)
{
    bool detailed = false, wan = true;
    const char *name = "default";
    const char *addr = NULL, *token = NULL;
    int port = 0;
    const char **tags = NULL;
    int tag_count = -1;
    flags_t *flags = flags_new ("Usage: test");
    flags_bool (flags, "detailed", &detailed, "d");
    flags_bool (flags, "wan", &wan, "w");
    flags_string (flags, "name", &name, "n");
    flags_int (flags, "port", &port, "p");
    flags_list (flags, "tag", &tags, &tag_count, "t");
    flags_http (flags, &addr, &token);
    ck_assert_int_eq (tag_count, 0);
    char *argv [] = { "-detailed", "--wan=false", "-name", "web", "-port=80",
                      "-tag", "a", "--tag=b", "-http-addr=127.0.2.10:8500",
                      "file.json", "-tag", "c", NULL };
    ck_assert_int_eq (flags_parse (flags, 12, argv), 9);
    ck_assert (detailed);
    ck_assert (!wan);
    ck_assert_str_eq (name, "web");
    ck_assert_int_eq (port, 80);
    ck_assert_int_eq (tag_count, 2);
    ck_assert_str_eq (tags [0], "a");
    ck_assert_str_eq (tags [1], "b");
    ck_assert_str_eq (addr, "127.0.2.10:8500");
    ck_assert_ptr_null (token);
    flags_destroy (&flags);
    ck_assert_ptr_null (flags);
    flags_destroy (&flags);
}
END_TEST

START_TEST (test_positional)
{
    bool wan = false;
    flags_t *flags = flags_new (NULL);
    flags_bool (flags, "wan", &wan, "w");
    char *none [] = { NULL };
    ck_assert_int_eq (flags_parse (flags, 0, none), 0);
    char *dash [] = { "-", "-wan" };
    ck_assert_int_eq (flags_parse (flags, 2, dash), 0);
    ck_assert (!wan);
    char *end [] = { "-wan", "--", "-x" };
    ck_assert_int_eq (flags_parse (flags, 3, end), 2);
    ck_assert (wan);
    char *addrs [] = { "127.0.0.1", "-wan" };
    ck_assert_int_eq (flags_parse (flags, 2, addrs), 0);
    flags_destroy (&flags);
}
END_TEST

START_TEST (test_errors_and_help)
{
    bool flag = false;
    int number = 7;
    const char *text = NULL;
    flags_t *flags = flags_new ("Usage: test");
    flags_bool (flags, "b", &flag, "b");
    flags_int (flags, "n", &number, "n");
    flags_string (flags, "s", &text, "s");
    //  Usage goes to stderr on errors; keep the test output quiet.
    ck_assert_ptr_nonnull (freopen ("/dev/null", "w", stderr));
    ck_assert_ptr_nonnull (freopen ("/dev/null", "w", stdout));
    char *unknown [] = { "-nope" };
    ck_assert_int_eq (flags_parse (flags, 1, unknown), -1);
    char *missing [] = { "-s" };
    ck_assert_int_eq (flags_parse (flags, 1, missing), -1);
    char *bad_int [] = { "-n", "12x" };
    ck_assert_int_eq (flags_parse (flags, 2, bad_int), -1);
    ck_assert_int_eq (number, 7);
    char *empty_int [] = { "-n=" };
    ck_assert_int_eq (flags_parse (flags, 1, empty_int), -1);
    char *huge_int [] = { "-n=99999999999" };
    ck_assert_int_eq (flags_parse (flags, 1, huge_int), -1);
    char *bad_bool [] = { "-b=maybe" };
    ck_assert_int_eq (flags_parse (flags, 1, bad_bool), -1);
    char *syntax [] = { "---b" };
    ck_assert_int_eq (flags_parse (flags, 1, syntax), -1);
    char *equals [] = { "-=x" };
    ck_assert_int_eq (flags_parse (flags, 1, equals), -1);
    char *help [] = { "-h" };
    ck_assert_int_eq (flags_parse (flags, 1, help), -2);
    char *long_help [] = { "--help" };
    ck_assert_int_eq (flags_parse (flags, 1, long_help), -2);
    char *negative [] = { "-n", "-3" };
    ck_assert_int_eq (flags_parse (flags, 2, negative), 2);
    ck_assert_int_eq (number, -3);
    flags_destroy (&flags);
}
END_TEST

START_TEST (test_usage)
{
    bool flag = false;
    const char *text = NULL;
    flags_t *flags = flags_new ("Usage: meridian thing");
    flags_string (flags, "zeta", &text, "Last flag.");
    flags_bool (flags, "alpha", &flag,
                "A long help text that is wrapped because it is longer than "
                "the width of one line of usage output, by a fair margin.");
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buf, &size);
    flags_usage (flags, out);
    fclose (out);
    ck_assert (strncmp (buf, "Usage: meridian thing\n\nOptions:\n", 32) == 0);
    char *alpha = strstr (buf, "  -alpha\n");
    char *zeta = strstr (buf, "  -zeta=<string>\n");
    ck_assert_ptr_nonnull (alpha);
    ck_assert_ptr_nonnull (zeta);
    ck_assert (alpha < zeta);
    ck_assert_ptr_nonnull (strstr (buf, "     A long help text"));
    free (buf);
    flags_destroy (&flags);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_flags");
    TCase *tc = tcase_create ("parse");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_parse);
    tcase_add_test (tc, test_positional);
    tcase_add_test (tc, test_errors_and_help);
    tcase_add_test (tc, test_usage);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
