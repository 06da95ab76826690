/*  Unit tests of ?near ordering (httpd/near.c): coordinate parsing with
    malformed input, serf's Vivaldi distance (heights, adjustments,
    truncation to nanoseconds), and the stable sort of catalog and health
    results (unknown source, nodes without coordinates last, nested node
    names, the array left well linked). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../httpd/near.h"

//  A coordinate.nodes entry for node at (x, y) with height h.
static cJSON *
s_entry (const char *node, double x, double y, double height, double adjustment)
{
    char text [512];
    snprintf (text, sizeof text,
              "{\"Node\":\"%s\",\"Segment\":\"\",\"Coord\":{\"Adjustment\":%.17g,"
              "\"Error\":1.5,\"Height\":%.17g,\"Vec\":[%.17g,%.17g,0,0,0,0,0,0]}}",
              node, adjustment, height, x, y);
    cJSON *entry = cJSON_Parse (text);
    ck_assert_ptr_nonnull (entry);
    return entry;
}

//  Node names of results, joined by commas.
static void
s_order (const cJSON *results, near_key_t key, char *buf, size_t size)
{
    buf [0] = 0;
    const cJSON *item;
    cJSON_ArrayForEach (item, results) {
        const cJSON *node = cJSON_GetObjectItemCaseSensitive (item, "Node");
        if (key == NEAR_KEY_NODE_NODE)
            node = cJSON_GetObjectItemCaseSensitive (node, "Node");
        size_t used = strlen (buf);
        snprintf (buf + used, size - used, "%s%s", used ? "," : "",
                  cJSON_GetStringValue (node) ? node->valuestring : "?");
    }
}

static cJSON *
s_results (const char *json)
{
    cJSON *results = cJSON_Parse (json);
    ck_assert_ptr_nonnull (results);
    return results;
}

START_TEST (test_coord_parse)
{
    near_coord_t coord;
    cJSON *json = cJSON_Parse ("{\"Adjustment\":-0.5,\"Error\":1.5,\"Height\":0.00001,"
                               "\"Vec\":[1,2,3,4,5,6,7,8]}");
    ck_assert_int_eq (near_coord_parse (json, &coord), 0);
    ck_assert_uint_eq (coord.dimensions, 8);
    ck_assert (coord.vec [7] == 8 && coord.adjustment == -0.5 && coord.height == 0.00001);
    cJSON_Delete (json);
    //  missing scalars are zero
    json = cJSON_Parse ("{\"Vec\":[0.5]}");
    ck_assert_int_eq (near_coord_parse (json, &coord), 0);
    ck_assert (coord.dimensions == 1 && coord.height == 0 && coord.error == 0);
    cJSON_Delete (json);

    static const char *bad [] = {
        "null", "[]", "\"x\"", "{}", "{\"Vec\":[]}", "{\"Vec\":{}}",
        "{\"Vec\":[1,\"2\"]}", "{\"Vec\":[1e400]}", "{\"Vec\":[1],\"Height\":\"1\"}",
        "{\"Vec\":[1],\"Adjustment\":-1e999}", "{\"Vec\":[1],\"Error\":true}",
        "{\"Vec\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}", NULL };
    for (int i = 0; bad [i]; i++) {
        json = cJSON_Parse (bad [i]);
        ck_assert_msg (near_coord_parse (json, &coord) == -1, "accepted %s", bad [i]);
        cJSON_Delete (json);
    }
    ck_assert_int_eq (near_coord_parse (NULL, &coord), -1);
}
END_TEST

START_TEST (test_distance)
{
    near_coord_t a = { .vec = { 0, 0 }, .dimensions = 2, .height = 0.001 };
    near_coord_t b = { .vec = { 0.003, 0.004 }, .dimensions = 2, .height = 0.002 };
    //  |(3,4)| ms = 5 ms, plus heights 1 + 2 ms
    ck_assert_int_eq (near_distance_ns (&a, &b), 8000000);
    ck_assert_int_eq (near_distance_ns (&b, &a), 8000000);
    //  adjustments apply while the result stays positive
    a.adjustment = -0.002;
    ck_assert_int_eq (near_distance_ns (&a, &b), 6000000);
    a.adjustment = -1.0;
    ck_assert_int_eq (near_distance_ns (&a, &b), 8000000);
    //  truncated to whole nanoseconds, as time.Duration does
    near_coord_t c = { .vec = { 1.5e-9 }, .dimensions = 1 };
    near_coord_t d = { .vec = { 0 }, .dimensions = 1 };
    ck_assert_int_eq (near_distance_ns (&c, &d), 1);
    //  no estimate between different dimensions; huge values saturate
    ck_assert_int_eq (near_distance_ns (&a, &c), -1);
    near_coord_t far = { .vec = { 1e300 }, .dimensions = 1 };
    ck_assert (near_distance_ns (&far, &d) == INT64_MAX);
}
END_TEST

//  src at the origin; a 1 ms east, b 2 ms east, c 3 ms east; d has none.
static cJSON *
s_coordinates (void)
{
    cJSON *coords = cJSON_CreateArray ();
    cJSON_AddItemToArray (coords, s_entry ("c", 0.003, 0, 0.00001, 0));
    cJSON_AddItemToArray (coords, s_entry ("src", 0, 0, 0.00001, 0));
    cJSON_AddItemToArray (coords, s_entry ("a", 0.001, 0, 0.00001, 0));
    cJSON_AddItemToArray (coords, s_entry ("b", 0, 0.002, 0.00001, 0));
    cJSON_AddItemToArray (coords, s_entry ("b2", 0.002, 0, 0.00001, 0));
    return coords;
}

START_TEST (test_sort_nodes)
{
    cJSON *coords = s_coordinates ();
    char order [256];
    //  catalog nodes come sorted by name; d has no coordinate: last
    cJSON *results = s_results (
        "[{\"Node\":\"a\"},{\"Node\":\"b\"},{\"Node\":\"c\"},{\"Node\":\"d\"},"
        "{\"Node\":\"src\"}]");
    ck_assert (near_sort (results, NEAR_KEY_NODE, coords, "src"));
    s_order (results, NEAR_KEY_NODE, order, sizeof order);
    ck_assert_str_eq (order, "src,a,b,c,d");
    //  from c: a is 2 ms away, src 3 ms, b sqrt(13) ms
    ck_assert (near_sort (results, NEAR_KEY_NODE, coords, "c"));
    s_order (results, NEAR_KEY_NODE, order, sizeof order);
    ck_assert_str_eq (order, "c,a,src,b,d");
    cJSON_Delete (results);

    //  equal distances keep the catalog's order (stable), both ways round
    results = s_results ("[{\"Node\":\"b2\"},{\"Node\":\"x\"},{\"Node\":\"b\"},"
                         "{\"Node\":\"y\"}]");
    ck_assert (near_sort (results, NEAR_KEY_NODE, coords, "src"));
    s_order (results, NEAR_KEY_NODE, order, sizeof order);
    ck_assert_str_eq (order, "b2,b,x,y");
    cJSON_Delete (results);
    results = s_results ("[{\"Node\":\"b\"},{\"Node\":\"b2\"}]");
    ck_assert (near_sort (results, NEAR_KEY_NODE, coords, "src"));
    s_order (results, NEAR_KEY_NODE, order, sizeof order);
    ck_assert_str_eq (order, "b,b2");
    cJSON_Delete (results);
    cJSON_Delete (coords);
}
END_TEST

START_TEST (test_sort_unknown_source)
{
    cJSON *coords = s_coordinates ();
    char order [256];
    cJSON *results = s_results ("[{\"Node\":\"c\"},{\"Node\":\"a\"}]");
    //  a source without coordinate (or none at all) leaves the order alone
    ck_assert (!near_sort (results, NEAR_KEY_NODE, coords, "nobody"));
    ck_assert (!near_sort (results, NEAR_KEY_NODE, coords, ""));
    s_order (results, NEAR_KEY_NODE, order, sizeof order);
    ck_assert_str_eq (order, "c,a");
    //  a malformed coordinate of the source counts as none
    cJSON *broken = s_results ("[{\"Node\":\"src\",\"Coord\":{\"Vec\":\"x\"}},"
                               "{\"Node\":\"a\",\"Coord\":{\"Vec\":[0]}},"
                               "{\"Node\":\"c\",\"Coord\":{\"Vec\":[0,0]}}]");
    ck_assert (!near_sort (results, NEAR_KEY_NODE, broken, "src"));
    //  a coordinate of other dimensions gives no estimate: last
    ck_assert (near_sort (results, NEAR_KEY_NODE, broken, "a"));
    s_order (results, NEAR_KEY_NODE, order, sizeof order);
    ck_assert_str_eq (order, "a,c");
    cJSON_Delete (broken);
    //  not arrays
    cJSON *object = s_results ("{\"Node\":\"a\"}");
    ck_assert (!near_sort (object, NEAR_KEY_NODE, coords, "src"));
    ck_assert (!near_sort (results, NEAR_KEY_NODE, object, "src"));
    cJSON_Delete (object);
    cJSON_Delete (results);
    //  empty and single results are trivially sorted
    results = s_results ("[]");
    ck_assert (near_sort (results, NEAR_KEY_NODE, coords, "src"));
    cJSON_Delete (results);
    results = s_results ("[{\"Node\":\"a\"}]");
    ck_assert (near_sort (results, NEAR_KEY_NODE, coords, "src"));
    cJSON_Delete (results);
    cJSON_Delete (coords);
}
END_TEST

START_TEST (test_sort_health_and_links)
{
    cJSON *coords = s_coordinates ();
    char order [256];
    //  health service entries name their node in Node.Node; entries
    //  without a node name go last
    cJSON *results = s_results (
        "[{\"Node\":{\"Node\":\"c\"},\"Service\":{}},{\"Node\":null},"
        "{\"Node\":{\"Node\":\"a\"},\"Service\":{}},{\"Node\":{\"Node\":\"src\"}}]");
    ck_assert (near_sort (results, NEAR_KEY_NODE_NODE, coords, "src"));
    s_order (results, NEAR_KEY_NODE_NODE, order, sizeof order);
    ck_assert_str_eq (order, "src,a,c,?");
    //  the array stays well linked: size, last item, appending, deleting
    ck_assert_int_eq (cJSON_GetArraySize (results), 4);
    ck_assert_ptr_eq (results->child->prev, cJSON_GetArrayItem (results, 3));
    cJSON_AddItemToArray (results, cJSON_CreateString ("tail"));
    ck_assert_str_eq (cJSON_GetArrayItem (results, 4)->valuestring, "tail");
    cJSON_DeleteItemFromArray (results, 0);
    cJSON_DeleteItemFromArray (results, 3);
    s_order (results, NEAR_KEY_NODE_NODE, order, sizeof order);
    ck_assert_str_eq (order, "a,c,?");
    char *printed = cJSON_PrintUnformatted (results);
    ck_assert_ptr_nonnull (printed);
    free (printed);
    cJSON_Delete (results);
    cJSON_Delete (coords);
}
END_TEST

static Suite *
s_suite (void)
{
    Suite *suite = suite_create ("http_near");
    struct {
        const char *name;
        const TTest *test;
    } cases [] = {
        { "coord_parse", test_coord_parse },
        { "distance", test_distance },
        { "sort_nodes", test_sort_nodes },
        { "sort_unknown_source", test_sort_unknown_source },
        { "sort_health_and_links", test_sort_health_and_links },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        TCase *tc = tcase_create (cases [i].name);
        tcase_add_test (tc, cases [i].test);
        tcase_set_timeout (tc, 10);
        suite_add_tcase (suite, tc);
    }
    return suite;
}

int
main (void)
{
    SRunner *runner = srunner_create (s_suite ());
    srunner_set_fork_status (runner, CK_FORK);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
