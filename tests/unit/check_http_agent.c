/*  Unit tests of the agent's local state: Consul's definition rules (ID and
    check id defaults, snake_case keys, Weights), malformed definitions,
    TTL expiry math and the critical-service reaper on a synthetic clock,
    persistence across a restart, and the anti-entropy bookkeeping. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../httpd/agent_def.h"
#include "../../httpd/agent_state.h"

static char s_dir [64];

static void
s_setup (void)
{
    strcpy (s_dir, "/tmp/mrd-agent-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (s_dir));
}

static void
s_teardown (void)
{
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    ck_assert_int_eq (system (cmd), 0);
}

static int
s_register (agent_state_t *state, const char *json, agent_error_t *error)
{
    cJSON *body = cJSON_Parse (json);
    ck_assert_ptr_nonnull (body);
    int rc = agent_state_register_service (state, body, false, 1000, error);
    cJSON_Delete (body);
    return rc;
}

static int
s_register_check (agent_state_t *state, const char *json, int64_t now,
                  agent_error_t *error)
{
    cJSON *body = cJSON_Parse (json);
    ck_assert_ptr_nonnull (body);
    int rc = agent_state_register_check (state, body, now, error);
    cJSON_Delete (body);
    return rc;
}

static char *
s_field (cJSON *object, const char *path)
{
    //  path is "a.b.c" through nested objects
    char copy [128];
    snprintf (copy, sizeof copy, "%s", path);
    cJSON *item = object;
    for (char *name = strtok (copy, "."); name; name = strtok (NULL, "."))
        item = cJSON_GetObjectItemCaseSensitive (item, name);
    ck_assert_msg (item != NULL, "no %s", path);
    return cJSON_PrintUnformatted (item);
}

static void
s_assert_field (cJSON *object, const char *path, const char *json)
{
    char *text = s_field (object, path);
    ck_assert_str_eq (text, json);
    free (text);
}

START_TEST (test_service_defaults)
{
    agent_state_t *state = agent_state_new (NULL, "node1");
    agent_error_t error;
    ck_assert_int_eq (s_register (state, "{\"name\":\"web\",\"port\":80,"
        "\"enable_tag_override\":true,\"tagged_addresses\":{\"lan\":"
        "{\"address\":\"10.0.0.1\",\"port\":80}},\"meta\":{\"b\":\"2\",\"a\":\"1\"},"
        "\"check\":{\"ttl\":\"10s\"}}", &error), 0);
    cJSON *services = agent_state_services_json (state);
    s_assert_field (services, "web.ID", "\"web\"");
    s_assert_field (services, "web.Service", "\"web\"");
    s_assert_field (services, "web.Tags", "[]");
    s_assert_field (services, "web.Meta", "{\"a\":\"1\",\"b\":\"2\"}");
    s_assert_field (services, "web.Port", "80");
    s_assert_field (services, "web.Weights", "{\"Passing\":1,\"Warning\":1}");
    s_assert_field (services, "web.EnableTagOverride", "true");
    s_assert_field (services, "web.TaggedAddresses",
                    "{\"lan\":{\"Address\":\"10.0.0.1\",\"Port\":80}}");
    cJSON_Delete (services);
    cJSON *checks = agent_state_checks_json (state);
    s_assert_field (checks, "service:web.Name", "\"Service 'web' check\"");
    s_assert_field (checks, "service:web.Status", "\"critical\"");
    s_assert_field (checks, "service:web.Node", "\"node1\"");
    s_assert_field (checks, "service:web.ServiceID", "\"web\"");
    s_assert_field (checks, "service:web.ServiceName", "\"web\"");
    s_assert_field (checks, "service:web.Type", "\"ttl\"");
    cJSON_Delete (checks);

    //  an explicit ID, Weights, several checks numbered from 1
    ck_assert_int_eq (s_register (state, "{\"ID\":\"api-1\",\"Name\":\"api\","
        "\"Weights\":{\"Passing\":10,\"Warning\":0},\"Tags\":[\"a\"],"
        "\"Checks\":[{\"TTL\":\"5s\",\"Status\":\"passing\"},{\"TTL\":\"5s\","
        "\"Name\":\"second\"},{\"CheckID\":\"mine\",\"TTL\":\"5s\"}]}", &error), 0);
    services = agent_state_services_json (state);
    s_assert_field (services, "api-1.Service", "\"api\"");
    s_assert_field (services, "api-1.Weights", "{\"Passing\":10,\"Warning\":0}");
    cJSON_Delete (services);
    checks = agent_state_checks_json (state);
    s_assert_field (checks, "service:api-1:1.Status", "\"passing\"");
    s_assert_field (checks, "service:api-1:2.Name", "\"second\"");
    s_assert_field (checks, "mine.ServiceID", "\"api-1\"");
    s_assert_field (checks, "mine.ServiceTags", "[\"a\"]");
    cJSON_Delete (checks);
    ck_assert_uint_eq (agent_state_service_count (state), 2);
    ck_assert_uint_eq (agent_state_check_count (state), 4);

    //  an empty Check object is ignored, as in Consul
    ck_assert_int_eq (s_register (state, "{\"Name\":\"bare\",\"Check\":{}}", &error), 0);
    ck_assert_uint_eq (agent_state_check_count (state), 4);
    agent_state_destroy (&state);
    ck_assert_ptr_null (state);
}
END_TEST

static void
s_service_fails (const char *json, unsigned status, const char *text)
{
    agent_state_t *state = agent_state_new (NULL, "node1");
    agent_error_t error;
    cJSON *body = cJSON_Parse (json);
    ck_assert_ptr_nonnull (body);
    ck_assert_int_eq (agent_state_register_service (state, body, false, 1, &error), -1);
    cJSON_Delete (body);
    ck_assert_uint_eq (error.status, status);
    ck_assert_str_eq (error.text, text);
    //  nothing was partly applied
    ck_assert_uint_eq (agent_state_service_count (state), 0);
    ck_assert_uint_eq (agent_state_check_count (state), 0);
    agent_state_destroy (&state);
}

START_TEST (test_malformed_services)
{
    s_service_fails ("[]", 400, "Request decode failed: json: cannot unmarshal array "
                     "into Go value of type structs.ServiceDefinition");
    s_service_fails ("{}", 400, "Missing service name");
    s_service_fails ("{\"Name\":\"\"}", 400, "Missing service name");
    s_service_fails ("{\"Name\":5}", 400, "Request decode failed: json: cannot "
                     "unmarshal number into Go struct field ServiceDefinition.Name "
                     "of type string");
    s_service_fails ("{\"Name\":\"w\",\"Port\":\"80\"}", 400, "Request decode failed: "
                     "json: cannot unmarshal string into Go struct field "
                     "ServiceDefinition.Port of type int");
    s_service_fails ("{\"Name\":\"w\",\"Port\":80.5}", 400, "Request decode failed: "
                     "json: cannot unmarshal number 80.5 into Go struct field "
                     "ServiceDefinition.Port of type int");
    s_service_fails ("{\"Name\":\"w\",\"Tags\":\"a\"}", 400, "Request decode failed: "
                     "json: cannot unmarshal string into Go struct field "
                     "ServiceDefinition.Tags of type []string");
    s_service_fails ("{\"Name\":\"w\",\"Meta\":{\"a\":1}}", 400, "Request decode "
                     "failed: json: cannot unmarshal number into Go struct field "
                     "ServiceDefinition.Meta of type string");
    s_service_fails ("{\"Name\":\"w\",\"Address\":\"0.0.0.0\"}", 400,
                     "Invalid service address");
    s_service_fails ("{\"Name\":\"w\",\"Meta\":{\"a b\":\"1\"}}", 400,
                     "Invalid Service Meta: Couldn't load metadata pair ('a b', '1'): "
                     "Key contains invalid characters");
    s_service_fails ("{\"Name\":\"w\",\"Meta\":{\"consul-x\":\"1\"}}", 400,
                     "Invalid Service Meta: Couldn't load metadata pair ('consul-x', "
                     "'1'): Key prefix 'consul-' is reserved for internal use");
    s_service_fails ("{\"Name\":\"w\",\"Weights\":{\"Passing\":0}}", 400,
                     "Invalid Weights: Passing must be greater than 0");
    s_service_fails ("{\"Name\":\"w\",\"Check\":{\"TTL\":\"abc\"}}", 400,
                     "Request decode failed: time: invalid duration \"abc\"");
    s_service_fails ("{\"Name\":\"w\",\"Check\":{\"Notes\":\"x\"}}", 400,
                     "Invalid check: TTL must be > 0 for TTL checks");
    s_service_fails ("{\"Name\":\"w\",\"Check\":{\"TTL\":\"-1s\"}}", 400,
                     "Invalid check: TTL must be > 0 for TTL checks");
    s_service_fails ("{\"Name\":\"w\",\"Check\":{\"HTTP\":\"http://x\"}}", 400,
                     "Invalid check: Interval must be > 0 for Script, HTTP, or TCP "
                     "checks");
    s_service_fails ("{\"Name\":\"w\",\"Check\":{\"TTL\":\"1s\",\"Interval\":\"1s\"}}",
                     400, "Invalid check: Interval and TTL cannot both be specified");
    s_service_fails ("{\"Name\":\"w\",\"Check\":{\"TCP\":\"x:1\",\"Interval\":\"1s\"}}",
                     400, "Invalid check: only TTL checks are supported by this agent");
    s_service_fails ("{\"Name\":\"w\",\"Checks\":[{\"TTL\":\"1s\"},"
                     "{\"TTL\":\"1s\",\"Status\":\"bad\"}]}", 400,
                     "Status for checks must 'passing', 'warning', 'critical'");
    s_service_fails ("{\"Name\":\"w\",\"Checks\":[5]}", 400, "Request decode failed: "
                     "json: cannot unmarshal number into Go struct field "
                     "ServiceDefinition.Checks of type structs.CheckType");
}
END_TEST

START_TEST (test_check_register_rules)
{
    agent_state_t *state = agent_state_new (NULL, "node1");
    agent_error_t error;
    ck_assert_int_eq (s_register_check (state, "{\"Name\":\"mem\",\"TTL\":\"15s\","
                                        "\"Notes\":\"n\"}", 0, &error), 0);
    cJSON *check = agent_state_check_json (state, "mem");
    ck_assert_ptr_nonnull (check);
    s_assert_field (check, "ServiceID", "\"\"");
    s_assert_field (check, "Notes", "\"n\"");
    s_assert_field (check, "Status", "\"critical\"");
    cJSON_Delete (check);
    ck_assert_ptr_null (agent_state_check_json (state, "nope"));
    ck_assert_int_eq (s_register_check (state, "{\"ID\":\"c1\",\"Name\":\"x\","
                                        "\"TTL\":\"1s\",\"Status\":\"warning\"}",
                                        0, &error), 0);
    check = agent_state_check_json (state, "c1");
    s_assert_field (check, "Status", "\"warning\"");
    cJSON_Delete (check);

    struct { const char *json; unsigned status; const char *text; } bad [] = {
        { "{\"TTL\":\"1s\"}", 400, "Missing check name" },
        { "{\"Name\":\"x\",\"TTL\":\"1s\",\"Status\":\"ok\"}", 400, "Bad check status" },
        { "{\"Name\":\"x\"}", 400, "Invalid check: TTL must be > 0 for TTL checks" },
        { "{\"Name\":\"x\",\"TTL\":true}", 400, "Request decode failed: json: cannot "
          "unmarshal bool into Go value of type time.Duration" },
        { "{\"Name\":\"x\",\"TTL\":\"1s\",\"ServiceID\":\"ghost\"}", 500,
          "ServiceID \"ghost\" does not exist" },
        { "\"x\"", 400, "Request decode failed: json: cannot unmarshal string into "
          "Go value of type structs.CheckDefinition" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ck_assert_int_eq (s_register_check (state, bad [i].json, 0, &error), -1);
        ck_assert_uint_eq (error.status, bad [i].status);
        ck_assert_str_eq (error.text, bad [i].text);
    }
    ck_assert_uint_eq (agent_state_check_count (state), 2);
    //  a check of a registered service takes its name and tags
    ck_assert_int_eq (s_register (state, "{\"Name\":\"db\",\"Tags\":[\"t\"]}", &error), 0);
    ck_assert_int_eq (s_register_check (state, "{\"Name\":\"x\",\"TTL\":\"1s\","
                                        "\"service_id\":\"db\"}", 0, &error), 0);
    check = agent_state_check_json (state, "x");
    s_assert_field (check, "ServiceName", "\"db\"");
    s_assert_field (check, "ServiceTags", "[\"t\"]");
    cJSON_Delete (check);
    //  deregistering unknown ids is a no-op
    ck_assert_int_eq (agent_state_deregister_check (state, "nope"), 0);
    ck_assert_int_eq (agent_state_deregister_service (state, "nope"), 0);
    //  deregistering a service removes its checks
    ck_assert_int_eq (agent_state_deregister_service (state, "db"), 0);
    ck_assert_ptr_null (agent_state_check_json (state, "x"));
    ck_assert_int_eq (agent_state_deregister_check (state, "c1"), 0);
    ck_assert_uint_eq (agent_state_check_count (state), 1);
    agent_state_destroy (&state);
}
END_TEST

START_TEST (test_ttl_expiry)
{
    agent_state_t *state = agent_state_new (NULL, "node1");
    agent_error_t error;
    ck_assert_int_eq (agent_state_next_timeout (state, 0), -1);
    ck_assert_int_eq (s_register_check (state, "{\"Name\":\"t\",\"TTL\":\"10s\"}",
                                        1000, &error), 0);
    ck_assert_int_eq (agent_state_next_timeout (state, 1000), 10000);
    ck_assert_int_eq (agent_state_update_ttl (state, "t", "passing", "all good",
                                              5000, &error), 0);
    cJSON *check = agent_state_check_json (state, "t");
    s_assert_field (check, "Status", "\"passing\"");
    s_assert_field (check, "Output", "\"all good\"");
    cJSON_Delete (check);
    //  the earlier deadline may still wake the loop: nothing expires then
    agent_state_expire (state, 11000);
    ck_assert_int_eq (agent_state_next_timeout (state, 11000), 4000);
    agent_state_expire (state, 14999);
    check = agent_state_check_json (state, "t");
    s_assert_field (check, "Status", "\"passing\"");
    cJSON_Delete (check);
    agent_state_expire (state, 15000);
    check = agent_state_check_json (state, "t");
    s_assert_field (check, "Status", "\"critical\"");
    s_assert_field (check, "Output",
                    "\"TTL expired (last output before timeout follows): all good\"");
    cJSON_Delete (check);
    //  an expired TTL does not fire again until the next update
    ck_assert_int_eq (agent_state_next_timeout (state, 15000), -1);

    ck_assert_int_eq (s_register_check (state, "{\"Name\":\"u\",\"TTL\":\"1s\"}",
                                        20000, &error), 0);
    agent_state_expire (state, 21000);
    check = agent_state_check_json (state, "u");
    s_assert_field (check, "Output", "\"TTL expired\"");
    cJSON_Delete (check);

    ck_assert_int_eq (agent_state_update_ttl (state, "nope", "passing", "", 0, &error), -1);
    ck_assert_uint_eq (error.status, 500);
    ck_assert_str_eq (error.text, "CheckID \"nope\" does not have associated TTL");

    //  long outputs are truncated like Consul's
    char *big = malloc (5000);
    memset (big, 'x', 4999);
    big [4999] = 0;
    ck_assert_int_eq (agent_state_update_ttl (state, "u", "warning", big, 22000, &error), 0);
    free (big);
    check = agent_state_check_json (state, "u");
    const char *output = cJSON_GetObjectItem (check, "Output")->valuestring;
    ck_assert_uint_eq (strlen (output), 4096 + strlen (" ... (captured 4096 of 4999 bytes)"));
    ck_assert (strstr (output, " ... (captured 4096 of 4999 bytes)") != NULL);
    cJSON_Delete (check);
    agent_state_destroy (&state);
}
END_TEST

START_TEST (test_reaper)
{
    agent_state_t *state = agent_state_new (NULL, "node1");
    agent_error_t error;
    ck_assert_int_eq (s_register (state, "{\"Name\":\"web\",\"Check\":{\"TTL\":\"1h\","
        "\"DeregisterCriticalServiceAfter\":\"10s\",\"Status\":\"passing\"}}",
        &error), 0);
    ck_assert_int_eq (agent_state_update_ttl (state, "service:web", "critical", "",
                                              2000, &error), 0);
    //  Consul's minimum is one minute
    agent_state_expire (state, 2000 + 59999);
    ck_assert_uint_eq (agent_state_service_count (state), 1);
    ck_assert_int_eq (agent_state_next_timeout (state, 2000 + 59999), 1);
    agent_state_expire (state, 2000 + 60000);
    ck_assert_uint_eq (agent_state_service_count (state), 0);
    ck_assert_uint_eq (agent_state_check_count (state), 0);
    agent_state_destroy (&state);
}
END_TEST

START_TEST (test_persistence)
{
    agent_state_t *state = agent_state_new (s_dir, "node1");
    ck_assert_ptr_nonnull (state);
    agent_error_t error;
    ck_assert_int_eq (s_register (state, "{\"Name\":\"web\",\"Port\":80,\"Tags\":[\"a\"],"
        "\"Checks\":[{\"TTL\":\"1h\"},{\"TTL\":\"1ms\",\"Name\":\"short\"}]}", &error), 0);
    ck_assert_int_eq (s_register_check (state, "{\"Name\":\"node-check\",\"TTL\":\"1h\","
                                        "\"Status\":\"warning\"}", 0, &error), 0);
    ck_assert_int_eq (agent_state_update_ttl (state, "service:web:1", "passing", "fine",
                                              1000, &error), 0);
    ck_assert_int_eq (agent_state_update_ttl (state, "service:web:2", "passing", "gone",
                                              1000, &error), 0);
    ck_assert_int_eq (s_register (state, "{\"Name\":\"tmp\"}", &error), 0);
    ck_assert_int_eq (agent_state_deregister_service (state, "tmp"), 0);
    cJSON *services = agent_state_services_json (state);
    agent_state_destroy (&state);
    usleep (5000);      //  the 1 ms TTL's persisted state runs out

    //  a malformed file is skipped, not fatal
    char path [128];
    snprintf (path, sizeof path, "%s/agent/services/junk.json", s_dir);
    FILE *file = fopen (path, "w");
    fputs ("{not json", file);
    fclose (file);

    state = agent_state_new (s_dir, "node1");
    ck_assert_int_eq (agent_state_load (state, 50), 4);
    cJSON *loaded = agent_state_services_json (state);
    ck_assert (cJSON_Compare (services, loaded, true));
    cJSON_Delete (services);
    cJSON_Delete (loaded);
    cJSON *check = agent_state_check_json (state, "service:web:1");
    s_assert_field (check, "Status", "\"passing\"");
    s_assert_field (check, "Output", "\"fine\"");
    cJSON_Delete (check);
    //  an expired state is not restored: the registration status is
    check = agent_state_check_json (state, "service:web:2");
    s_assert_field (check, "Status", "\"critical\"");
    s_assert_field (check, "Output", "\"\"");
    cJSON_Delete (check);
    check = agent_state_check_json (state, "node-check");
    s_assert_field (check, "Status", "\"warning\"");
    cJSON_Delete (check);
    //  the TTL clocks restart from the load
    ck_assert_int_eq (agent_state_next_timeout (state, 50), 1);
    agent_state_expire (state, 51);
    ck_assert_int_eq (agent_state_next_timeout (state, 51), 3599999);
    agent_state_destroy (&state);
}
END_TEST

START_TEST (test_sync_bookkeeping)
{
    agent_state_t *state = agent_state_new (NULL, "node1");
    agent_error_t error;
    agent_sync_item_t item;
    ck_assert (!agent_state_sync_pending (state));
    ck_assert_int_eq (s_register (state, "{\"Name\":\"web\",\"Port\":80,"
                                  "\"Check\":{\"TTL\":\"1h\"}}", &error), 0);
    ck_assert (agent_state_sync_pending (state));
    //  a service goes with its checks
    ck_assert_int_eq (agent_state_sync_next (state, &item), 0);
    ck_assert_int_eq (item.kind, AGENT_SYNC_SERVICE);
    ck_assert_str_eq (item.id, "web");
    ck_assert_int_eq (cJSON_GetArraySize (item.checks), 1);
    ck_assert_uint_eq (item.check_count, 1);
    agent_state_sync_done (state, &item);
    agent_sync_item_clear (&item);
    ck_assert_int_eq (agent_state_sync_next (state, &item), -1);
    ck_assert (!agent_state_sync_pending (state));

    //  a status change is one check write
    ck_assert_int_eq (agent_state_update_ttl (state, "service:web", "passing", "ok",
                                              0, &error), 0);
    ck_assert_int_eq (agent_state_sync_next (state, &item), 0);
    ck_assert_int_eq (item.kind, AGENT_SYNC_CHECK);
    s_assert_field (cJSON_GetArrayItem (item.checks, 0), "Status", "\"passing\"");
    //  a change while the write is in flight keeps it dirty
    ck_assert_int_eq (agent_state_update_ttl (state, "service:web", "warning", "",
                                              0, &error), 0);
    agent_state_sync_done (state, &item);
    agent_sync_item_clear (&item);
    ck_assert_int_eq (agent_state_sync_next (state, &item), 0);
    ck_assert_int_eq (item.kind, AGENT_SYNC_CHECK);
    agent_state_sync_done (state, &item);
    agent_sync_item_clear (&item);
    //  a pass with nothing new changes nothing to sync
    ck_assert_int_eq (agent_state_update_ttl (state, "service:web", "warning", "",
                                              0, &error), 0);
    ck_assert_int_eq (agent_state_sync_next (state, &item), -1);

    //  full sync: the catalog has a stale copy, an unknown service with a
    //  check, Consul's own service and serfHealth
    cJSON *remote_services = cJSON_Parse (
        "{\"web\":{\"ID\":\"web\",\"Service\":\"web\",\"Port\":81},"
        "\"old\":{\"ID\":\"old\",\"Service\":\"old\"},"
        "\"consul\":{\"ID\":\"consul\",\"Service\":\"consul\"}}");
    cJSON *remote_checks = cJSON_Parse (
        "[{\"CheckID\":\"serfHealth\",\"Status\":\"passing\"},"
        "{\"CheckID\":\"old-check\",\"ServiceID\":\"old\"},"
        "{\"CheckID\":\"stray\",\"ServiceID\":\"\"},"
        "{\"CheckID\":\"service:web\",\"Name\":\"Service 'web' check\","
        "\"Status\":\"warning\",\"Notes\":\"\",\"Output\":\"\",\"ServiceID\":\"web\"}]");
    agent_state_sync_compare (state, remote_services, remote_checks);
    cJSON_Delete (remote_services);
    cJSON_Delete (remote_checks);
    const char *order [] = { "stray", "old", "web" };
    agent_sync_kind_t kinds [] = { AGENT_SYNC_DROP_CHECK, AGENT_SYNC_DROP_SERVICE,
                                   AGENT_SYNC_SERVICE };
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq (agent_state_sync_next (state, &item), 0);
        ck_assert_int_eq (item.kind, kinds [i]);
        ck_assert_str_eq (item.id, order [i]);
        agent_state_sync_done (state, &item);
        agent_sync_item_clear (&item);
    }
    ck_assert_int_eq (agent_state_sync_next (state, &item), -1);

    //  deregistration leaves a tombstone for the service only
    ck_assert_int_eq (agent_state_deregister_service (state, "web"), 0);
    ck_assert_int_eq (agent_state_sync_next (state, &item), 0);
    ck_assert_int_eq (item.kind, AGENT_SYNC_DROP_SERVICE);
    agent_state_sync_done (state, &item);
    agent_sync_item_clear (&item);
    ck_assert_int_eq (agent_state_sync_next (state, &item), -1);
    agent_state_destroy (&state);
}
END_TEST

START_TEST (test_reregistration)
{
    agent_state_t *state = agent_state_new (NULL, "node1");
    agent_error_t error;
    ck_assert_int_eq (s_register (state, "{\"Name\":\"web\",\"Checks\":["
        "{\"CheckID\":\"a\",\"TTL\":\"1h\"},{\"CheckID\":\"b\",\"TTL\":\"1h\"}]}",
        &error), 0);
    ck_assert_int_eq (agent_state_update_ttl (state, "a", "passing", "up", 0, &error), 0);
    //  re-registering keeps a check's status and output
    ck_assert_int_eq (s_register (state, "{\"Name\":\"web\",\"Port\":1,\"Checks\":["
        "{\"CheckID\":\"a\",\"TTL\":\"1h\"}]}", &error), 0);
    cJSON *check = agent_state_check_json (state, "a");
    s_assert_field (check, "Status", "\"passing\"");
    s_assert_field (check, "Output", "\"up\"");
    cJSON_Delete (check);
    //  without replace-existing-checks "b" stays
    ck_assert_uint_eq (agent_state_check_count (state), 2);
    cJSON *body = cJSON_Parse ("{\"Name\":\"web\",\"Checks\":[{\"CheckID\":\"a\","
                               "\"TTL\":\"1h\"}]}");
    ck_assert_int_eq (agent_state_register_service (state, body, true, 0, &error), 0);
    cJSON_Delete (body);
    ck_assert_uint_eq (agent_state_check_count (state), 1);
    ck_assert_ptr_null (agent_state_check_json (state, "b"));
    agent_state_destroy (&state);
}
END_TEST

START_TEST (test_definition_helpers)
{
    cJSON *object = cJSON_Parse ("{\"service_id\":\"a\",\"ServiceID\":\"b\","
                                 "\"nothing\":null}");
    ck_assert_str_eq (agent_def_field (object, "ServiceID")->valuestring, "b");
    ck_assert_ptr_null (agent_def_field (object, "Nothing"));
    ck_assert_ptr_null (agent_def_field (NULL, "x"));
    cJSON_Delete (object);
    int64_t ms;
    agent_error_t error;
    cJSON *value = cJSON_CreateNumber (2.5e9);
    ck_assert_int_eq (agent_def_duration (value, &ms, &error), 0);
    ck_assert_int_eq (ms, 2500);
    cJSON_Delete (value);
    ck_assert (agent_def_status_valid ("warning"));
    ck_assert (!agent_def_status_valid ("maintenance"));
    ck_assert (!agent_def_status_valid (NULL));
}
END_TEST

static Suite *
s_suite (void)
{
    Suite *suite = suite_create ("http_agent");
    struct { const char *name; const TTest *test; } cases [] = {
        { "service defaults", test_service_defaults },
        { "malformed services", test_malformed_services },
        { "check register rules", test_check_register_rules },
        { "ttl expiry", test_ttl_expiry },
        { "reaper", test_reaper },
        { "persistence", test_persistence },
        { "sync bookkeeping", test_sync_bookkeeping },
        { "re-registration", test_reregistration },
        { "definition helpers", test_definition_helpers },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        TCase *tc = tcase_create (cases [i].name);
        tcase_set_timeout (tc, 10);
        tcase_add_checked_fixture (tc, s_setup, s_teardown);
        tcase_add_test (tc, cases [i].test);
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
    return failed ? 1 : 0;
}
