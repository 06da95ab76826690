/*  Unit tests of catalogd's FSM: the raft command codec (including
    malformed entries) and the application of entries to the store. */
#include <check.h>
#include "../../catalogd/fsm.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int calls;
    uint64_t index;
    unsigned tables;
} s_changes_t;

static void
s_on_change (void *arg, uint64_t index, unsigned tables)
{
    s_changes_t *changes = (s_changes_t *) arg;
    changes->calls++;
    changes->index = index;
    changes->tables = tables;
}

static char *
s_encode (catalog_op_t op, const char *body_text, size_t *size)
{
    cJSON *body = cJSON_Parse (body_text);
    ck_assert_ptr_nonnull (body);
    char *data = catalog_fsm_encode (op, body, size);
    cJSON_Delete (body);
    return data;
}

START_TEST (test_codec_roundtrip)
{
    size_t size = 0;
    char *data = s_encode (CATALOG_OP_DEREGISTER,
                           "{\"Node\":\"n1\",\"ServiceID\":\"web\"}", &size);
    ck_assert_uint_eq (size, strlen (data));
    ck_assert_ptr_nonnull (strstr (data, "\"V\":1"));
    ck_assert_ptr_nonnull (strstr (data, "\"Op\":\"deregister\""));
    catalog_op_t op = CATALOG_OP_REGISTER;
    cJSON *body = NULL;
    const char *reason = NULL;
    ck_assert_int_eq (catalog_fsm_decode (data, size, &op, &body, &reason), 0);
    ck_assert_int_eq (op, CATALOG_OP_DEREGISTER);
    ck_assert_str_eq (cJSON_GetObjectItem (body, "ServiceID")->valuestring, "web");
    cJSON_Delete (body);
    //  Zero padding after the JSON (raft stores 8-byte multiples) is fine.
    char padded[256];
    memset (padded, 0, sizeof padded);
    memcpy (padded, data, size);
    ck_assert_int_eq (catalog_fsm_decode (padded, (size + 8) & ~7u, &op, &body,
                                          &reason), 0);
    cJSON_Delete (body);
    free (data);
}
END_TEST

START_TEST (test_codec_malformed)
{
    const char *bad[] = {
        "",
        "{",
        "{\"V\":1,\"Op\":\"register\",\"Body\":{}",           //  truncated
        "[1,2]",
        "{\"V\":2,\"Op\":\"register\",\"Body\":{}}",          //  version
        "{\"Op\":\"register\",\"Body\":{}}",
        "{\"V\":\"1\",\"Op\":\"register\",\"Body\":{}}",
        "{\"V\":1,\"Op\":\"destroy\",\"Body\":{}}",           //  unknown op
        "{\"V\":1,\"Op\":7,\"Body\":{}}",
        "{\"V\":1,\"Op\":\"register\"}",                      //  no body
        "{\"V\":1,\"Op\":\"register\",\"Body\":[]}",
        "{\"V\":1,\"Op\":\"register\",\"Body\":{}} trailing",
        "{\"V\":1,\"Op\":\"register\",\"Body\":{}}{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        catalog_op_t op;
        cJSON *body = NULL;
        const char *reason = NULL;
        ck_assert_msg (catalog_fsm_decode (bad[i], strlen (bad[i]), &op, &body,
                                           &reason) == -1, "accepted: %s", bad[i]);
        ck_assert_ptr_null (body);
        ck_assert_ptr_nonnull (reason);
    }
    catalog_op_t op;
    cJSON *body = NULL;
    const char *reason = NULL;
    ck_assert_int_eq (catalog_fsm_decode (NULL, 0, &op, &body, &reason), -1);
    //  Random bytes.
    unsigned char noise[512];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char) (i * 151 + 7);
    ck_assert_int_eq (catalog_fsm_decode (noise, sizeof noise, &op, &body, &reason),
                      -1);
}
END_TEST

