/*  Unit tests of catalogd's raft node: a one-voter libraft 0.15 cluster on
    loopback (127.0.1.58) in a temporary data dir. Committed entries reach
    the FSM at the right raft index, bad entries become no-ops without
    stalling raft, and a restart (log replay, then snapshot restore) brings
    back every acknowledged write with indexes continuing upward. */
#include <check.h>
#include "../../catalogd/raftnode.h"
#include "log.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uv_loop_t loop;
    char dir[64];
    config_t cfg;
    catalog_store_t *store;
    catalog_fsm_t *fsm;
    catalog_raft_t *raft;
} s_node_t;

typedef struct {
    int done;
    int status;
    uint64_t index;
    const char *error;
} s_result_t;

static void
s_applied (void *arg, int status, uint64_t index, const char *error)
{
    s_result_t *result = (s_result_t *) arg;
    result->done++;
    result->status = status;
    result->index = index;
    result->error = error;
}

static void
s_barrier_done (void *arg, int status)
{
    s_result_t *result = (s_result_t *) arg;
    result->done++;
    result->status = status;
}

static void
s_closed (void *arg)
{
    *(bool *) arg = true;
}

//  Runs the loop until *flag is at least want or timeout_ms passes.
static void
s_run_until (s_node_t *node, const int *flag, int want, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (*flag < want && zclock_mono () < deadline)
        uv_run (&node->loop, UV_RUN_ONCE);
    ck_assert_msg (*flag >= want, "loop condition reached in time");
}

static void
s_start (s_node_t *node)
{
    ck_assert_int_eq (uv_loop_init (&node->loop), 0);
    node->store = catalog_store_new ();
    node->fsm = catalog_fsm_new (node->store);
    node->raft = catalog_raft_new (&node->loop, &node->cfg, node->fsm);
    ck_assert_ptr_nonnull (node->raft);
    ck_assert_int_eq (catalog_raft_start (node->raft), 0);
    int64_t deadline = zclock_mono () + 5000;
    while (!catalog_raft_is_leader (node->raft) && zclock_mono () < deadline)
        uv_run (&node->loop, UV_RUN_ONCE);
    ck_assert (catalog_raft_is_leader (node->raft));
    //  A barrier: everything of earlier terms is applied after it.
    s_result_t barrier = { 0, -1, 0, NULL };
    ck_assert_int_eq (catalog_raft_barrier (node->raft, s_barrier_done, &barrier), 0);
    s_run_until (node, &barrier.done, 1, 5000);
    ck_assert_int_eq (barrier.status, 0);
}

static void
s_stop (s_node_t *node)
{
    bool closed = false;
    catalog_raft_close (node->raft, s_closed, &closed);
    int64_t deadline = zclock_mono () + 5000;
    while (!closed && zclock_mono () < deadline)
        uv_run (&node->loop, UV_RUN_ONCE);
    ck_assert (closed);
    uv_run (&node->loop, UV_RUN_DEFAULT);
    catalog_raft_destroy (&node->raft);
    ck_assert_int_eq (uv_loop_close (&node->loop), 0);
    catalog_fsm_destroy (&node->fsm);
    catalog_store_destroy (&node->store);
}

static void
s_setup (s_node_t *node)
{
    memset (node, 0, sizeof *node);
    snprintf (node->dir, sizeof node->dir, "/tmp/check-catalog-raft-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (node->dir));
    config_defaults (&node->cfg);
    snprintf (node->cfg.data_dir, sizeof node->cfg.data_dir, "%s", node->dir);
    snprintf (node->cfg.node_id, sizeof node->cfg.node_id,
              "8f3c2a10-1b2c-4d5e-8f90-0123456789ab");
    snprintf (node->cfg.bind_addr, sizeof node->cfg.bind_addr, "127.0.1.58");
    snprintf (node->cfg.advertise_addr, sizeof node->cfg.advertise_addr,
              "127.0.1.58");
    node->cfg.server = true;
    node->cfg.bootstrap_expect = 1;
    node->cfg.dev = true;
}

static void
s_teardown (s_node_t *node)
{
    zdir_t *dir = zdir_new (node->dir, NULL);
    if (dir)
        zdir_remove (dir, true);
    zdir_destroy (&dir);
}

//  Proposes a register body and waits for its result.
static s_result_t
s_propose (s_node_t *node, const char *text)
{
    s_result_t result = { 0, -1, 0, NULL };
    ck_assert_int_eq (catalog_raft_apply (node->raft, text, strlen (text),
                                          s_applied, &result), 0);
    s_run_until (node, &result.done, 1, 5000);
    return result;
}

static char *
s_register_entry (const char *node_name, int pad)
{
    char body[512];
    //  Bodies of varied lengths: entries not multiple of 8 bytes.
    snprintf (body, sizeof body,
              "{\"Node\":\"%s\",\"Address\":\"10.0.0.1\",\"NodeMeta\":"
              "{\"pad\":\"%.*s\"}}", node_name, pad, "xxxxxxxxxxxxxxxx");
    cJSON *json = cJSON_Parse (body);
    size_t size;
    char *entry = catalog_fsm_encode (CATALOG_OP_REGISTER, json, &size);
    cJSON_Delete (json);
    return entry;
}

START_TEST (test_apply_and_restart)
{
    s_node_t node;
    s_setup (&node);
    s_start (&node);
    char leader[64];
    catalog_raft_leader (node.raft, leader, sizeof leader);
    ck_assert_str_eq (leader, "127.0.1.58:8300");
    cJSON *peers = catalog_raft_peers (node.raft);
    ck_assert_int_eq (cJSON_GetArraySize (peers), 1);
    ck_assert_str_eq (cJSON_GetArrayItem (peers, 0)->valuestring, "127.0.1.58:8300");
    cJSON_Delete (peers);
    ck_assert (catalog_raft_leader_known (node.raft));
    ck_assert_str_eq (catalog_raft_state_name (node.raft), "leader");

    uint64_t last = 0;
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf (name, sizeof name, "node-%d", i);
        char *entry = s_register_entry (name, i * 3);
        s_result_t result = s_propose (&node, entry);
        free (entry);
        ck_assert_int_eq (result.status, 0);
        ck_assert_ptr_null (result.error);
        ck_assert_uint_gt (result.index, last);
        last = result.index;
        //  The index the proposer sees is the index the FSM applied at.
        ck_assert_uint_eq (catalog_store_node (node.store, name)->modify_index,
                           result.index);
    }
    //  Garbage and rule-breaking entries are no-ops with a reason; raft
    //  keeps applying after them.
    s_result_t bad = s_propose (&node, "\x01garbage");
    ck_assert_int_eq (bad.status, 0);
    ck_assert_ptr_nonnull (bad.error);
    char *entry = s_register_entry ("node-9", 1);
    s_result_t good = s_propose (&node, entry);
    free (entry);
    ck_assert_ptr_null (good.error);
    ck_assert_uint_gt (good.index, bad.index);
    last = good.index;
    ck_assert_uint_eq (catalog_raft_last_applied (node.raft), last);
    s_stop (&node);

    //  Restart: the log is replayed.
    s_start (&node);
    ck_assert_uint_eq (catalog_store_node_count (node.store), 6);
    ck_assert_uint_eq (catalog_store_node (node.store, "node-9")->modify_index, last);
    ck_assert_uint_eq (catalog_store_index (node.store, CATALOG_TABLE_NODES), last);
    entry = s_register_entry ("node-10", 2);
    good = s_propose (&node, entry);
    free (entry);
    ck_assert_uint_gt (good.index, last);
    s_stop (&node);
    s_teardown (&node);
}
END_TEST

