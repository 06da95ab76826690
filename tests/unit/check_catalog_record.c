/*  Unit tests of catalogd's records: parsing, defaults and validation of
    Consul's register/deregister bodies, and their normalized JSON. */
#include <check.h>
#include "../../catalogd/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static catalog_reg_t *
s_reg (const char *text, char *err, size_t size)
{
    cJSON *body = cJSON_Parse (text);
    ck_assert_msg (body != NULL, "test JSON is valid: %s", text);
    catalog_reg_t *reg = catalog_reg_from_json (body, err, size);
    cJSON_Delete (body);
    return reg;
}

//  Asserts that a register body is refused with an error containing want.
static void
s_refused (const char *text, const char *want)
{
    char err[256] = "";
    catalog_reg_t *reg = s_reg (text, err, sizeof err);
    ck_assert_msg (reg == NULL, "accepted: %s", text);
    ck_assert_msg (strstr (err, want) != NULL, "error \"%s\" lacks \"%s\"", err,
                   want);
}

START_TEST (test_register_defaults)
{
    char err[256] = "";
    catalog_reg_t *reg = s_reg (
        "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\","
        "\"Service\":{\"Service\":\"web\",\"Port\":80},"
        "\"Check\":{\"Name\":\"alive\"},"
        "\"Checks\":[{\"CheckID\":\"c2\",\"ServiceID\":\"web\","
        "\"Status\":\"warning\"}]}", err, sizeof err);
    ck_assert_msg (reg != NULL, "%s", err);
    ck_assert_str_eq (reg->node->name, "n1");
    ck_assert_str_eq (reg->node->id, "");
    ck_assert (cJSON_IsObject (reg->node->meta));
    ck_assert (cJSON_IsObject (reg->node->tagged_addresses));
    //  Service ID defaults to the name; Weights to {1,1}; Tags to [].
    ck_assert_str_eq (reg->service->id, "web");
    ck_assert_int_eq (reg->service->weight_passing, 1);
    ck_assert_int_eq (reg->service->weight_warning, 1);
    ck_assert (cJSON_IsArray (reg->service->tags));
    ck_assert_ptr_null (reg->service->proxy);
    //  Check then Checks, CheckID defaults to Name, Status to critical,
    //  Node to the registration's node.
    ck_assert_uint_eq (reg->check_count, 2);
    ck_assert_str_eq (reg->checks[0]->check_id, "alive");
    ck_assert_int_eq (reg->checks[0]->status, CATALOG_CRITICAL);
    ck_assert_str_eq (reg->checks[0]->node, "n1");
    ck_assert_str_eq (reg->checks[1]->check_id, "c2");
    ck_assert_int_eq (reg->checks[1]->status, CATALOG_WARNING);
    ck_assert (cJSON_IsObject (reg->checks[1]->definition));
    catalog_reg_destroy (&reg);
    ck_assert_ptr_null (reg);
    catalog_reg_destroy (&reg);
}
END_TEST

START_TEST (test_register_roundtrip)
{
    char err[256] = "";
    catalog_reg_t *reg = s_reg (
        "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\","
        "\"ID\":\"40e4a748-2192-161a-0510-9bf59fe950b5\","
        "\"TaggedAddresses\":{\"lan\":\"10.0.0.1\",\"wan\":\"1.2.3.4\"},"
        "\"NodeMeta\":{\"rack\":\"r1\"},\"SkipNodeUpdate\":true,"
        "\"Service\":{\"ID\":\"redis1\",\"Service\":\"redis\","
        "\"Tags\":[\"primary\"],\"Address\":\"10.0.0.2\",\"Port\":6379,"
        "\"Meta\":{\"v\":\"4\"},\"Weights\":{\"Passing\":10,\"Warning\":2},"
        "\"TaggedAddresses\":{\"lan\":{\"address\":\"10.0.0.2\",\"port\":1}},"
        "\"EnableTagOverride\":true,\"Connect\":{\"Native\":true}},"
        "\"Check\":{\"Name\":\"c\",\"Definition\":{\"HTTP\":\"http://x\"}}}",
        err, sizeof err);
    ck_assert_msg (reg != NULL, "%s", err);
    cJSON *json = catalog_reg_to_json (reg);
    catalog_reg_t *back = catalog_reg_from_json (json, err, sizeof err);
    ck_assert_msg (back != NULL, "%s", err);
    ck_assert (catalog_node_same (reg->node, back->node));
    ck_assert (catalog_service_same (reg->service, back->service));
    ck_assert (catalog_check_same (reg->checks[0], back->checks[0]));
    ck_assert (back->skip_node_update);
    //  Service tagged addresses are normalized to Address/Port.
    const cJSON *lan = cJSON_GetObjectItemCaseSensitive (
        back->service->tagged_addresses, "lan");
    ck_assert_str_eq (cJSON_GetObjectItemCaseSensitive (lan, "Address")->valuestring,
                      "10.0.0.2");
    ck_assert_int_eq (back->service->weight_passing, 10);
    ck_assert (back->service->enable_tag_override);
    cJSON_Delete (json);
    catalog_reg_destroy (&reg);
    catalog_reg_destroy (&back);
}
END_TEST

