/*  Unit tests of catalogd/bootstrap: the bootstrap_expect agreement
    (docs/catalogd.md, "Forming a cluster"). Rounds, every refusal reason,
    each kind of answer, adoption of a peer's bootstrapped configuration,
    and a randomized simulation of servers whose member lists differ and
    change while rounds interleave: never two different configurations
    bootstrapped, and a stable pool always forms one cluster. */
#include <check.h>
#include "../../catalogd/bootstrap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERVERS 5

static const char *s_ids[MAX_SERVERS] = {
    "10000000-0000-0000-0000-000000000001", "20000000-0000-0000-0000-000000000002",
    "30000000-0000-0000-0000-000000000003", "40000000-0000-0000-0000-000000000004",
    "50000000-0000-0000-0000-000000000005",
};

static void
s_raft_address (int i, char *buf, size_t size)
{
    snprintf (buf, size, "10.0.0.%d:8303", i + 1);
}

static cJSON *
s_member (int i, int status, const char *expect)
{
    char name[16], addr[16];
    snprintf (name, sizeof name, "s%d", i + 1);
    snprintf (addr, sizeof addr, "10.0.0.%d", i + 1);
    cJSON *member = cJSON_CreateObject ();
    cJSON_AddStringToObject (member, "Name", name);
    cJSON_AddStringToObject (member, "Addr", addr);
    cJSON_AddNumberToObject (member, "Status", status);
    cJSON *tags = cJSON_AddObjectToObject (member, "Tags");
    cJSON_AddStringToObject (tags, "role", "consul");
    cJSON_AddStringToObject (tags, "dc", "dc1");
    cJSON_AddStringToObject (tags, "id", s_ids[i]);
    cJSON_AddStringToObject (tags, "port", "8300");
    if (expect)
        cJSON_AddStringToObject (tags, "expect", expect);
    return member;
}

//  A server list of the members in mask (alive), expect 3.
static catalog_servers_t *
s_view (unsigned mask)
{
    catalog_servers_t *servers = catalog_servers_new ("dc1", 8303);
    cJSON *list = cJSON_CreateArray ();
    for (int i = 0; i < MAX_SERVERS; i++)
        if (mask & (1u << i))
            cJSON_AddItemToArray (list, s_member (i, 1, "3"));
    catalog_servers_update (servers, list);
    cJSON_Delete (list);
    return servers;
}

static catalog_bootstrap_t *
s_bootstrap (int i)
{
    char address[32];
    s_raft_address (i, address, sizeof address);
    return catalog_bootstrap_new (3, catalog_raft_id_from_uuid (s_ids[i]), address);
}

//  A raft.status answer of server i.
static cJSON *
s_status (int i, bool configured, const char *proposal, const char *bootstrap)
{
    char id[20];
    snprintf (id, sizeof id, "%016llx",
              (unsigned long long) catalog_raft_id_from_uuid (s_ids[i]));
    cJSON *status = cJSON_CreateObject ();
    cJSON_AddStringToObject (status, "ID", id);
    cJSON_AddBoolToObject (status, "Configured", configured);
    cJSON_AddStringToObject (status, "Proposal", proposal);
    if (bootstrap)
        cJSON_AddItemToObject (status, "Bootstrap", cJSON_Parse (bootstrap));
    else
        cJSON_AddNullToObject (status, "Bootstrap");
    return status;
}

//  The peer index of server j in b's round.
static size_t
s_peer_of (catalog_bootstrap_t *b, int j)
{
    for (size_t k = 0; k < catalog_bootstrap_peer_count (b); k++)
        if (catalog_bootstrap_peer (b, k)->raft_id == catalog_raft_id_from_uuid (s_ids[j]))
            return k;
    ck_abort_msg ("server %d is not a peer of the round", j);
    return 0;
}