START_TEST (test_snapshot_restart)
{
    s_node_t node;
    s_setup (&node);
    s_start (&node);
    //  Past the snapshot threshold, pipelined.
    enum { N = CATALOG_RAFT_SNAPSHOT_THRESHOLD + 300 };
    s_result_t *results = (s_result_t *) calloc (N, sizeof *results);
    int done = 0;
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf (name, sizeof name, "node-%d", i % 50);
        char *entry = s_register_entry (name, i % 16);
        ck_assert_int_eq (catalog_raft_apply (node.raft, entry, strlen (entry),
                                              s_applied, &results[i]), 0);
        free (entry);
    }
    int64_t deadline = zclock_mono () + 20000;
    while (done < N && zclock_mono () < deadline) {
        uv_run (&node.loop, UV_RUN_ONCE);
        done = 0;
        for (int i = 0; i < N; i++)
            done += results[i].done;
    }
    ck_assert_int_eq (done, N);
    uint64_t last = results[N - 1].index;
    size_t size;
    char *before = catalog_store_snapshot (node.store, &size);
    //  libraft writes the snapshot in the background: wait for its file.
    bool snapshot = false;
    deadline = zclock_mono () + 10000;
    while (!snapshot && zclock_mono () < deadline) {
        uv_run (&node.loop, UV_RUN_NOWAIT);
        zdir_t *dir = zdir_new (node.dir, NULL);
        zfile_t **files = zdir_flatten (dir);
        for (int i = 0; files[i]; i++)
            if (strstr (zfile_filename (files[i], NULL), "/snapshot-")
                && strstr (zfile_filename (files[i], NULL), ".meta"))
                snapshot = true;
        zdir_flatten_free (&files);
        zdir_destroy (&dir);
        zclock_sleep (5);
    }
    ck_assert (snapshot);
    s_stop (&node);

    s_start (&node);
    char *after = catalog_store_snapshot (node.store, &size);
    ck_assert_str_eq (after, before);
    ck_assert_uint_eq (catalog_store_index (node.store, CATALOG_TABLES_ALL), last);
    free (before);
    free (after);
    free (results);
    s_stop (&node);
    s_teardown (&node);
}
END_TEST

START_TEST (test_ids_and_errors)
{
    uint64_t id = catalog_raft_id_from_uuid ("8f3c2a10-1b2c-4d5e-8f90-0123456789ab");
    ck_assert_uint_eq (id, 0x8f3c2a101b2c4d5eULL);
    ck_assert_uint_eq (catalog_raft_id_from_uuid ("srv1"),
                       catalog_raft_id_from_uuid ("srv1"));
    ck_assert_uint_ne (catalog_raft_id_from_uuid ("srv1"), 0);
    ck_assert_uint_ne (catalog_raft_id_from_uuid ("00000000-0000-0000-0000-000000000000"), 0);
    ck_assert_str_eq (catalog_raft_error_text (7), "No cluster leader");
}
END_TEST

int
main (void)
{
    log_init ("check_catalog_raftnode", LOG_LEVEL_ERROR);
    Suite *suite = suite_create ("catalog_raftnode");
    TCase *raft = tcase_create ("raft");
    tcase_set_timeout (raft, 60);
    tcase_add_test (raft, test_apply_and_restart);
    tcase_add_test (raft, test_snapshot_restart);
    tcase_add_test (raft, test_ids_and_errors);
    suite_add_tcase (suite, raft);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