START_TEST (test_apply)
{
    catalog_store_t *store = catalog_store_new ();
    catalog_fsm_t *fsm = catalog_fsm_new (store);
    s_changes_t changes = { 0, 0, 0 };
    catalog_fsm_set_change_fn (fsm, s_on_change, &changes);
    ck_assert_ptr_eq (catalog_fsm_store (fsm), store);

    size_t size = 0;
    char *data = s_encode (CATALOG_OP_REGISTER,
                           "{\"Node\":\"n1\",\"Address\":\"a\","
                           "\"Service\":{\"Service\":\"web\"}}", &size);
    ck_assert_ptr_null (catalog_fsm_apply (fsm, data, size, 10));
    ck_assert_int_eq (changes.calls, 1);
    ck_assert_uint_eq (changes.index, 10);
    ck_assert_uint_eq (changes.tables, CATALOG_TABLE_NODES | CATALOG_TABLE_SERVICES);
    //  The same entry again: applied, no change, no callback.
    ck_assert_ptr_null (catalog_fsm_apply (fsm, data, size, 11));
    ck_assert_int_eq (changes.calls, 1);
    free (data);

    //  Rejected by the store's rules: a no-op with the reason.
    data = s_encode (CATALOG_OP_REGISTER,
                     "{\"Node\":\"n2\",\"Address\":\"a\","
                     "\"Check\":{\"Name\":\"c\",\"ServiceID\":\"nope\"}}", &size);
    const char *reason = catalog_fsm_apply (fsm, data, size, 12);
    ck_assert_ptr_nonnull (reason);
    ck_assert_ptr_nonnull (strstr (reason, "Missing service registration"));
    ck_assert_ptr_null (catalog_store_node (store, "n2"));
    ck_assert_uint_eq (catalog_fsm_rejected (fsm), 1);
    free (data);

    //  A body that fails validation (would never be proposed).
    data = s_encode (CATALOG_OP_REGISTER, "{\"Node\":\"n3\"}", &size);
    ck_assert_ptr_nonnull (catalog_fsm_apply (fsm, data, size, 13));
    free (data);

    data = s_encode (CATALOG_OP_DEREGISTER, "{\"Node\":\"n1\"}", &size);
    ck_assert_ptr_null (catalog_fsm_apply (fsm, data, size, 14));
    ck_assert_int_eq (changes.calls, 2);
    ck_assert_uint_eq (changes.index, 14);
    free (data);

    //  Malformed bytes never crash and change nothing.
    const char *junk = "\x01\x02garbage\xff";
    ck_assert_ptr_nonnull (catalog_fsm_apply (fsm, junk, strlen (junk), 15));
    ck_assert_ptr_nonnull (catalog_fsm_apply (fsm, NULL, 0, 16));
    ck_assert_uint_eq (catalog_fsm_malformed (fsm), 3);
    ck_assert_uint_eq (catalog_fsm_applied (fsm), 3);
    ck_assert_uint_eq (catalog_store_index (store, CATALOG_TABLES_ALL), 14);
    catalog_fsm_destroy (&fsm);
    ck_assert_ptr_null (fsm);
    catalog_store_destroy (&store);
}
END_TEST

START_TEST (test_snapshot_restore)
{
    catalog_store_t *store = catalog_store_new ();
    catalog_fsm_t *fsm = catalog_fsm_new (store);
    size_t size = 0;
    char *data = s_encode (CATALOG_OP_REGISTER,
                           "{\"Node\":\"n1\",\"Address\":\"a\","
                           "\"Service\":{\"Service\":\"web\"}}", &size);
    catalog_fsm_apply (fsm, data, size, 10);
    free (data);
    char *snapshot = catalog_fsm_snapshot (fsm, &size);

    catalog_store_t *other = catalog_store_new ();
    catalog_fsm_t *restored = catalog_fsm_new (other);
    s_changes_t changes = { 0, 0, 0 };
    catalog_fsm_set_change_fn (restored, s_on_change, &changes);
    char err[128];
    ck_assert_int_eq (catalog_fsm_restore (restored, snapshot, size, err, sizeof err), 0);
    //  A restore wakes every table.
    ck_assert_int_eq (changes.calls, 1);
    ck_assert_uint_eq (changes.tables, CATALOG_TABLES_ALL);
    ck_assert_uint_eq (changes.index, 10);
    ck_assert_ptr_nonnull (catalog_store_service (other, "n1", "web"));
    ck_assert_int_eq (catalog_fsm_restore (restored, "xx", 2, err, sizeof err), -1);
    ck_assert_int_eq (catalog_fsm_restore (restored, NULL, 0, err, sizeof err), -1);
    ck_assert_int_eq (changes.calls, 1);
    free (snapshot);
    catalog_fsm_destroy (&restored);
    catalog_fsm_destroy (&fsm);
    catalog_store_destroy (&other);
    catalog_store_destroy (&store);
}
END_TEST

int
main (void)
{
    log_init ("check_catalog_fsm", LOG_LEVEL_ERROR);
    Suite *suite = suite_create ("catalog_fsm");
    TCase *codec = tcase_create ("codec");
    tcase_set_timeout (codec, 10);
    tcase_add_test (codec, test_codec_roundtrip);
    tcase_add_test (codec, test_codec_malformed);
    suite_add_tcase (suite, codec);
    TCase *apply = tcase_create ("apply");
    tcase_set_timeout (apply, 10);
    tcase_add_test (apply, test_apply);
    tcase_add_test (apply, test_snapshot_restore);
    suite_add_tcase (suite, apply);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