START_TEST (test_refusals)
{
    char reason[256];
    catalog_bootstrap_t *b = s_bootstrap (0);
    ck_assert_str_eq (catalog_bootstrap_proposal (b), "");
    //  Too few.
    catalog_servers_t *view = s_view (0x3);
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), -1);
    ck_assert_msg (strstr (reason, "waiting for 3 servers"), "%s", reason);
    catalog_servers_destroy (&view);
    //  Ourselves not listed yet.
    view = s_view (0xE);
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), -1);
    ck_assert_msg (strstr (reason, "not in the LAN member list"), "%s", reason);
    catalog_servers_destroy (&view);
    //  Conflicting expect, bootstrap mode (Consul's words).
    cJSON *list = cJSON_CreateArray ();
    cJSON_AddItemToArray (list, s_member (0, 1, "3"));
    cJSON_AddItemToArray (list, s_member (1, 1, "5"));
    cJSON_AddItemToArray (list, s_member (2, 1, "3"));
    view = catalog_servers_new ("dc1", 8303);
    catalog_servers_update (view, list);
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), -1);
    ck_assert_str_eq (reason, "Member s2 has a conflicting expect value. All nodes "
                      "should expect the same number.");
    cJSON_DeleteItemFromArray (list, 1);
    cJSON *dev = s_member (1, 1, NULL);
    cJSON_AddStringToObject (cJSON_GetObjectItem (dev, "Tags"), "bootstrap", "1");
    cJSON_AddItemToArray (list, dev);
    catalog_servers_update (view, list);
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), -1);
    ck_assert_str_eq (reason, "Member s2 has bootstrap mode. Expect disabled.");
    //  A failed member does not count; servers without expect do.
    cJSON_DeleteItemFromArray (list, 2);
    cJSON_AddItemToArray (list, s_member (1, 4, "3"));
    cJSON_AddItemToArray (list, s_member (3, 1, NULL));
    catalog_servers_update (view, list);
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), 2);
    cJSON_Delete (list);
    catalog_servers_destroy (&view);
    catalog_bootstrap_destroy (&b);
    catalog_bootstrap_destroy (&b);
}
END_TEST

START_TEST (test_agreement)
{
    char reason[256];
    catalog_servers_t *view = s_view (0x7);
    catalog_bootstrap_t *b = s_bootstrap (1);
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), 2);
    const char *proposal = catalog_bootstrap_proposal (b);
    ck_assert_str_eq (proposal, "1000000000000000@10.0.0.1:8303,"
                      "2000000000000000@10.0.0.2:8303,3000000000000000@10.0.0.3:8303");
    ck_assert_str_eq (catalog_bootstrap_peer (b, 0)->server_address, "10.0.0.1:8300");
    ck_assert_int_eq (catalog_bootstrap_outcome (b, view), CATALOG_BOOT_PENDING);
    cJSON *answer = s_status (0, false, proposal, NULL);
    catalog_bootstrap_answer (b, s_peer_of (b, 0), answer);
    cJSON_Delete (answer);
    ck_assert_int_eq (catalog_bootstrap_outcome (b, view), CATALOG_BOOT_PENDING);
    answer = s_status (2, false, proposal, NULL);
    catalog_bootstrap_answer (b, s_peer_of (b, 2), answer);
    cJSON_Delete (answer);
    ck_assert_int_eq (catalog_bootstrap_outcome (b, view), CATALOG_BOOT_GO);
    const catalog_raft_server_t *servers = NULL;
    ck_assert_uint_eq (catalog_bootstrap_configuration (b, &servers), 3);
    ck_assert_str_eq (servers[0].address, "10.0.0.1:8303");
    ck_assert_int_eq (servers[2].role, CATALOG_RAFT_VOTER);
    //  The same answers, but the pool changed meanwhile: no.
    catalog_servers_t *grown = s_view (0xF);
    ck_assert_int_eq (catalog_bootstrap_outcome (b, grown), CATALOG_BOOT_RETRY);
    catalog_servers_destroy (&grown);
    catalog_servers_destroy (&view);
    catalog_bootstrap_destroy (&b);
}
END_TEST

START_TEST (test_disagreements)
{
    char reason[256];
    catalog_servers_t *view = s_view (0x7);
    catalog_bootstrap_t *b = s_bootstrap (0);
    //  Another proposal; a failed question; a wrong server; garbage.
    cJSON *answers[] = {
        s_status (1, false, "other", NULL), NULL, s_status (2, false, "x", NULL),
        cJSON_CreateString ("status"),
    };
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), 2);
        const char *proposal = catalog_bootstrap_proposal (b);
        cJSON *good = s_status (2, false, proposal, NULL);
        catalog_bootstrap_answer (b, s_peer_of (b, 2), good);
        if (k == 2) {
            //  Server 3's answer given to the question for server 2.
            cJSON_ReplaceItemInObject (answers[k], "Proposal", cJSON_CreateString (proposal));
        }
        catalog_bootstrap_answer (b, s_peer_of (b, 1), answers[k]);
        ck_assert_int_eq (catalog_bootstrap_outcome (b, view), CATALOG_BOOT_RETRY);
        cJSON_Delete (good);
        cJSON_Delete (answers[k]);
    }
    //  A peer with raft state that does not name us: a running cluster.
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), 2);
    cJSON *configured = s_status (1, true, "", NULL);
    cJSON *agrees = s_status (2, false, catalog_bootstrap_proposal (b), NULL);
    catalog_bootstrap_answer (b, s_peer_of (b, 1), configured);
    catalog_bootstrap_answer (b, s_peer_of (b, 2), agrees);
    ck_assert_int_eq (catalog_bootstrap_outcome (b, view), CATALOG_BOOT_EXISTS);
    cJSON_Delete (configured);
    cJSON_Delete (agrees);
    //  Answers after the round was abandoned are ignored.
    catalog_bootstrap_answer (b, 7, NULL);
    catalog_servers_destroy (&view);
    catalog_bootstrap_destroy (&b);
}
END_TEST

