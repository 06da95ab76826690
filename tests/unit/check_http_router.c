/*  Unit tests of httpd's router: exact and subtree patterns, the longest
    pattern winning, 404 with an empty body, 405 with Consul's Allow header
    and text, OPTIONS, and the tail handed to subtree handlers. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../httpd/router.h"

static int s_calls;
static char s_tail [128];

static void
s_handler_a (void *ctx, http_request_t *request)
{
    s_calls++;
    snprintf (s_tail, sizeof s_tail, "%s", request_tail (request));
    request_reply_text (request, 200, "a");
}

static void
s_handler_b (void *ctx, http_request_t *request)
{
    s_calls += 10;
    snprintf (s_tail, sizeof s_tail, "%s", request_tail (request));
    request_reply_text (request, 200, "b");
}

static router_t *
s_router (void)
{
    router_t *router = router_new ();
    ck_assert_ptr_nonnull (router);
    ck_assert_int_eq (router_add (router, "GET", "/v1/catalog/nodes", s_handler_a), 0);
    ck_assert_int_eq (router_add (router, "GET", "/v1/catalog/service/", s_handler_a), 0);
    ck_assert_int_eq (router_add (router, "PUT", "/v1/catalog/register", s_handler_a), 0);
    ck_assert_int_eq (router_add (router, "GET", "/v1/agent/check/", s_handler_a), 0);
    ck_assert_int_eq (router_add (router, "PUT", "/v1/agent/check/pass/", s_handler_b), 0);
    ck_assert_int_eq (router_add (router, "POST", "/v1/catalog/nodes", s_handler_b), 0);
    return router;
}

START_TEST (test_exact_and_subtree)
{
    router_t *router = s_router ();
    route_match_t match;
    ck_assert_int_eq (router_match (router, "GET", "/v1/catalog/nodes", &match), 0);
    ck_assert_ptr_eq (match.handler, s_handler_a);
    ck_assert_str_eq (match.tail, "");
    //  exact patterns do not match longer paths
    ck_assert_int_eq (router_match (router, "GET", "/v1/catalog/nodes/x", &match), -1);
    ck_assert_uint_eq (match.status, 404);
    //  subtree patterns give the rest of the path, which may be empty or
    //  hold slashes (Consul trims the prefix)
    ck_assert_int_eq (router_match (router, "GET", "/v1/catalog/service/web", &match), 0);
    ck_assert_str_eq (match.tail, "web");
    ck_assert_int_eq (router_match (router, "GET", "/v1/catalog/service/", &match), 0);
    ck_assert_str_eq (match.tail, "");
    ck_assert_int_eq (router_match (router, "GET", "/v1/catalog/service/a/b", &match), 0);
    ck_assert_str_eq (match.tail, "a/b");
    //  without the trailing slash the subtree does not match
    ck_assert_int_eq (router_match (router, "GET", "/v1/catalog/service", &match), -1);
    ck_assert_uint_eq (match.status, 404);
    router_destroy (&router);
    ck_assert_ptr_null (router);
    router_destroy (&router);
}
END_TEST

START_TEST (test_longest_pattern_wins)
{
    router_t *router = s_router ();
    route_match_t match;
    ck_assert_int_eq (router_match (router, "PUT", "/v1/agent/check/pass/web", &match), 0);
    ck_assert_ptr_eq (match.handler, s_handler_b);
    ck_assert_str_eq (match.tail, "web");
    //  the longer pattern decides the resource: GET is not allowed there
    ck_assert_int_eq (router_match (router, "GET", "/v1/agent/check/pass/web", &match), -1);
    ck_assert_uint_eq (match.status, 405);
    ck_assert_str_eq (match.allow, "OPTIONS,PUT");
    ck_assert_int_eq (router_match (router, "GET", "/v1/agent/check/other", &match), 0);
    ck_assert_ptr_eq (match.handler, s_handler_a);
    router_destroy (&router);
}
END_TEST

START_TEST (test_method_not_allowed)
{
    router_t *router = s_router ();
    route_match_t match;
    ck_assert_int_eq (router_match (router, "DELETE", "/v1/catalog/nodes", &match), -1);
    ck_assert_uint_eq (match.status, 405);
    ck_assert_str_eq (match.allow, "OPTIONS,GET,POST");
    ck_assert_int_eq (router_match (router, "OPTIONS", "/v1/catalog/register", &match), -1);
    ck_assert_uint_eq (match.status, 200);
    ck_assert_str_eq (match.allow, "OPTIONS,PUT");
    //  a bad table entry is refused
    ck_assert_int_eq (router_add (router, "GET", "no-slash", s_handler_a), -1);
    ck_assert_int_eq (router_add (router, "GET", NULL, s_handler_a), -1);
    router_destroy (&router);
}
END_TEST

START_TEST (test_dispatch_replies)
{
    router_t *router = s_router ();
    s_calls = 0;
    http_request_t *request = request_new ("/v1/catalog/service/we%20b?x=1");
    request_set_method (request, "GET");
    router_dispatch (router, NULL, request);
    ck_assert_int_eq (s_calls, 1);
    ck_assert_str_eq (s_tail, "we b");
    ck_assert_uint_eq (request_reply_status (request), 200);
    request_destroy (&request);

    request = request_new ("/v1/nothing/here");
    request_set_method (request, "GET");
    router_dispatch (router, NULL, request);
    size_t len = 99;
    request_reply_body (request, &len);
    ck_assert_uint_eq (request_reply_status (request), 404);
    ck_assert_uint_eq (len, 0);
    request_destroy (&request);

    request = request_new ("/v1/catalog/nodes");
    request_set_method (request, "DELETE");
    router_dispatch (router, NULL, request);
    ck_assert_uint_eq (request_reply_status (request), 405);
    ck_assert_str_eq (request_reply_body (request, NULL), "method DELETE not allowed");
    ck_assert_str_eq (MHD_get_response_header (request_response (request), "Allow"),
                      "OPTIONS,GET,POST");
    request_destroy (&request);

    request = request_new ("/v1/catalog/nodes");
    request_set_method (request, "OPTIONS");
    router_dispatch (router, NULL, request);
    ck_assert_uint_eq (request_reply_status (request), 200);
    ck_assert_str_eq (MHD_get_response_header (request_response (request), "Allow"),
                      "OPTIONS,GET,POST");
    request_destroy (&request);

    //  a malformed escape in the path is a 400, not a route lookup
    request = request_new ("/v1/catalog/service/%zz");
    request_set_method (request, "GET");
    router_dispatch (router, NULL, request);
    ck_assert_uint_eq (request_reply_status (request), 400);
    ck_assert_str_eq (request_reply_body (request, NULL), "Invalid URL path");
    request_destroy (&request);
    ck_assert_int_eq (s_calls, 1);
    router_destroy (&router);
}
END_TEST

static Suite *
s_suite (void)
{
    Suite *suite = suite_create ("http_router");
    struct { const char *name; const TTest *test; } cases [] = {
        { "exact and subtree", test_exact_and_subtree },
        { "longest pattern", test_longest_pattern_wins },
        { "method not allowed", test_method_not_allowed },
        { "dispatch replies", test_dispatch_replies },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        TCase *tc = tcase_create (cases [i].name);
        tcase_set_timeout (tc, 10);
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