START_TEST (test_register_refused)
{
    s_refused ("{\"Address\":\"1.2.3.4\"}", "Must provide node");
    s_refused ("{\"Node\":\"\",\"Address\":\"1.2.3.4\"}", "Must provide node");
    s_refused ("{\"Node\":\"n\"}", "Must provide address");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"ID\":\"not-a-uuid\"}",
               "Bad node ID");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Port\":1}}",
               "Must provide service name");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Service\":\"s\","
               "\"Address\":\"0.0.0.0\"}}", "Invalid service address");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Service\":\"s\","
               "\"Kind\":\"bogus\"}}", "Invalid service kind");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Service\":\"s\","
               "\"Kind\":\"connect-proxy\",\"Port\":1}}",
               "DestinationServiceName");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Check\":{\"Notes\":\"x\"}}",
               "Missing check ID");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Check\":{\"Name\":\"c\","
               "\"Status\":\"bad\"}}", "Invalid check status");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Check\":{\"Name\":\"c\","
               "\"Node\":\"other\"}}", "does not match");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"ID\":\"s1\"}}",
               "Must provide service name with ID");
    //  Consul's metadata limits: values up to 512 characters, 64 pairs.
    char text[1024], value[601];
    memset (value, 'x', 600);
    value[600] = 0;
    snprintf (text, sizeof text, "{\"Node\":\"n\",\"Address\":\"a\","
              "\"Service\":{\"Service\":\"s\",\"Meta\":{\"k\":\"%s\"}}}", value);
    s_refused (text, "too long");
    char pairs[2048] = "{\"Node\":\"n\",\"Address\":\"a\",\"NodeMeta\":{";
    for (int i = 0; i < 65; i++)
        snprintf (pairs + strlen (pairs), sizeof pairs - strlen (pairs), "%s\"k%d\":\"v\"",
                  i ? "," : "", i);
    strcat (pairs, "}}");
    s_refused (pairs, "more than 64");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"NodeMeta\":{\"bad key\":\"1\"}}",
               "invalid characters");
}
END_TEST

START_TEST (test_register_wrong_types)
{
    s_refused ("{\"Node\":5,\"Address\":\"a\"}", "Node: must be a string");
    s_refused ("{\"Node\":\"n\",\"Address\":[]}", "Address: must be a string");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"NodeMeta\":[1]}", "NodeMeta");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"NodeMeta\":{\"k\":1}}",
               "must be a string");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"TaggedAddresses\":\"x\"}",
               "TaggedAddresses");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"SkipNodeUpdate\":\"yes\"}",
               "SkipNodeUpdate");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":\"web\"}",
               "Service: must be an object");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Service\":\"s\","
               "\"Port\":70000}}", "Port");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Service\":\"s\","
               "\"Port\":1.5}}", "Port");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Service\":\"s\","
               "\"Tags\":[\"a\",2]}}", "Tags");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Service\":\"s\","
               "\"Weights\":{\"Passing\":-1}}}", "Weights");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Service\":\"s\","
               "\"Proxy\":[]}}", "Proxy");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Checks\":{}}", "Checks");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Checks\":[5]}", "Check");
    s_refused ("{\"Node\":\"n\",\"Address\":\"a\",\"Check\":{\"Name\":\"c\","
               "\"Definition\":\"x\"}}", "Definition");
    char err[64];
    cJSON *array = cJSON_Parse ("[1,2]");
    ck_assert_ptr_null (catalog_reg_from_json (array, err, sizeof err));
    ck_assert_ptr_null (catalog_reg_from_json (NULL, err, sizeof err));
    cJSON_Delete (array);
}
END_TEST

START_TEST (test_register_nulls_and_unknown_fields)
{
    char err[256] = "";
    //  null counts as absent; unknown fields are ignored; keys match
    //  case-insensitively as Go's decoder does.
    catalog_reg_t *reg = s_reg (
        "{\"node\":\"n\",\"address\":\"a\",\"Service\":null,\"Check\":null,"
        "\"Checks\":null,\"NodeMeta\":null,\"Whatever\":[1,2,3]}",
        err, sizeof err);
    ck_assert_msg (reg != NULL, "%s", err);
    ck_assert_ptr_null (reg->service);
    ck_assert_uint_eq (reg->check_count, 0);
    catalog_reg_destroy (&reg);
    //  SkipNodeUpdate lets Address be omitted.
    reg = s_reg ("{\"Node\":\"n\",\"SkipNodeUpdate\":true}", err, sizeof err);
    ck_assert_msg (reg != NULL, "%s", err);
    catalog_reg_destroy (&reg);
}
END_TEST

