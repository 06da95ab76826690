/*  Unit tests of the local RPC envelope codec (docs/protocol/local-rpc.md). */
#include <check.h>
#include "envelope.h"

static envelope_t *
s_decode5 (const char *f0, const char *f1, const char *f2, const char *f3,
           const char *f4, size_t f4_len, const char **reason)
{
    const void *frames[5] = { f0, f1, f2, f3, f4 };
    size_t sizes[5] = { strlen (f0), strlen (f1), strlen (f2), strlen (f3), f4_len };
    return envelope_decode_frames (frames, sizes, 5, reason);
}

START_TEST (test_roundtrip)
{
    cJSON *body = cJSON_Parse ("{\"Node\":\"n1\",\"List\":[1,2]}");
    envelope_t *env = envelope_new (ENVELOPE_REQ, "catalog.register", 42, &body);
    ck_assert_ptr_nonnull (env);
    ck_assert_ptr_null (body);
    zmsg_t *msg = envelope_encode (env);
    ck_assert_int_eq (zmsg_size (msg), 5);
    const char *reason = NULL;
    envelope_t *back = envelope_decode (msg, &reason);
    ck_assert_ptr_nonnull (back);
    ck_assert_int_eq (back->type, ENVELOPE_REQ);
    ck_assert_str_eq (back->command, "catalog.register");
    ck_assert_uint_eq (back->id, 42);
    ck_assert_str_eq (cJSON_GetObjectItem (back->body, "Node")->valuestring, "n1");
    zmsg_destroy (&msg);
    envelope_destroy (&env);
    envelope_destroy (&back);
    ck_assert_ptr_null (back);
    envelope_destroy (&back);   //  idempotent
}
END_TEST

START_TEST (test_all_types_and_max_id)
{
    const char *types[] = { "REQ", "REP", "ERR", "EVT" };
    for (int i = 0; i < 4; i++) {
        const char *reason = NULL;
        envelope_t *env = s_decode5 ("MRD1", types[i], "a.b-c_9", "18446744073709551615",
                                     "{}", 2, &reason);
        ck_assert_ptr_nonnull (env);
        ck_assert_uint_eq (env->id, UINT64_MAX);
        ck_assert_str_eq (envelope_type_name (env->type), types[i]);
        envelope_destroy (&env);
    }
}
END_TEST

START_TEST (test_malformed)
{
    const char *reason = NULL;
    //  wrong tag / version
    ck_assert_ptr_null (s_decode5 ("MRD2", "REQ", "x", "1", "{}", 2, &reason));
    ck_assert_str_eq (reason, "wrong protocol tag");
    ck_assert_ptr_null (s_decode5 ("MRD", "REQ", "x", "1", "{}", 2, &reason));
    //  unknown type
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQQ", "x", "1", "{}", 2, &reason));
    ck_assert_str_eq (reason, "unknown message type");
    ck_assert_ptr_null (s_decode5 ("MRD1", "req", "x", "1", "{}", 2, &reason));
    //  bad command: empty, upper case, space, too long
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", "", "1", "{}", 2, &reason));
    ck_assert_str_eq (reason, "invalid command");
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", "Catalog", "1", "{}", 2, &reason));
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", "a b", "1", "{}", 2, &reason));
    char longcmd[80];
    memset (longcmd, 'a', 65);
    longcmd[65] = 0;
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", longcmd, "1", "{}", 2, &reason));
    //  bad ids: empty, sign, leading zero, letters, overflow
    const char *ids[] = { "", "-1", "+1", "01", "1a", "18446744073709551616", "123456789012345678901" };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", "x", ids[i], "{}", 2, &reason));
        ck_assert_str_eq (reason, "invalid request id");
    }
    //  bodies: empty, not JSON, truncated, trailing garbage
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", "x", "1", "", 0, &reason));
    ck_assert_str_eq (reason, "empty body");
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", "x", "1", "{\"a\":", 5, &reason));
    ck_assert_str_eq (reason, "body is not valid JSON");
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", "x", "1", "nope", 4, &reason));
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", "x", "1", "{} {}", 5, &reason));
    ck_assert_str_eq (reason, "trailing bytes after JSON body");
    //  whitespace after the body is fine; an embedded NUL is not
    envelope_t *ok = s_decode5 ("MRD1", "REQ", "x", "1", "{} \n", 4, &reason);
    ck_assert_ptr_nonnull (ok);
    envelope_destroy (&ok);
    ck_assert_ptr_null (s_decode5 ("MRD1", "REQ", "x", "1", "{}\0x", 4, &reason));
}
END_TEST

