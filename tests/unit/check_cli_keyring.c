/*  Unit tests of cli/cmd_keyring: new keys, key validation and the
    rendering of GET /v1/operator/keyring answers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/cmd_keyring.h"

START_TEST (test_key_new_and_valid)
{
    char a [64], b [64];
    ck_assert_int_eq (keyring_key_new (a, sizeof (a)), 0);
    ck_assert_int_eq (keyring_key_new (b, sizeof (b)), 0);
    ck_assert_int_eq (strlen (a), 44);         //  base64 of 32 bytes
    ck_assert_str_ne (a, b);
    ck_assert (keyring_key_valid (a));
    ck_assert (keyring_key_valid ("cg8StVXbQJ0gPvMd9o7yrg=="));     //  16 bytes
    ck_assert (!keyring_key_valid (""));
    ck_assert (!keyring_key_valid ("not base64!"));
    ck_assert (!keyring_key_valid ("YWJj"));                         //  3 bytes
    ck_assert_int_eq (keyring_key_new (a, 10), -1);                  //  too small
}
END_TEST

START_TEST (test_list_render)
{
    cJSON *responses = cJSON_Parse (
        "[{\"WAN\":true,\"Datacenter\":\"dc1\",\"Segment\":\"\","
        "  \"Keys\":{\"k2\":2,\"k1\":1},\"NumNodes\":2},"
        " {\"WAN\":false,\"Datacenter\":\"dc1\",\"Segment\":\"\","
        "  \"Keys\":{\"k1\":3},\"NumNodes\":3},"
        " {\"WAN\":false,\"Datacenter\":\"dc1\",\"Segment\":\"alpha\","
        "  \"Keys\":{},\"NumNodes\":0}]");
    char *text = keyring_list_render (responses);
    ck_assert_str_eq (text,
                      "\nWAN:\n  k1 [1/2]\n  k2 [2/2]\n"
                      "\ndc1 (LAN):\n  k1 [3/3]\n"
                      "\ndc1 (LAN) [alpha]:\n");
    free (text);
    cJSON_Delete (responses);
    cJSON *object = cJSON_Parse ("{}");
    ck_assert_ptr_null (keyring_list_render (object));
    cJSON_Delete (object);
    responses = cJSON_Parse ("[7, {\"Keys\":[1]}]");
    text = keyring_list_render (responses);
    ck_assert_str_eq (text, "\n (LAN):\n\n (LAN):\n");
    free (text);
    cJSON_Delete (responses);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_keyring");
    TCase *tc = tcase_create ("keys");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_key_new_and_valid);
    tcase_add_test (tc, test_list_render);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
