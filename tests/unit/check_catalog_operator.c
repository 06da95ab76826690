/*  Unit tests of catalogd/operator on a one-voter libraft node (loopback
    127.0.1.57, temporary data dir): raft.status before and after start,
    the configuration in Consul's shape with node names from the pool,
    finding the peer a remove_peer names (Consul's errors), the peers file
    parser, and -recover-peers rewriting a stopped node's configuration. */
#include <check.h>
#include <ftw.h>
#include "../../catalogd/operator.h"
#include "../../catalogd/fsm.h"
#include "log.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#define UUID "5f3c2a10-1b2c-4d5e-8f90-0123456789ab"
#define HEX  "5f3c2a101b2c4d5e"
#define IP   "127.0.1.57"

typedef struct {
    uv_loop_t loop;
    char dir[64];
    config_t cfg;
    catalog_store_t *store;
    catalog_fsm_t *fsm;
    catalog_raft_t *raft;
} s_node_t;

static void
s_closed (void *arg)
{
    *(bool *) arg = true;
}

static void
s_barrier_done (void *arg, int status)
{
    *(int *) arg = status == 0 ? 1 : -1;
}

static void
s_setup (s_node_t *node)
{
    memset (node, 0, sizeof *node);
    snprintf (node->dir, sizeof node->dir, "/tmp/check-catalog-op-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (node->dir));
    config_defaults (&node->cfg);
    snprintf (node->cfg.data_dir, sizeof node->cfg.data_dir, "%s", node->dir);
    snprintf (node->cfg.node_id, sizeof node->cfg.node_id, UUID);
    snprintf (node->cfg.bind_addr, sizeof node->cfg.bind_addr, IP);
    snprintf (node->cfg.advertise_addr, sizeof node->cfg.advertise_addr, IP);
    node->cfg.server = true;
    node->cfg.bootstrap_expect = 1;
    node->cfg.dev = true;
}

static void
s_open (s_node_t *node)
{
    ck_assert_int_eq (uv_loop_init (&node->loop), 0);
    node->store = catalog_store_new ();
    node->fsm = catalog_fsm_new (node->store);
    node->raft = catalog_raft_new (&node->loop, &node->cfg, node->fsm);
    ck_assert_ptr_nonnull (node->raft);
}

static void
s_start (s_node_t *node)
{
    ck_assert_int_eq (catalog_raft_start (node->raft), 0);
    int64_t deadline = zclock_mono () + 5000;
    while (!catalog_raft_is_leader (node->raft) && zclock_mono () < deadline)
        uv_run (&node->loop, UV_RUN_ONCE);
    ck_assert_msg (catalog_raft_is_leader (node->raft), "state %s term %llu",
                   catalog_raft_state_name (node->raft),
                   (unsigned long long) catalog_raft_term (node->raft));
    int done = 0;
    ck_assert_int_eq (catalog_raft_barrier (node->raft, s_barrier_done, &done), 0);
    while (!done && zclock_mono () < deadline)
        uv_run (&node->loop, UV_RUN_ONCE);
    ck_assert_int_eq (done, 1);
}

static void
s_close (s_node_t *node)
{
    bool closed = false;
    catalog_raft_close (node->raft, s_closed, &closed);
    uv_run (&node->loop, UV_RUN_DEFAULT);
    ck_assert (closed);
    catalog_raft_destroy (&node->raft);
    ck_assert_int_eq (uv_loop_close (&node->loop), 0);
    catalog_fsm_destroy (&node->fsm);
    catalog_store_destroy (&node->store);
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    return remove (path);
}

//  Removes the node's data dir and the peers files made beside it.
static void
s_teardown (s_node_t *node)
{
    nftw (node->dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    char path[sizeof node->dir + 32];
    snprintf (path, sizeof path, "%s.peers.json", node->dir);
    remove (path);
}

static catalog_servers_t *
s_pool (void)
{
    cJSON *list = cJSON_Parse ("[{\"Name\":\"op1\",\"Addr\":\"" IP "\",\"Status\":1,"
                               "\"Tags\":{\"role\":\"consul\",\"dc\":\"dc1\",\"id\":\""
                               UUID "\",\"port\":\"8300\",\"raft_vsn\":\"3\"}}]");
    catalog_servers_t *servers = catalog_servers_new ("dc1", 8303);
    ck_assert_int_eq (catalog_servers_update (servers, list), 1);
    cJSON_Delete (list);
    return servers;
}

START_TEST (test_status_and_configuration)
{
    s_node_t node;
    s_setup (&node);
    s_open (&node);
    cJSON *status = catalog_operator_status (node.raft, "p");
    ck_assert_str_eq (cJSON_GetObjectItem (status, "ID")->valuestring, HEX);
    ck_assert_str_eq (cJSON_GetObjectItem (status, "Address")->valuestring, IP ":8303");
    ck_assert_str_eq (cJSON_GetObjectItem (status, "ServerAddress")->valuestring, IP ":8300");
    ck_assert (cJSON_IsFalse (cJSON_GetObjectItem (status, "Started")));
    ck_assert (cJSON_IsFalse (cJSON_GetObjectItem (status, "Configured")));
    ck_assert_str_eq (cJSON_GetObjectItem (status, "State")->valuestring, "unstarted");
    ck_assert_str_eq (cJSON_GetObjectItem (status, "Proposal")->valuestring, "p");
    ck_assert (cJSON_IsNull (cJSON_GetObjectItem (status, "Bootstrap")));
    ck_assert (!catalog_raft_has_state (node.raft));
    cJSON_Delete (status);

    s_start (&node);
    ck_assert (catalog_raft_has_state (node.raft));
    status = catalog_operator_status (node.raft, NULL);
    ck_assert (cJSON_IsTrue (cJSON_GetObjectItem (status, "Configured")));
    ck_assert_str_eq (cJSON_GetObjectItem (status, "State")->valuestring, "leader");
    ck_assert_str_eq (cJSON_GetObjectItem (status, "Leader")->valuestring, IP ":8300");
    ck_assert_int_eq (cJSON_GetObjectItem (status, "Voters")->valueint, 1);
    cJSON *bootstrap = cJSON_GetObjectItem (status, "Bootstrap");
    ck_assert_int_eq (cJSON_GetArraySize (bootstrap), 1);
    ck_assert_str_eq (cJSON_GetObjectItem (cJSON_GetArrayItem (bootstrap, 0), "ID")->valuestring,
                      HEX);
    cJSON_Delete (status);
    ck_assert_uint_eq (catalog_raft_last_contact_ms (node.raft), 0);
    ck_assert_uint_eq (catalog_raft_leader_id (node.raft), catalog_raft_id_parse (HEX));

    //  Unknown to the pool: "(unknown)" and the raft ID.
    catalog_servers_t *empty = catalog_servers_new ("dc1", 8303);
    uint64_t index = 0;
    cJSON *config = catalog_operator_configuration (node.raft, empty, &index);
    ck_assert_uint_eq (index, 1);
    cJSON *server = cJSON_GetArrayItem (cJSON_GetObjectItem (config, "Servers"), 0);
    ck_assert_str_eq (cJSON_GetObjectItem (server, "Node")->valuestring, "(unknown)");
    ck_assert_str_eq (cJSON_GetObjectItem (server, "ID")->valuestring, HEX);
    ck_assert_str_eq (cJSON_GetObjectItem (server, "ProtocolVersion")->valuestring, "unknown");
    cJSON_Delete (config);
    catalog_servers_destroy (&empty);
    //  Known: Consul's shape with the node's name and UUID.
    catalog_servers_t *pool = s_pool ();
    config = catalog_operator_configuration (node.raft, pool, NULL);
    char *text = cJSON_PrintUnformatted (config);
    ck_assert_str_eq (text, "{\"Servers\":[{\"ID\":\"" UUID "\",\"Node\":\"op1\","
                      "\"Address\":\"" IP ":8300\",\"Leader\":true,\"Voter\":true,"
                      "\"ProtocolVersion\":\"3\"}],\"Index\":1}");
    free (text);
    cJSON_Delete (config);
    catalog_servers_destroy (&pool);
    s_close (&node);
    s_teardown (&node);
}
END_TEST

static int
s_peer (catalog_raft_t *raft, const char *body_text, uint64_t *id, char *err)
{
    cJSON *body = cJSON_Parse (body_text);
    int code = catalog_operator_peer (raft, body, id, err, 256);
    cJSON_Delete (body);
    return code;
}

START_TEST (test_peer_lookup)
{
    s_node_t node;
    s_setup (&node);
    s_open (&node);
    s_start (&node);
    uint64_t id = 0, want = catalog_raft_id_parse (HEX);
    char err[256];
    ck_assert_int_eq (s_peer (node.raft, "{\"ID\":\"" UUID "\"}", &id, err), 0);
    ck_assert_uint_eq (id, want);
    id = 0;
    ck_assert_int_eq (s_peer (node.raft, "{\"ID\":\"" HEX "\"}", &id, err), 0);
    ck_assert_uint_eq (id, want);
    id = 0;
    ck_assert_int_eq (s_peer (node.raft, "{\"Address\":\"" IP ":8300\"}", &id, err), 0);
    ck_assert_uint_eq (id, want);
    ck_assert_int_eq (s_peer (node.raft, "{\"Address\":\"" IP ":8303\"}", &id, err), 0);
    ck_assert_int_eq (s_peer (node.raft, "{\"ID\":\"nope\"}", &id, err), 500);
    ck_assert_str_eq (err, "id \"nope\" was not found in the Raft configuration");
    ck_assert_int_eq (s_peer (node.raft, "{\"Address\":\"10.1.1.1:8300\"}", &id, err), 500);
    ck_assert_str_eq (err, "address \"10.1.1.1:8300\" was not found in the Raft configuration");
    ck_assert_int_eq (s_peer (node.raft, "{}", &id, err), 400);
    ck_assert_str_eq (err, "Must specify either ?id with the server's ID or ?address "
                      "with IP:port of peer to remove");
    ck_assert_int_eq (s_peer (node.raft, "{\"ID\":\"a\",\"Address\":\"b\"}", &id, err), 400);
    ck_assert_str_eq (err, "Must specify only one of ?id or ?address");
    ck_assert_int_eq (s_peer (node.raft, "{\"ID\":7}", &id, err), 400);
    s_close (&node);
    s_teardown (&node);
}
END_TEST

START_TEST (test_peers_file)
{
    catalog_raft_server_t *servers = NULL;
    char err[256];
    int n = catalog_operator_peers_parse (
        "[{\"id\":\"" UUID "\",\"address\":\"10.0.0.1:8300\",\"non_voter\":false},"
        " {\"id\":\"1111222233334444\",\"address\":\"10.0.0.2:8300\",\"non_voter\":true},"
        " {\"id\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\",\"address\":\"10.0.0.3:1\"}]",
        8303, &servers, err, sizeof err);
    ck_assert_int_eq (n, 3);
    ck_assert_uint_eq (servers[0].id, catalog_raft_id_parse (HEX));
    ck_assert_str_eq (servers[0].address, "10.0.0.1:8303");
    ck_assert_int_eq (servers[0].role, CATALOG_RAFT_VOTER);
    ck_assert_int_eq (servers[1].role, CATALOG_RAFT_STANDBY);
    ck_assert_str_eq (servers[2].address, "10.0.0.3:8303");
    free (servers);
    const char *bad[] = {
        "", "{}", "[]", "[{\"id\":\"x\",\"address\":\"10.0.0.1:8300\"}]",
        "[{\"id\":\"" UUID "\",\"address\":\"10.0.0.1\"}]",
        "[{\"id\":\"" UUID "\",\"address\":\"10.0.0.1:8300\",\"non_voter\":1}]",
        "[{\"id\":\"" UUID "\",\"address\":\"10.0.0.1:8300\"},"
        " {\"id\":\"" UUID "\",\"address\":\"10.0.0.2:8300\"}]",
        "[{\"id\":\"" UUID "\",\"address\":\"10.0.0.1:8300\",\"non_voter\":true}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        ck_assert_int_eq (catalog_operator_peers_parse (bad[i], 8303, &servers, err,
                                                        sizeof err), -1);
        ck_assert_ptr_null (servers);
        ck_assert_msg (*err, "a reason for %s", bad[i]);
    }
}
END_TEST

