/*  Unit tests of cli/cmd_services: reading service definitions from Consul
    JSON config files into agent API bodies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/cmd_services.h"

static char s_path [64];

static void
s_write (const char *text)
{
    strcpy (s_path, "/tmp/mrd-cli-svc-XXXXXX");
    int fd = mkstemp (s_path);
    ck_assert_int_ge (fd, 0);
    ck_assert_int_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
}

static cJSON *
s_load (const char *text, char *err)
{
    s_write (text);
    cJSON *list = services_from_file (s_path, err, 512);
    unlink (s_path);
    return list;
}

START_TEST (test_snake_case)
{
    char err [512] = "";
    cJSON *list = s_load (
        "{\"datacenter\":\"dc1\",\"service\":{\"name\":\"web\",\"id\":\"web-1\","
        " \"tags\":[\"v1\"],\"port\":80,\"enable_tag_override\":true,"
        " \"meta\":{\"some_key\":\"x\"},"
        " \"tagged_addresses\":{\"lan_ipv4\":{\"address\":\"10.0.0.1\","
        "   \"port\":80}},"
        " \"check\":{\"id\":\"web-ttl\",\"ttl\":\"30s\",\"http\":\"http://x\","
        "   \"deregister_critical_service_after\":\"90m\"},"
        " \"weights\":{\"passing\":3,\"warning\":1}}}", err);
    ck_assert_msg (list, "%s", err);
    ck_assert_int_eq (cJSON_GetArraySize (list), 1);
    char *text = cJSON_PrintUnformatted (cJSON_GetArrayItem (list, 0));
    ck_assert_str_eq (text,
        "{\"Name\":\"web\",\"ID\":\"web-1\",\"Tags\":[\"v1\"],\"Port\":80,"
        "\"EnableTagOverride\":true,\"Meta\":{\"some_key\":\"x\"},"
        "\"TaggedAddresses\":{\"lan_ipv4\":{\"Address\":\"10.0.0.1\","
        "\"Port\":80}},"
        "\"Check\":{\"CheckID\":\"web-ttl\",\"TTL\":\"30s\",\"HTTP\":\"http://x\","
        "\"DeregisterCriticalServiceAfter\":\"90m\"},"
        "\"Weights\":{\"Passing\":3,\"Warning\":1}}");
    free (text);
    cJSON_Delete (list);
}
END_TEST

START_TEST (test_services_list_and_pascal_case)
{
    char err [512] = "";
    cJSON *list = s_load (
        "{\"services\":[{\"Name\":\"a\",\"Port\":1},{\"name\":\"b\","
        " \"checks\":[{\"id\":\"c1\",\"tcp\":\"x:1\"}]}]}", err);
    ck_assert_msg (list, "%s", err);
    ck_assert_int_eq (cJSON_GetArraySize (list), 2);
    char *text = cJSON_PrintUnformatted (list);
    ck_assert_str_eq (text, "[{\"Name\":\"a\",\"Port\":1},{\"Name\":\"b\","
                            "\"Checks\":[{\"CheckID\":\"c1\",\"TCP\":\"x:1\"}]}]");
    free (text);
    cJSON_Delete (list);
}
END_TEST

START_TEST (test_errors)
{
    static const char *bad [] = {
        "",
        "not json",
        "[]",
        "{\"datacenter\":\"dc1\"}",
        "{\"service\":{\"port\":80}}",
        "{\"service\":{\"name\":\"\"}}",
        "{\"service\":\"web\"}",
        "{\"services\":[{\"name\":\"a\"},5]}",
        "{\"service\":{\"name\":\"a\",\"Name\":\"b\"}}",
        "{\"service\":{\"name\":\"a\"}} trailing",
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad [0]); i++) {
        char err [512] = "";
        cJSON *list = s_load (bad [i], err);
        ck_assert_msg (!list, "case %zu accepted", i);
        ck_assert_msg (strstr (err, "/tmp/mrd-cli-svc-"), "case %zu: %s", i,
                       err);
    }
    char err [512];
    ck_assert_ptr_null (services_from_file ("/nonexistent/x.json", err,
                                            sizeof (err)));
    ck_assert_ptr_nonnull (strstr (err, "No such file"));
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_services");
    TCase *tc = tcase_create ("files");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_snake_case);
    tcase_add_test (tc, test_services_list_and_pascal_case);
    tcase_add_test (tc, test_errors);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
