/*  Unit tests of httpd's request handling: URI and query parsing with Go's
    rules, Consul's read options (?wait, ?index, ?dc, ?stale/?consistent,
    ?tag, ?node-meta, ?pretty), Go durations through timeutil, the body
    limit, JSON decode errors, Go-compatible JSON rendering, key
    canonicalization and the response cache. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../httpd/json_render.h"
#include "../../httpd/request.h"
#include "../../httpd/response_cache.h"

static struct MHD_Response *
s_response (const char *body, size_t len)
{
    return MHD_create_response_from_buffer (len, (void *) body, MHD_RESPMEM_MUST_COPY);
}

static http_request_t *
s_get (const char *uri)
{
    http_request_t *request = request_new (uri);
    ck_assert_ptr_nonnull (request);
    request_set_method (request, "GET");
    return request;
}

START_TEST (test_uri_and_query)
{
    http_request_t *request = s_get ("/v1/catalog/service/a%2Fb?tag=x&tag=y+z&"
                                     "bare&empty=&bad=%zz&q%3D=1&semi=a;b");
    ck_assert_str_eq (request_path (request), "/v1/catalog/service/a/b");
    ck_assert_ptr_null (request_uri_error (request));
    ck_assert_uint_eq (request_query_count (request, "tag"), 2);
    ck_assert_str_eq (request_query_at (request, "tag", 0), "x");
    ck_assert_str_eq (request_query_at (request, "tag", 1), "y z");
    ck_assert_ptr_null (request_query_at (request, "tag", 2));
    ck_assert (request_query_has (request, "bare"));
    ck_assert_str_eq (request_query (request, "bare"), "");
    ck_assert_str_eq (request_query (request, "empty"), "");
    //  Go drops pairs with a bad escape or a ';'
    ck_assert (!request_query_has (request, "bad"));
    ck_assert (!request_query_has (request, "semi"));
    ck_assert_str_eq (request_query (request, "q="), "1");
    ck_assert (!request_query_has (request, "missing"));
    request_destroy (&request);
    ck_assert_ptr_null (request);
    request_destroy (&request);

    request = s_get ("/bad%2");
    ck_assert_ptr_null (request_path (request));
    ck_assert_str_eq (request_uri_error (request), "Invalid URL path");
    request_destroy (&request);
    request = s_get ("/nul%00");
    ck_assert_ptr_null (request_path (request));
    request_destroy (&request);
    request = s_get ("http://host:8500/v1/status/leader?pretty");
    ck_assert_str_eq (request_path (request), "/v1/status/leader");
    ck_assert (request_pretty (request));
    request_destroy (&request);
    request = s_get ("");
    ck_assert_ptr_null (request_path (request));
    request_destroy (&request);
}
END_TEST

START_TEST (test_read_options)
{
    query_opts_t opts;
    http_request_t *request = s_get ("/x?stale&index=42&wait=1m30s&dc=dc2");
    ck_assert_int_eq (request_query_opts (request, &opts), 0);
    ck_assert (opts.stale);
    ck_assert (!opts.consistent);
    ck_assert_uint_eq (opts.min_index, 42);
    ck_assert_int_eq (opts.wait_ms, 90000);
    ck_assert_str_eq (opts.dc, "dc2");
    ck_assert (!request_has_reply (request));
    cJSON *body = cJSON_CreateObject ();
    query_opts_to_body (&opts, body);
    ck_assert_int_eq (cJSON_GetObjectItem (body, "MinQueryIndex")->valueint, 42);
    ck_assert_int_eq (cJSON_GetObjectItem (body, "MaxQueryTime")->valueint, 90000);
    ck_assert (cJSON_IsTrue (cJSON_GetObjectItem (body, "AllowStale")));
    ck_assert (cJSON_IsFalse (cJSON_GetObjectItem (body, "RequireConsistent")));
    cJSON_Delete (body);
    request_destroy (&request);

    //  empty values are ignored, like Consul's query.Get(...) != ""
    request = s_get ("/x?index=&wait=&dc=");
    ck_assert_int_eq (request_query_opts (request, &opts), 0);
    ck_assert_uint_eq (opts.min_index, 0);
    ck_assert_int_eq (opts.wait_ms, 0);
    ck_assert_ptr_null (opts.dc);
    request_destroy (&request);

    struct { const char *uri; const char *text; } bad [] = {
        { "/x?stale&consistent",
          "Cannot specify ?stale with ?consistent, conflicting semantics." },
        { "/x?wait=forever", "Invalid wait time" },
        { "/x?wait=10", "Invalid wait time" },
        { "/x?index=abc", "Invalid index" },
        { "/x?index=-1", "Invalid index" },
        { "/x?index=18446744073709551616", "Invalid index" },
        //  consistency is checked before wait, wait before index
        { "/x?stale&consistent&wait=bad", "Cannot specify ?stale with "
          "?consistent, conflicting semantics." },
        { "/x?wait=bad&index=bad", "Invalid wait time" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        request = s_get (bad [i].uri);
        ck_assert_int_eq (request_query_opts (request, &opts), -1);
        ck_assert_uint_eq (request_reply_status (request), 400);
        ck_assert_str_eq (request_reply_body (request, NULL), bad [i].text);
        request_destroy (&request);
    }
    request = s_get ("/x?index=18446744073709551615");
    ck_assert_int_eq (request_query_opts (request, &opts), 0);
    ck_assert_uint_eq (opts.min_index, UINT64_MAX);
    request_destroy (&request);
}
END_TEST

START_TEST (test_go_durations)
{
    int64_t ms = -1;
    ck_assert_int_eq (request_parse_wait ("5m", &ms), 0);
    ck_assert_int_eq (ms, 300000);
    ck_assert_int_eq (request_parse_wait ("1.5s", &ms), 0);
    ck_assert_int_eq (ms, 1500);
    ck_assert_int_eq (request_parse_wait ("1h2m3s", &ms), 0);
    ck_assert_int_eq (ms, 3723000);
    ck_assert_int_eq (request_parse_wait ("250ms", &ms), 0);
    ck_assert_int_eq (ms, 250);
    ck_assert_int_eq (request_parse_wait ("0", &ms), 0);
    ck_assert_int_eq (ms, 0);
    ck_assert_int_eq (request_parse_wait ("+2s", &ms), 0);
    ck_assert_int_eq (ms, 2000);
    //  Go accepts a negative wait; Consul then uses the default
    ck_assert_int_eq (request_parse_wait ("-5s", &ms), 0);
    ck_assert_int_eq (ms, 0);
    ck_assert_int_eq (request_parse_wait ("", &ms), -1);
    ck_assert_int_eq (request_parse_wait ("5", &ms), -1);
    ck_assert_int_eq (request_parse_wait ("5x", &ms), -1);
    ck_assert_int_eq (request_parse_wait ("s", &ms), -1);
    ck_assert_int_eq (request_parse_wait ("--5s", &ms), -1);
}
END_TEST

START_TEST (test_tags_meta_flags)
{
    http_request_t *request = s_get ("/x?node-meta=rack:r1&node-meta=os&"
                                     "node-meta=a:b:c&node-meta=rack:r2&tag=v1");
    cJSON *meta = request_node_meta (request);
    char *text = cJSON_PrintUnformatted (meta);
    ck_assert_str_eq (text, "{\"a\":\"b:c\",\"os\":\"\",\"rack\":\"r2\"}");
    free (text);
    cJSON_Delete (meta);
    cJSON *tags = request_tags (request);
    ck_assert_int_eq (cJSON_GetArraySize (tags), 1);
    cJSON_Delete (tags);
    ck_assert (!request_pretty (request));
    request_destroy (&request);
    request = s_get ("/x?pretty=false");
    ck_assert (request_pretty (request));
    request_destroy (&request);

    request = s_get ("/x");
    ck_assert_ptr_null (request_node_meta (request));
    ck_assert_ptr_null (request_tags (request));
    request_destroy (&request);

    bool value = false;
    ck_assert_int_eq (request_parse_bool ("true", &value), 0);
    ck_assert (value);
    ck_assert_int_eq (request_parse_bool ("F", &value), 0);
    ck_assert (!value);
    ck_assert_int_eq (request_parse_bool ("yes", &value), -1);
    uint64_t number;
    ck_assert_int_eq (request_parse_uint64 ("007", &number), 0);
    ck_assert_uint_eq (number, 7);
    ck_assert_int_eq (request_parse_uint64 ("+7", &number), -1);
}
END_TEST

START_TEST (test_body_limit)
{
    http_request_t *request = s_get ("/x");
    static char chunk [64 * 1024];
    memset (chunk, ' ', sizeof chunk);
    size_t sent = 0;
    while (sent + sizeof chunk <= REQUEST_BODY_MAX) {
        ck_assert_int_eq (request_body_append (request, chunk, sizeof chunk), 0);
        sent += sizeof chunk;
    }
    ck_assert_uint_eq (sent, REQUEST_BODY_MAX);
    ck_assert (!request_body_too_large (request));
    ck_assert_int_eq (request_body_append (request, "x", 1), -1);
    ck_assert (request_body_too_large (request));
    //  once over, nothing more is kept
    ck_assert_int_eq (request_body_append (request, "", 0), -1);
    size_t len;
    request_body (request, &len);
    ck_assert_uint_eq (len, REQUEST_BODY_MAX);
    request_destroy (&request);
}
END_TEST

static void
s_decode_fails (const char *text, const char *reason)
{
    http_request_t *request = s_get ("/x");
    request_body_append (request, text, strlen (text));
    ck_assert_ptr_null (request_body_json (request));
    ck_assert_uint_eq (request_reply_status (request), 400);
    char expected [256];
    snprintf (expected, sizeof expected, "Request decode failed: %s", reason);
    ck_assert_str_eq (request_reply_body (request, NULL), expected);
    request_destroy (&request);
}

START_TEST (test_json_decode)
{
    s_decode_fails ("", "EOF");
    s_decode_fails ("  \n", "EOF");
    s_decode_fails ("{\"a\":", "unexpected EOF");
    s_decode_fails ("nope", "invalid character 'o' in literal null (expecting 'u')");
    s_decode_fails ("?", "invalid character '?' looking for beginning of value");
    s_decode_fails ("{not json",
                    "invalid character 'n' looking for beginning of object key string");
    s_decode_fails ("[1,]", "invalid character ']' looking for beginning of value");
    s_decode_fails ("{\"a\" 1}", "invalid character '1' after object key");
    s_decode_fails ("{\"a\":1 \"b\"}",
                    "invalid character '\"' after object key:value pair");
    s_decode_fails ("[1 2]", "invalid character '2' after array element");
    s_decode_fails ("01", "invalid character '1' after top-level value");
    s_decode_fails ("-x", "invalid character 'x' in numeric literal");
    s_decode_fails ("1.e", "invalid character 'e' after decimal point in numeric literal");
    s_decode_fails ("1ex", "invalid character 'x' in exponent of numeric literal");
    s_decode_fails ("[1.", "unexpected EOF");
    s_decode_fails ("\"\\q\"", "invalid character 'q' in string escape code");
    s_decode_fails ("\"\\u12g4\"",
                    "invalid character 'g' in \\u hexadecimal character escape");
    static char deep [3000];
    memset (deep, '[', 2000);
    s_decode_fails (deep, "exceeded max depth");
    s_decode_fails ("{\"a\":1} x", "invalid character 'x' after top-level value");
    s_decode_fails ("{\"a\":\"x\ny\"}", "invalid character '\\n' in string literal");
    http_request_t *request = s_get ("/x");
    const char *text = " {\"Node\":\"n1\",\"Port\":80,\"x\":[[],{},-1.5e+3,"
                       "true,false,null,\"\\u00e9\\n\"]} ";
    request_body_append (request, text, strlen (text));
    cJSON *body = request_body_json (request);
    ck_assert_ptr_nonnull (body);
    ck_assert_str_eq (cJSON_GetObjectItem (body, "Node")->valuestring, "n1");
    ck_assert (!request_has_reply (request));
    cJSON_Delete (body);
    request_destroy (&request);
}
END_TEST

static void
s_renders (const char *json, bool pretty, const char *expected)
{
    cJSON *value = cJSON_Parse (json);
    ck_assert_ptr_nonnull (value);
    size_t len = 0;
    char *text = json_render (value, pretty, &len);
    ck_assert_str_eq (text, expected);
    ck_assert_uint_eq (len, strlen (expected));
    free (text);
    cJSON_Delete (value);
}

START_TEST (test_json_render)
{
    s_renders ("[]", false, "[]");
    s_renders ("{}", true, "{}\n");
    s_renders ("{\"a\":[1,2],\"b\":{},\"c\":[],\"d\":null,\"e\":true}", false,
               "{\"a\":[1,2],\"b\":{},\"c\":[],\"d\":null,\"e\":true}");
    s_renders ("{\"a\":[1,2],\"b\":{\"c\":\"d\"},\"e\":[]}", true,
               "{\n    \"a\": [\n        1,\n        2\n    ],\n    \"b\": {\n"
               "        \"c\": \"d\"\n    },\n    \"e\": []\n}\n");
    //  Go escapes HTML characters, control characters and U+2028
    s_renders ("\"<a&b>\\\"\\\\\\n\\t\\u0001\\u2028\"", false,
               "\"\\u003ca\\u0026b\\u003e\\\"\\\\\\n\\t\\u0001\\u2028\"");
    s_renders ("\"caf\xc3\xa9\"", false, "\"caf\xc3\xa9\"");
    //  numbers: integers plain, others shortest, exponents as Go prints them
    s_renders ("[0,-3,42,1e20,1e21,0.5,-2.25,1e-7,123456.789,0.000001]", false,
               "[0,-3,42,100000000000000000000,1e+21,0.5,-2.25,1e-7,123456.789,"
               "0.000001]");
    //  invalid UTF-8 becomes U+FFFD
    cJSON *bad = cJSON_CreateString ("a\xff" "b");
    char *text = json_render (bad, false, NULL);
    ck_assert_str_eq (text, "\"a\\ufffdb\"");
    free (text);
    cJSON_Delete (bad);
    text = json_render (NULL, false, NULL);
    ck_assert_str_eq (text, "null");
    free (text);

    cJSON *object = cJSON_Parse ("{\"b\":1,\"a\":2,\"c\":3,\"a\":4}");
    json_sort_object (object);
    text = json_render (object, false, NULL);
    ck_assert_str_eq (text, "{\"a\":2,\"a\":4,\"b\":1,\"c\":3}");
    free (text);
    cJSON_Delete (object);
}
END_TEST

START_TEST (test_canonical_keys)
{
    ck_assert (request_key_matches ("enable_tag_override", "EnableTagOverride"));
    ck_assert (request_key_matches ("NODE", "Node"));
    ck_assert (!request_key_matches ("Nodes", "Node"));
    cJSON *body = cJSON_Parse ("{\"node\":\"a\",\"NODE\":\"b\",\"address\":\"x\","
                               "\"Other\":1}");
    static const char *const names [] = { "Node", "Address", NULL };
    request_canonical_keys (body, names);
    char *text = cJSON_PrintUnformatted (body);
    ck_assert_str_eq (text, "{\"Node\":\"b\",\"Address\":\"x\",\"Other\":1}");
    free (text);
    cJSON_Delete (body);
    request_canonical_keys (NULL, names);
}
END_TEST

START_TEST (test_replies)
{
    http_request_t *request = s_get ("/x?pretty");
    cJSON *value = cJSON_Parse ("{\"a\":1}");
    request_reply_json (request, 200, value);
    cJSON_Delete (value);
    ck_assert_str_eq (request_reply_body (request, NULL), "{\n    \"a\": 1\n}\n");
    ck_assert_str_eq (MHD_get_response_header (request_response (request),
                                               "Content-Type"), "application/json");
    request_reply_text (request, 503, "down %d", 1);
    ck_assert_uint_eq (request_reply_status (request), 503);
    ck_assert_str_eq (request_reply_body (request, NULL), "down 1");
    ck_assert_str_eq (MHD_get_response_header (request_response (request),
                      "Content-Type"), "text/plain; charset=utf-8");
    request_reply_empty (request, 200);
    ck_assert_ptr_null (MHD_get_response_header (request_response (request),
                                                 "Content-Type"));
    request_response_release (request);
    ck_assert (!request_has_reply (request));
    ck_assert_uint_eq (request_reply_status (request), 0);
    //  suspension without a connection is a no-op
    request_suspend (request);
    ck_assert (!request_suspended (request));
    request_destroy (&request);
}
END_TEST

static int s_cancelled;

static void
s_cancel (void *op)
{
    s_cancelled += *(int *) op;
}

START_TEST (test_pending_op_cancelled)
{
    http_request_t *request = s_get ("/x");
    int weight = 5;
    request_set_op (request, &weight, s_cancel);
    request_clear_op (request);
    request_set_op (request, &weight, s_cancel);
    s_cancelled = 0;
    request_destroy (&request);
    ck_assert_int_eq (s_cancelled, 5);
}
END_TEST

START_TEST (test_response_cache)
{
    response_cache_t *cache = response_cache_new (2, 1000);
    uint64_t stamp [CACHE_STAMP_WORDS] = { 1, 2, 3, 4 };
    struct MHD_Response *r1 = s_response ("one", 3);
    cache_entry_t *e1 = response_cache_insert (cache, "k1", r1, "one", 3, 7, stamp);
    ck_assert_ptr_nonnull (e1);
    ck_assert_uint_eq (cache_entry_index (e1), 7);
    ck_assert_mem_eq (cache_entry_stamp (e1), stamp, sizeof stamp);
    ck_assert_ptr_eq (response_cache_lookup (cache, "k1"), e1);
    ck_assert_ptr_null (response_cache_lookup (cache, "nope"));
    //  a held entry outlives its eviction
    cache_entry_ref (e1);
    struct MHD_Response *r2 = s_response ("two", 3);
    cache_entry_t *e2 = response_cache_insert (cache, "k2", r2, "two", 3, 8, stamp);
    ck_assert_ptr_nonnull (response_cache_lookup (cache, "k2"));
    struct MHD_Response *r3 = s_response ("three", 5);
    response_cache_insert (cache, "k3", r3, "three", 5, 9, stamp);
    ck_assert_uint_eq (response_cache_size (cache), 2);
    ck_assert_ptr_null (response_cache_lookup (cache, "k1"));    //  the LRU went
    size_t len;
    ck_assert_str_eq (cache_entry_body (e1, &len), "one");
    ck_assert_ptr_eq (cache_entry_response (e1), r1);
    cache_entry_unref (e1);
    //  replacing a key drops the old entry; oversized bodies are refused
    struct MHD_Response *r4 = s_response ("four", 4);
    ck_assert_ptr_nonnull (response_cache_insert (cache, "k2", r4, "four", 4, 10, stamp));
    ck_assert_ptr_ne (response_cache_lookup (cache, "k2"), e2);
    static char big [2000];
    struct MHD_Response *r5 = s_response (big, sizeof big);
    ck_assert_ptr_null (response_cache_insert (cache, "k5", r5, big, sizeof big, 1, stamp));
    //  a detached entry lives by its references only
    cache_entry_t *alone = cache_entry_new (s_response ("five", 4), "five", 4, 11);
    ck_assert_ptr_nonnull (alone);
    cache_entry_ref (alone);
    cache_entry_unref (alone);
    ck_assert_uint_eq (cache_entry_index (alone), 11);
    cache_entry_unref (alone);
    response_cache_clear (cache);
    ck_assert_uint_eq (response_cache_size (cache), 0);
    response_cache_destroy (&cache);
    ck_assert_ptr_null (cache);
}
END_TEST

static Suite *
s_suite (void)
{
    Suite *suite = suite_create ("http_request");
    struct { const char *name; const TTest *test; } cases [] = {
        { "uri and query", test_uri_and_query },
        { "read options", test_read_options },
        { "go durations", test_go_durations },
        { "tags meta flags", test_tags_meta_flags },
        { "body limit", test_body_limit },
        { "json decode", test_json_decode },
        { "json render", test_json_render },
        { "canonical keys", test_canonical_keys },
        { "replies", test_replies },
        { "pending op", test_pending_op_cancelled },
        { "response cache", test_response_cache },
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