static void
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    ck_assert_ptr_nonnull (file);
    fputs (text, file);
    fclose (file);
}

START_TEST (test_recover_peers)
{
    s_node_t node;
    s_setup (&node);
    char peers[128];
    snprintf (peers, sizeof peers, "%s.peers.json", node.dir);
    //  Nothing to recover from a missing file, nor in a new data dir.
    ck_assert_int_eq (catalog_operator_recover (&node.cfg, peers), 1);
    s_write (peers, "[{\"id\":\"" UUID "\",\"address\":\"" IP ":8300\","
             "\"non_voter\":false},{\"id\":\"1111222233334444\","
             "\"address\":\"10.0.0.2:8300\",\"non_voter\":false}]");
    ck_assert_int_eq (catalog_operator_recover (&node.cfg, peers), 1);
    s_open (&node);
    s_start (&node);
    s_close (&node);
    //  Two voters, one of them gone: no leader after the restart, but the
    //  configuration is the recovered one.
    ck_assert_int_eq (catalog_operator_recover (&node.cfg, peers), 0);
    s_open (&node);
    ck_assert_int_eq (catalog_raft_start (node.raft), 0);
    catalog_raft_server_t *config = NULL;
    ck_assert_int_eq (catalog_raft_configuration (node.raft, &config, NULL), 2);
    ck_assert_int_eq (config[1].role, CATALOG_RAFT_VOTER);
    ck_assert_str_eq (config[1].address, "10.0.0.2:8303");
    free (config);
    s_close (&node);
    //  The usual recovery of a lost quorum: the survivor alone.
    s_write (peers, "[{\"id\":\"" UUID "\",\"address\":\"" IP ":8300\"}]");
    ck_assert_int_eq (catalog_operator_recover (&node.cfg, peers), 0);
    s_open (&node);
    s_start (&node);
    ck_assert_int_eq (catalog_raft_configuration (node.raft, &config, NULL), 1);
    free (config);
    s_close (&node);
    remove (peers);
    s_teardown (&node);
}
END_TEST

int
main (void)
{
    log_init ("check", LOG_LEVEL_WARN);
    Suite *suite = suite_create ("catalog_operator");
    struct { const char *name; const TTest *test; } cases[] = {
        { "status and configuration", test_status_and_configuration },
        { "peer lookup", test_peer_lookup },
        { "peers file", test_peers_file },
        { "recover peers", test_recover_peers },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create (cases[i].name);
        tcase_set_timeout (tc, 30);
        tcase_add_test (tc, cases[i].test);
        suite_add_tcase (suite, tc);
    }
    SRunner *runner = srunner_create (suite);
    srunner_set_fork_status (runner, CK_FORK);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