START_TEST (test_adoption)
{
    char reason[256];
    catalog_servers_t *view = s_view (0x7);
    catalog_bootstrap_t *b = s_bootstrap (2);
    const char *mine = "[{\"ID\":\"1000000000000000\",\"Address\":\"10.0.0.1:8303\"},"
                       "{\"ID\":\"2000000000000000\",\"Address\":\"10.0.0.2:8303\"},"
                       "{\"ID\":\"3000000000000000\",\"Address\":\"10.0.0.3:8303\"}]";
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), 2);
    cJSON *bootstrapped = s_status (0, true, "", mine);
    cJSON *waiting = s_status (1, false, "something else", NULL);
    catalog_bootstrap_answer (b, s_peer_of (b, 0), bootstrapped);
    catalog_bootstrap_answer (b, s_peer_of (b, 1), waiting);
    ck_assert_int_eq (catalog_bootstrap_outcome (b, view), CATALOG_BOOT_ADOPT);
    const catalog_raft_server_t *servers = NULL;
    ck_assert_uint_eq (catalog_bootstrap_configuration (b, &servers), 3);
    char *text = catalog_bootstrap_text (servers, 3);
    ck_assert_str_eq (text, "1000000000000000@10.0.0.1:8303,"
                      "2000000000000000@10.0.0.2:8303,3000000000000000@10.0.0.3:8303");
    free (text);
    cJSON_Delete (waiting);
    //  Two different bootstrapped configurations naming us: adopt neither.
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), 2);
    cJSON *other = s_status (1, true, "",
                             "[{\"ID\":\"2000000000000000\",\"Address\":\"10.0.0.2:8303\"},"
                             "{\"ID\":\"3000000000000000\",\"Address\":\"10.0.0.3:8303\"}]");
    catalog_bootstrap_answer (b, s_peer_of (b, 0), bootstrapped);
    catalog_bootstrap_answer (b, s_peer_of (b, 1), other);
    ck_assert_int_eq (catalog_bootstrap_outcome (b, view), CATALOG_BOOT_EXISTS);
    cJSON_Delete (other);
    //  A configuration without us, or malformed, is a running cluster.
    ck_assert_int_eq (catalog_bootstrap_begin (b, view, reason, sizeof reason), 2);
    other = s_status (1, true, "", "[{\"ID\":\"2000000000000000\",\"Address\":\"\"}]");
    cJSON *without = s_status (0, true, "",
                               "[{\"ID\":\"1000000000000000\",\"Address\":\"10.0.0.1:8303\"}]");
    catalog_bootstrap_answer (b, s_peer_of (b, 0), without);
    catalog_bootstrap_answer (b, s_peer_of (b, 1), other);
    ck_assert_int_eq (catalog_bootstrap_outcome (b, view), CATALOG_BOOT_EXISTS);
    cJSON_Delete (other);
    cJSON_Delete (without);
    cJSON_Delete (bootstrapped);
    catalog_servers_destroy (&view);
    catalog_bootstrap_destroy (&b);
}
END_TEST

//  ---------------------------------------------------------------------
//  Simulation: K servers, each with its own member view, rounds whose
//  questions are answered at random later times with the peer's state at
//  that time.

typedef struct {
    catalog_bootstrap_t *boot;
    catalog_servers_t *view;
    unsigned view_mask;
    bool round;
    bool asked[MAX_SERVERS];        //  question outstanding to server j
    bool started;                   //  raft started (bootstrapped or empty)
    char *bootstrapped;             //  proposal text of its bootstrap
    char *bootstrap_json;           //  ... as a raft.status Bootstrap list
} sim_server_t;

static uint64_t s_rng;

