/*  Unit tests of cli/table: Consul's columnize layout (two-space glue, last
    column unpadded, UTF-8 widths) and the sorted k=v lists of cells. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/table.h"

START_TEST (test_columns)
{
    table_t *table = table_new (3);
    ck_assert_ptr_nonnull (table);
    ck_assert_int_eq (table_addv (table, "Node", "Address", "Status"), 0);
    ck_assert_int_eq (table_addv (table, "server-1", "127.0.0.1:8301",
                                  "alive"), 0);
    const char *row [] = { "c", NULL, "failed" };
    ck_assert_int_eq (table_add (table, row), 0);
    ck_assert_int_eq (table_rows (table), 3);
    char *text = table_render (table);
    ck_assert_str_eq (text,
                      "Node      Address         Status\n"
                      "server-1  127.0.0.1:8301  alive\n"
                      "c                         failed\n");
    free (text);
    table_destroy (&table);
    ck_assert_ptr_null (table);
    table_destroy (&table);
}
END_TEST

START_TEST (test_utf8_and_empty)
{
    table_t *table = table_new (2);
    char *text = table_render (table);
    ck_assert_str_eq (text, "");
    free (text);
    table_addv (table, "n\xc3\xa9ud", "x");      //  4 characters, 5 bytes
    table_addv (table, "node", "y");
    text = table_render (table);
    ck_assert_str_eq (text, "n\xc3\xa9ud  x\nnode  y\n");
    free (text);
    table_destroy (&table);
    //  Many rows grow the table.
    table = table_new (1);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq (table_addv (table, "r"), 0);
    text = table_render (table);
    ck_assert_int_eq (strlen (text), 2000);
    free (text);
    table_destroy (&table);
}
END_TEST

START_TEST (test_kv_join)
{
    cJSON *object = cJSON_Parse ("{\"wan\":\"1.2.3.4\",\"lan\":\"10.0.0.1\","
                                 "\"n\":5,\"b\":true}");
    char *text = table_kv_join (object, ", ");
    ck_assert_str_eq (text, "b=true, lan=10.0.0.1, n=5, wan=1.2.3.4");
    free (text);
    text = table_kv_join (object, ",");
    ck_assert_str_eq (text, "b=true,lan=10.0.0.1,n=5,wan=1.2.3.4");
    free (text);
    cJSON_Delete (object);
    text = table_kv_join (NULL, ",");
    ck_assert_str_eq (text, "");
    free (text);
    object = cJSON_Parse ("[1,2]");
    text = table_kv_join (object, ",");
    ck_assert_str_eq (text, "");
    free (text);
    cJSON_Delete (object);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_table");
    TCase *tc = tcase_create ("render");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_columns);
    tcase_add_test (tc, test_utf8_and_empty);
    tcase_add_test (tc, test_kv_join);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