START_TEST (test_deregister)
{
    char err[256] = "";
    cJSON *body = cJSON_Parse ("{\"Node\":\"n1\",\"ServiceID\":\"web\"}");
    catalog_dereg_t *dereg = catalog_dereg_from_json (body, err, sizeof err);
    ck_assert_ptr_nonnull (dereg);
    ck_assert_str_eq (dereg->service_id, "web");
    ck_assert_str_eq (dereg->check_id, "");
    cJSON *json = catalog_dereg_to_json (dereg);
    catalog_dereg_t *back = catalog_dereg_from_json (json, err, sizeof err);
    ck_assert_str_eq (back->node, "n1");
    ck_assert_str_eq (back->service_id, "web");
    cJSON_Delete (json);
    cJSON_Delete (body);
    catalog_dereg_destroy (&dereg);
    catalog_dereg_destroy (&back);
    ck_assert_ptr_null (dereg);

    body = cJSON_Parse ("{\"ServiceID\":\"web\"}");
    ck_assert_ptr_null (catalog_dereg_from_json (body, err, sizeof err));
    ck_assert_str_eq (err, "Must provide node");
    cJSON_Delete (body);
    body = cJSON_Parse ("{\"Node\":\"n\",\"CheckID\":7}");
    ck_assert_ptr_null (catalog_dereg_from_json (body, err, sizeof err));
    cJSON_Delete (body);
    body = cJSON_Parse ("\"n\"");
    ck_assert_ptr_null (catalog_dereg_from_json (body, err, sizeof err));
    cJSON_Delete (body);
}
END_TEST

START_TEST (test_status)
{
    catalog_status_t status;
    ck_assert_int_eq (catalog_status_parse ("passing", &status), 0);
    ck_assert_int_eq (status, CATALOG_PASSING);
    ck_assert_int_eq (catalog_status_parse ("critical", &status), 0);
    ck_assert_int_eq (status, CATALOG_CRITICAL);
    ck_assert_int_eq (catalog_status_parse ("Passing", &status), -1);
    ck_assert_int_eq (catalog_status_parse ("", &status), -1);
    ck_assert_int_eq (catalog_status_parse (NULL, &status), -1);
    //  Aggregation: passing < warning < critical.
    ck_assert_int_eq (catalog_status_worst (CATALOG_PASSING, CATALOG_WARNING),
                      CATALOG_WARNING);
    ck_assert_int_eq (catalog_status_worst (CATALOG_CRITICAL, CATALOG_WARNING),
                      CATALOG_CRITICAL);
    ck_assert_int_eq (catalog_status_worst (CATALOG_PASSING, CATALOG_PASSING),
                      CATALOG_PASSING);
    ck_assert_str_eq (catalog_status_name (CATALOG_WARNING), "warning");
}
END_TEST

START_TEST (test_filters)
{
    char err[256] = "";
    catalog_reg_t *reg = s_reg (
        "{\"Node\":\"n\",\"Address\":\"a\",\"NodeMeta\":{\"rack\":\"r1\","
        "\"zone\":\"z\"},\"Service\":{\"Service\":\"s\",\"Tags\":[\"Prod\","
        "\"v1\"]}}", err, sizeof err);
    ck_assert_ptr_nonnull (reg);
    ck_assert (catalog_service_has_tag (reg->service, "prod"));
    ck_assert (catalog_service_has_tag (reg->service, "V1"));
    ck_assert (!catalog_service_has_tag (reg->service, "v2"));
    cJSON *filter = cJSON_Parse ("{\"rack\":\"r1\"}");
    ck_assert (catalog_node_meta_match (reg->node, filter));
    cJSON_Delete (filter);
    filter = cJSON_Parse ("{\"rack\":\"r1\",\"zone\":\"other\"}");
    ck_assert (!catalog_node_meta_match (reg->node, filter));
    cJSON_Delete (filter);
    ck_assert (catalog_node_meta_match (reg->node, NULL));
    catalog_reg_destroy (&reg);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("catalog_record");
    TCase *tc = tcase_create ("register");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_register_defaults);
    tcase_add_test (tc, test_register_roundtrip);
    tcase_add_test (tc, test_register_nulls_and_unknown_fields);
    suite_add_tcase (suite, tc);
    TCase *bad = tcase_create ("malformed");
    tcase_set_timeout (bad, 10);
    tcase_add_test (bad, test_register_refused);
    tcase_add_test (bad, test_register_wrong_types);
    suite_add_tcase (suite, bad);
    TCase *dereg = tcase_create ("deregister");
    tcase_set_timeout (dereg, 10);
    tcase_add_test (dereg, test_deregister);
    suite_add_tcase (suite, dereg);
    TCase *status = tcase_create ("status_and_filters");
    tcase_set_timeout (status, 10);
    tcase_add_test (status, test_status);
    tcase_add_test (status, test_filters);
    suite_add_tcase (suite, status);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