static uint64_t
s_next (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void
s_set_view (sim_server_t *server, unsigned mask)
{
    catalog_servers_destroy (&server->view);
    server->view = s_view (mask);
    server->view_mask = mask;
}

static cJSON *
s_sim_status (sim_server_t *servers, int j)
{
    sim_server_t *peer = &servers[j];
    return s_status (j, peer->started, catalog_bootstrap_proposal (peer->boot),
                     peer->bootstrap_json);
}

static void
s_sim_bootstrap (sim_server_t *server, catalog_boot_outcome_t outcome)
{
    const catalog_raft_server_t *config = NULL;
    size_t n = catalog_bootstrap_configuration (server->boot, &config);
    server->bootstrapped = catalog_bootstrap_text (config, n);
    cJSON *list = cJSON_CreateArray ();
    for (size_t k = 0; k < n; k++) {
        char id[20];
        snprintf (id, sizeof id, "%016llx", (unsigned long long) config[k].id);
        cJSON *item = cJSON_CreateObject ();
        cJSON_AddStringToObject (item, "ID", id);
        cJSON_AddStringToObject (item, "Address", config[k].address);
        cJSON_AddItemToArray (list, item);
    }
    server->bootstrap_json = cJSON_PrintUnformatted (list);
    cJSON_Delete (list);
    server->started = true;
}

//  Runs one simulation; returns how many servers bootstrapped and checks
//  they all bootstrapped the same configuration.
static int
s_simulate (int count, bool stable, int steps)
{
    sim_server_t servers[MAX_SERVERS];
    memset (servers, 0, sizeof servers);
    unsigned all = (1u << count) - 1;
    for (int i = 0; i < count; i++) {
        servers[i].boot = s_bootstrap (i);
        s_set_view (&servers[i], stable ? all : (1u << i) | (unsigned) (s_next () & all));
    }
    for (int step = 0; step < steps; step++) {
        int i = (int) (s_next () % (uint64_t) count);
        sim_server_t *server = &servers[i];
        int action = (int) (s_next () % 4);
        if (!stable && action == 0) {
            s_set_view (server, (1u << i) | (unsigned) (s_next () & all));
            continue;
        }
        if (server->started)
            continue;
        if (!server->round) {
            char reason[256];
            int peers = catalog_bootstrap_begin (server->boot, server->view, reason,
                                                 sizeof reason);
            if (peers < 0)
                continue;
            server->round = true;
            memset (server->asked, 0, sizeof server->asked);
            for (int k = 0; k < peers; k++)
                for (int j = 0; j < count; j++)
                    if (catalog_bootstrap_peer (server->boot, (size_t) k)->raft_id
                        == catalog_raft_id_from_uuid (s_ids[j]))
                        server->asked[j] = true;
            continue;
        }
        //  Answer one outstanding question (sometimes with a failure).
        int j = (int) (s_next () % (uint64_t) count);
        if (!server->asked[j])
            continue;
        server->asked[j] = false;
        cJSON *status = s_next () % 16 ? s_sim_status (servers, j) : NULL;
        catalog_bootstrap_answer (server->boot, s_peer_of (server->boot, j), status);
        cJSON_Delete (status);
        catalog_boot_outcome_t outcome = catalog_bootstrap_outcome (server->boot, server->view);
        if (outcome == CATALOG_BOOT_PENDING)
            continue;
        server->round = false;
        if (outcome == CATALOG_BOOT_GO || outcome == CATALOG_BOOT_ADOPT)
            s_sim_bootstrap (server, outcome);
        else
        if (outcome == CATALOG_BOOT_EXISTS)
            server->started = true;
    }
    int bootstrapped = 0;
    const char *first = NULL;
    for (int i = 0; i < count; i++) {
        if (servers[i].bootstrapped) {
            bootstrapped++;
            if (!first)
                first = servers[i].bootstrapped;
            ck_assert_msg (strcmp (first, servers[i].bootstrapped) == 0,
                           "two configurations bootstrapped: %s and %s", first,
                           servers[i].bootstrapped);
        }
    }
    for (int i = 0; i < count; i++) {
        free (servers[i].bootstrapped);
        free (servers[i].bootstrap_json);
        catalog_servers_destroy (&servers[i].view);
        catalog_bootstrap_destroy (&servers[i].boot);
    }
    return bootstrapped;
}

//  (Without growing proposals this finds two configurations: views that
//  shrink let deciders outside each other's sets decide apart.)
START_TEST (test_simulation_never_two_clusters)
{
    s_rng = 0x9E3779B97F4A7C15ULL;
    for (int trial = 0; trial < 8000; trial++)
        s_simulate (3 + trial % 3, false, 400);
}
END_TEST

START_TEST (test_simulation_stable_pool_forms)
{
    s_rng = 88172645463325252ULL;
    for (int trial = 0; trial < 300; trial++) {
        int count = 3 + trial % 3;
        //  With everybody seeing everybody, every server bootstraps the
        //  same configuration (by agreement or adoption).
        ck_assert_int_eq (s_simulate (count, true, 4000), count);
    }
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("catalog_bootstrap");
    struct { const char *name; const TTest *test; int timeout; } cases[] = {
        { "refusals", test_refusals, 10 },
        { "agreement", test_agreement, 10 },
        { "disagreements", test_disagreements, 10 },
        { "adoption", test_adoption, 10 },
        { "simulation never two clusters", test_simulation_never_two_clusters, 60 },
        { "simulation stable pool forms", test_simulation_stable_pool_forms, 60 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create (cases[i].name);
        tcase_set_timeout (tc, cases[i].timeout);
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