START_TEST (test_frame_count_and_oversize)
{
    const char *reason = NULL;
    const void *frames[6] = { "MRD1", "REQ", "x", "1", "{}", "{}" };
    size_t sizes[6] = { 4, 3, 1, 1, 2, 2 };
    ck_assert_ptr_null (envelope_decode_frames (frames, sizes, 4, &reason));
    ck_assert_str_eq (reason, "wrong frame count");
    ck_assert_ptr_null (envelope_decode_frames (frames, sizes, 6, &reason));
    sizes[4] = (size_t) ENVELOPE_BODY_MAX + 1;
    ck_assert_ptr_null (envelope_decode_frames (frames, sizes, 5, &reason));
    ck_assert_str_eq (reason, "body too large");
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "MRD1");
    ck_assert_ptr_null (envelope_decode (msg, &reason));
    zmsg_destroy (&msg);
}
END_TEST

START_TEST (test_new_rejects_bad_command_and_error_body)
{
    cJSON *body = NULL;
    ck_assert_ptr_null (envelope_new (ENVELOPE_REQ, "Bad Command", 1, &body));
    envelope_t *env = envelope_new (ENVELOPE_EVT, "hello", 1, NULL);
    ck_assert (cJSON_IsObject (env->body));
    envelope_destroy (&env);
    cJSON *err = envelope_error_body (500, "No path to %s", "datacenter");
    ck_assert_int_eq (cJSON_GetObjectItem (err, "Code")->valueint, 500);
    ck_assert_str_eq (cJSON_GetObjectItem (err, "Error")->valuestring, "No path to datacenter");
    cJSON_Delete (err);
}
END_TEST

//  A relay keeps the body as checked text and sends it on byte for byte.
START_TEST (test_raw_body)
{
    const char *text = " {\"Index\":7,\"Result\":[1.50,\"\\u00e9\"]} ";
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "MRD1");
    zmsg_addstr (msg, "REP");
    zmsg_addstr (msg, "catalog.nodes");
    zmsg_addstr (msg, "9");
    zmsg_addstr (msg, text);
    const char *reason = NULL;
    envelope_t *env = envelope_decode_raw (msg, &reason);
    zmsg_destroy (&msg);
    ck_assert_ptr_nonnull (env);
    ck_assert_ptr_null (env->body);
    ck_assert_uint_eq (env->raw_len, strlen (text));
    ck_assert (memcmp (env->raw, text, env->raw_len) == 0);
    //  Re-encoded (as a reply to another peer): the same bytes.
    char *raw = env->raw;
    env->raw = NULL;
    envelope_t *relay = envelope_new_raw (ENVELOPE_REP, env->command, 10, &raw,
                                          env->raw_len);
    ck_assert_ptr_null (raw);
    msg = envelope_encode (relay);
    zframe_t *body = zmsg_last (msg);
    ck_assert_uint_eq (zframe_size (body), strlen (text));
    ck_assert (memcmp (zframe_data (body), text, strlen (text)) == 0);
    //  ... which the parsing decoder reads as usual.
    envelope_t *back = envelope_decode (msg, &reason);
    ck_assert_ptr_nonnull (back);
    ck_assert_int_eq (cJSON_GetObjectItem (back->body, "Index")->valueint, 7);
    zmsg_destroy (&msg);
    envelope_destroy (&back);
    envelope_destroy (&relay);
    envelope_destroy (&env);
    //  A body that is not exactly one JSON value is refused, as by the
    //  parsing decoder.
    const char *bad[] = { "{\"a\":1", "{} {}", "{\"a\":01}", "[1,]", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg = zmsg_new ();
        zmsg_addstr (msg, "MRD1");
        zmsg_addstr (msg, "REP");
        zmsg_addstr (msg, "x");
        zmsg_addstr (msg, "1");
        zmsg_addstr (msg, bad[i]);
        reason = NULL;
        ck_assert_ptr_null (envelope_decode_raw (msg, &reason));
        ck_assert_ptr_nonnull (reason);
        zmsg_destroy (&msg);
    }
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("envelope");
    TCase *tc = tcase_create ("codec");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_roundtrip);
    tcase_add_test (tc, test_all_types_and_max_id);
    tcase_add_test (tc, test_new_rejects_bad_command_and_error_body);
    tcase_add_test (tc, test_raw_body);
    suite_add_tcase (suite, tc);
    TCase *bad = tcase_create ("malformed");
    tcase_set_timeout (bad, 10);
    tcase_add_test (bad, test_malformed);
    tcase_add_test (bad, test_frame_count_and_oversize);
    suite_add_tcase (suite, bad);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
