/*  Unit tests of httpd's operator raft routes (docs/http-api.md,
    "Operator"): the query parsing of GET /v1/operator/raft/configuration
    and DELETE /v1/operator/raft/peer with Consul's 400 texts, and the
    routes end to end through the router and the catalog link against fake
    daemons (rpc_server) in a temporary run dir: the catalogd commands and
    bodies, local DC to catalogd, another DC and a client agent's requests
    to forwarderd with "Datacenter", the reply passed through (read headers
    on the configuration, 200 with an empty body on a removal), errors
    passed through, 405 for a wrong method. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "rpc_server.h"
#include "rundir.h"
#include "timeutil.h"
#include "../../httpd/api.h"

static char s_dir [64];

static void
s_setup (void)
{
    strcpy (s_dir, "/tmp/mrd-oper-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (s_dir));
    ck_assert_int_eq (rundir_prepare (s_dir), 0);
}

static void
s_teardown (void)
{
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    ck_assert_int_eq (system (cmd), 0);
}

static http_request_t *
s_request (const char *method, const char *uri)
{
    http_request_t *request = request_new (uri);
    ck_assert_ptr_nonnull (request);
    request_set_method (request, method);
    return request;
}

static const char *
s_body (http_request_t *request)
{
    size_t len;
    const char *body = request_reply_body (request, &len);
    static char copy [1024];
    snprintf (copy, sizeof copy, "%.*s", (int) len, body ? body : "");
    return copy;
}

static const char *
s_header (http_request_t *request, const char *name)
{
    struct MHD_Response *response = request_response (request);
    return response ? MHD_get_response_header (response, name) : NULL;
}

//  -- query parsing --------------------------------------------------------

static const char *const s_no_param =
    "Must specify either ?id with the server's ID or ?address with IP:port "
    "of peer to remove";
static const char *const s_both_params =
    "Must specify only one of ?id or ?address";

//  The remove_peer body for uri, as compact JSON ("" when refused).
static char *
s_peer_body (const char *uri, unsigned *status)
{
    http_request_t *request = s_request ("DELETE", uri);
    cJSON *body = operator_peer_body (request);
    *status = request_has_reply (request) ? request_reply_status (request) : 0;
    char *text = body ? cJSON_PrintUnformatted (body) : strdup (s_body (request));
    cJSON_Delete (body);
    request_destroy (&request);
    return text;
}

START_TEST (test_peer_query)
{
    struct {
        const char *uri;
        unsigned status;        //  0: accepted
        const char *result;     //  the body, or the error text
    } cases [] = {
        { "/v1/operator/raft/peer?id=d4a5c3e1-0000-4000-8000-000000000001", 0,
          "{\"ID\":\"d4a5c3e1-0000-4000-8000-000000000001\"}" },
        { "/v1/operator/raft/peer?address=127.0.0.1%3A8300&dc=dc2", 0,
          "{\"Address\":\"127.0.0.1:8300\"}" },
        //  presence counts, as in Consul: the empty ID is catalogd's to refuse
        { "/v1/operator/raft/peer?id", 0, "{\"ID\":\"\"}" },
        { "/v1/operator/raft/peer?address=", 0, "{\"Address\":\"\"}" },
        //  the first value wins (Go's Values.Get)
        { "/v1/operator/raft/peer?id=a&id=b", 0, "{\"ID\":\"a\"}" },
        { "/v1/operator/raft/peer", 400, s_no_param },
        { "/v1/operator/raft/peer?dc=dc1&ids=x&Address=y", 400, s_no_param },
        //  a pair with a bad escape is dropped (Go's url.ParseQuery)
        { "/v1/operator/raft/peer?id=%zz", 400, s_no_param },
        { "/v1/operator/raft/peer?id=a&address=1.2.3.4:8300", 400, s_both_params },
        { "/v1/operator/raft/peer?address&id", 400, s_both_params },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        unsigned status;
        char *text = s_peer_body (cases [i].uri, &status);
        ck_assert_msg (status == cases [i].status, "%s: status %u",
                       cases [i].uri, status);
        ck_assert_msg (strcmp (text, cases [i].result) == 0, "%s: %s",
                       cases [i].uri, text);
        free (text);
    }
}
END_TEST

START_TEST (test_configuration_query)
{
    query_opts_t opts;
    http_request_t *request = s_request ("GET",
        "/v1/operator/raft/configuration?stale&dc=dc2&index=9&wait=10s");
    ck_assert_int_eq (operator_configuration_options (request, &opts), 0);
    ck_assert (opts.stale);
    ck_assert (!opts.consistent);
    ck_assert_str_eq (opts.dc, "dc2");
    //  not a blocking endpoint
    ck_assert_uint_eq (opts.min_index, 0);
    ck_assert_int_eq (opts.wait_ms, 0);
    ck_assert (!request_has_reply (request));
    request_destroy (&request);

    request = s_request ("GET", "/v1/operator/raft/configuration?dc=");
    ck_assert_int_eq (operator_configuration_options (request, &opts), 0);
    ck_assert (!opts.stale);
    ck_assert_ptr_null (opts.dc);
    request_destroy (&request);

    struct {
        const char *query;
        const char *error;
    } bad [] = {
        { "?stale&consistent",
          "Cannot specify ?stale with ?consistent, conflicting semantics." },
        { "?wait=soon", "Invalid wait time" },
        { "?index=-1", "Invalid index" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char uri [128];
        snprintf (uri, sizeof uri, "/v1/operator/raft/configuration%s",
                  bad [i].query);
        request = s_request ("GET", uri);
        ck_assert_int_eq (operator_configuration_options (request, &opts), -1);
        ck_assert_uint_eq (request_reply_status (request), 400);
        ck_assert_str_eq (s_body (request), bad [i].error);
        request_destroy (&request);
    }
}
END_TEST

//  -- routes through the catalog link --------------------------------------

typedef struct {
    config_t cfg;
    router_t *router;
    catalog_link_t *link;
    api_t api;
    rpc_server_t *catalogd;     //  NULL on a client agent
    rpc_server_t *forwarderd;
} s_node_t;

static void
s_node_start (s_node_t *node, bool server)
{
    memset (node, 0, sizeof *node);
    config_defaults (&node->cfg);
    snprintf (node->cfg.data_dir, sizeof node->cfg.data_dir, "%s", s_dir);
    snprintf (node->cfg.datacenter, sizeof node->cfg.datacenter, "dc1");
    node->cfg.server = server;
    if (server)
        node->catalogd = rpc_server_new (s_dir, "catalogd");
    node->forwarderd = rpc_server_new (s_dir, "forwarderd");
    ck_assert_ptr_nonnull (node->forwarderd);
    node->router = router_new ();
    ck_assert_ptr_nonnull (node->router);
    ck_assert_int_eq (operator_api_register (node->router), 0);
    node->link = catalog_link_new (&node->cfg);
    ck_assert_ptr_nonnull (node->link);
    node->api.cfg = &node->cfg;
    node->api.link = node->link;
}

static void
s_node_stop (s_node_t *node)
{
    catalog_link_destroy (&node->link);
    router_destroy (&node->router);
    rpc_server_destroy (&node->catalogd);
    rpc_server_destroy (&node->forwarderd);
}

static void
s_pump (s_node_t *node)
{
    zmq_poll (NULL, 0, 5);
    catalog_link_process (node->link);
}

//  The next request the fake daemon gets, within 3 s.
static rpc_request_t *
s_next (s_node_t *node, rpc_server_t *server)
{
    int64_t deadline = time_mono_ms () + 3000;
    while (time_mono_ms () < deadline) {
        rpc_request_t *request = rpc_server_recv (server);
        if (request)
            return request;
        s_pump (node);
    }
    ck_abort_msg ("no request reached the fake daemon");
    return NULL;
}

//  Waits until the HTTP request has its response and nothing pending.
static void
s_answered (s_node_t *node, http_request_t *request)
{
    int64_t deadline = time_mono_ms () + 3000;
    while (time_mono_ms () < deadline
       && (!request_has_reply (request) || request_op_pending (request)))
        s_pump (node);
    ck_assert (request_has_reply (request));
    ck_assert (!request_op_pending (request));
}

static http_request_t *
s_dispatch (s_node_t *node, const char *method, const char *uri)
{
    http_request_t *request = s_request (method, uri);
    router_dispatch (node->router, &node->api, request);
    return request;
}

static const char *
s_field (rpc_request_t *call, const char *name)
{
    return cJSON_GetStringValue (cJSON_GetObjectItem (rpc_request_body (call), name));
}

static bool
s_flag (rpc_request_t *call, const char *name)
{
    return cJSON_IsTrue (cJSON_GetObjectItem (rpc_request_body (call), name));
}

#define S_CONFIGURATION \
    "{\"Servers\":[{\"ID\":\"d4a5c3e1-0000-4000-8000-000000000001\"," \
    "\"Node\":\"s1\",\"Address\":\"127.0.1.90:8300\",\"Leader\":true," \
    "\"Voter\":true,\"ProtocolVersion\":\"3\"}],\"Index\":1}"

static void
s_reply_configuration (rpc_server_t *server, rpc_request_t **call)
{
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddNumberToObject (body, "Index", 1);
    cJSON_AddBoolToObject (body, "KnownLeader", true);
    cJSON_AddNumberToObject (body, "LastContact", 0);
    cJSON_AddItemToObject (body, "Result", cJSON_Parse (S_CONFIGURATION));
    rpc_server_reply (server, call, &body);
}

static void
s_reply_removed (rpc_server_t *server, rpc_request_t **call)
{
    cJSON *body = cJSON_Parse ("{\"Result\":true}");
    rpc_server_reply (server, call, &body);
}

//  A configuration read for uri reaches daemon (with Datacenter dc when
//  not NULL) and comes back with Consul's body and the read headers.
static void
s_configuration_via (s_node_t *node, const char *uri, rpc_server_t *daemon,
                     const char *dc, bool stale)
{
    http_request_t *request = s_dispatch (node, "GET", uri);
    rpc_request_t *call = s_next (node, daemon);
    ck_assert_str_eq (rpc_request_command (call), "operator.raft.configuration");
    ck_assert (s_flag (call, "AllowStale") == stale);
    if (dc)
        ck_assert_str_eq (s_field (call, "Datacenter"), dc);
    else
        ck_assert_ptr_null (s_field (call, "Datacenter"));
    s_reply_configuration (daemon, &call);
    s_answered (node, request);
    ck_assert_uint_eq (request_reply_status (request), 200);
    ck_assert_str_eq (s_body (request), S_CONFIGURATION);
    ck_assert_str_eq (s_header (request, "Content-Type"), "application/json");
    ck_assert_str_eq (s_header (request, "X-Consul-Index"), "1");
    ck_assert_str_eq (s_header (request, "X-Consul-KnownLeader"), "true");
    ck_assert_str_eq (s_header (request, "X-Consul-LastContact"), "0");
    request_destroy (&request);
}

//  A removal for uri reaches daemon with field=value (and Datacenter dc
//  when not NULL) and is answered 200 with an empty body.
static void
s_remove_via (s_node_t *node, const char *uri, rpc_server_t *daemon,
              const char *dc, const char *field, const char *value)
{
    http_request_t *request = s_dispatch (node, "DELETE", uri);
    rpc_request_t *call = s_next (node, daemon);
    ck_assert_str_eq (rpc_request_command (call), "operator.raft.remove_peer");
    ck_assert_str_eq (s_field (call, field), value);
    if (dc)
        ck_assert_str_eq (s_field (call, "Datacenter"), dc);
    else
        ck_assert_ptr_null (s_field (call, "Datacenter"));
    s_reply_removed (daemon, &call);
    s_answered (node, request);
    ck_assert_uint_eq (request_reply_status (request), 200);
    ck_assert_str_eq (s_body (request), "");
    ck_assert_ptr_null (s_header (request, "Content-Type"));
    request_destroy (&request);
}

START_TEST (test_server_routes)
{
    s_node_t node;
    s_node_start (&node, true);

    //  the local DC: catalogd, no Datacenter; another: forwarderd
    s_configuration_via (&node, "/v1/operator/raft/configuration",
                         node.catalogd, NULL, false);
    s_configuration_via (&node, "/v1/operator/raft/configuration?stale&dc=dc1",
                         node.catalogd, NULL, true);
    s_configuration_via (&node, "/v1/operator/raft/configuration?dc=dc2",
                         node.forwarderd, "dc2", false);
    //  never cached: the same read reaches catalogd again
    s_configuration_via (&node, "/v1/operator/raft/configuration",
                         node.catalogd, NULL, false);

    s_remove_via (&node, "/v1/operator/raft/peer?id=abc", node.catalogd, NULL,
                  "ID", "abc");
    s_remove_via (&node, "/v1/operator/raft/peer?address=10.0.0.2:8300&dc=dc1",
                  node.catalogd, NULL, "Address", "10.0.0.2:8300");
    s_remove_via (&node, "/v1/operator/raft/peer?id=abc&dc=dc2",
                  node.forwarderd, "dc2", "ID", "abc");

    //  catalogd's errors pass through with their code and text
    http_request_t *request = s_dispatch (&node, "DELETE",
                                          "/v1/operator/raft/peer?id=nope");
    rpc_request_t *call = s_next (&node, node.catalogd);
    rpc_server_error (node.catalogd, &call, 500,
                      "id \"nope\" was not found in the Raft configuration");
    s_answered (&node, request);
    ck_assert_uint_eq (request_reply_status (request), 500);
    ck_assert_str_eq (s_body (request),
                      "id \"nope\" was not found in the Raft configuration");
    request_destroy (&request);

    request = s_dispatch (&node, "GET", "/v1/operator/raft/configuration");
    call = s_next (&node, node.catalogd);
    rpc_server_error (node.catalogd, &call, 500, "No cluster leader");
    s_answered (&node, request);
    ck_assert_uint_eq (request_reply_status (request), 500);
    ck_assert_str_eq (s_body (request), "No cluster leader");
    request_destroy (&request);

    //  bad parameters are answered at once, nothing is sent
    request = s_dispatch (&node, "DELETE", "/v1/operator/raft/peer?dc=dc2");
    ck_assert_uint_eq (request_reply_status (request), 400);
    ck_assert_str_eq (s_body (request), s_no_param);
    ck_assert (!request_op_pending (request));
    request_destroy (&request);
    request = s_dispatch (&node, "DELETE",
                          "/v1/operator/raft/peer?id=a&address=b");
    ck_assert_uint_eq (request_reply_status (request), 400);
    ck_assert_str_eq (s_body (request), s_both_params);
    request_destroy (&request);
    request = s_dispatch (&node, "GET",
                          "/v1/operator/raft/configuration?stale&consistent");
    ck_assert_uint_eq (request_reply_status (request), 400);
    request_destroy (&request);
    for (int i = 0; i < 20; i++)
        s_pump (&node);
    ck_assert_ptr_null (rpc_server_recv (node.catalogd));
    ck_assert_ptr_null (rpc_server_recv (node.forwarderd));

    //  a wrong method: 405 with Allow, like every route
    request = s_dispatch (&node, "GET", "/v1/operator/raft/peer?id=a");
    ck_assert_uint_eq (request_reply_status (request), 405);
    ck_assert_str_eq (s_header (request, "Allow"), "OPTIONS,DELETE");
    ck_assert_str_eq (s_body (request), "method GET not allowed");
    request_destroy (&request);
    request = s_dispatch (&node, "PUT", "/v1/operator/raft/configuration");
    ck_assert_uint_eq (request_reply_status (request), 405);
    ck_assert_str_eq (s_header (request, "Allow"), "OPTIONS,GET");
    request_destroy (&request);

    s_node_stop (&node);
}
END_TEST

START_TEST (test_client_routes)
{
    s_node_t node;
    s_node_start (&node, false);
    //  a client agent asks a server of its own DC through forwarderd
    s_configuration_via (&node, "/v1/operator/raft/configuration?stale",
                         node.forwarderd, "dc1", true);
    s_configuration_via (&node, "/v1/operator/raft/configuration?dc=dc2",
                         node.forwarderd, "dc2", false);
    s_remove_via (&node, "/v1/operator/raft/peer?address=10.0.0.2:8300",
                  node.forwarderd, "dc1", "Address", "10.0.0.2:8300");
    s_remove_via (&node, "/v1/operator/raft/peer?id=abc&dc=dc2",
                  node.forwarderd, "dc2", "ID", "abc");

    //  forwarderd's errors pass through
    http_request_t *request = s_dispatch (&node, "DELETE",
                                          "/v1/operator/raft/peer?id=abc");
    rpc_request_t *call = s_next (&node, node.forwarderd);
    rpc_server_error (node.forwarderd, &call, 500, "No known Consul servers");
    s_answered (&node, request);
    ck_assert_uint_eq (request_reply_status (request), 500);
    ck_assert_str_eq (s_body (request), "No known Consul servers");
    request_destroy (&request);

    //  a request that goes away before the reply releases everything
    request = s_dispatch (&node, "DELETE", "/v1/operator/raft/peer?id=abc");
    call = s_next (&node, node.forwarderd);
    request_destroy (&request);
    rpc_request_destroy (&call);

    s_node_stop (&node);
}
END_TEST

static Suite *
s_suite (void)
{
    Suite *suite = suite_create ("http_operator");
    struct {
        const char *name;
        const TTest *test;
    } cases [] = {
        { "peer_query", test_peer_query },
        { "configuration_query", test_configuration_query },
        { "server_routes", test_server_routes },
        { "client_routes", test_client_routes },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        TCase *tc = tcase_create (cases [i].name);
        tcase_add_checked_fixture (tc, s_setup, s_teardown);
        tcase_add_test (tc, cases [i].test);
        tcase_set_timeout (tc, 20);
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
