/*  Unit tests of catalogd/autopilot: the leader's reconciliation of the
    raft configuration with the LAN pool (docs/catalogd.md, "Membership"):
    adding and promoting alive servers, removing left ones at once and
    failed ones after the grace, the quorum guard, a leaving leader, a node
    that came back with a new ID, and -dev members. */
#include <check.h>
#include "../../catalogd/autopilot.h"

#include <stdio.h>
#include <string.h>

#define GRACE 30000

static const char *s_ids[] = {
    "10000000-0000-0000-0000-000000000001", "20000000-0000-0000-0000-000000000002",
    "30000000-0000-0000-0000-000000000003", "40000000-0000-0000-0000-000000000004",
    "50000000-0000-0000-0000-000000000005", "60000000-0000-0000-0000-000000000006",
};

static uint64_t
s_id (int i)
{
    return catalog_raft_id_from_uuid (s_ids[i]);
}

//  statuses[i] < 0: not a member.
static catalog_servers_t *
s_pool (const int *statuses, int count)
{
    cJSON *list = cJSON_CreateArray ();
    for (int i = 0; i < count; i++) {
        if (statuses[i] < 0)
            continue;
        char name[16], addr[16];
        snprintf (name, sizeof name, "s%d", i + 1);
        snprintf (addr, sizeof addr, "10.0.0.%d", i + 1);
        cJSON *member = cJSON_CreateObject ();
        cJSON_AddStringToObject (member, "Name", name);
        cJSON_AddStringToObject (member, "Addr", addr);
        cJSON_AddNumberToObject (member, "Status", statuses[i]);
        cJSON *tags = cJSON_AddObjectToObject (member, "Tags");
        cJSON_AddStringToObject (tags, "role", "consul");
        cJSON_AddStringToObject (tags, "dc", "dc1");
        cJSON_AddStringToObject (tags, "id", s_ids[i]);
        cJSON_AddStringToObject (tags, "port", "8300");
        cJSON_AddItemToArray (list, member);
    }
    catalog_servers_t *servers = catalog_servers_new ("dc1", 8303);
    catalog_servers_update (servers, list);
    cJSON_Delete (list);
    return servers;
}

static void
s_config (catalog_raft_server_t *config, int i, int role)
{
    memset (config, 0, sizeof *config);
    config->id = s_id (i);
    config->role = role;
    snprintf (config->address, sizeof config->address, "10.0.0.%d:8303", i + 1);
}

static catalog_ap_action_t
s_next (catalog_autopilot_t *ap, const catalog_raft_server_t *config, size_t n,
        const int *statuses, int count, int64_t now)
{
    catalog_servers_t *servers = s_pool (statuses, count);
    catalog_ap_action_t action;
    catalog_autopilot_next (ap, config, n, servers, now, &action);
    catalog_servers_destroy (&servers);
    return action;
}

START_TEST (test_add_and_promote)
{
    catalog_autopilot_t *ap = catalog_autopilot_new (s_id (0), GRACE);
    catalog_raft_server_t config[4];
    s_config (&config[0], 0, CATALOG_RAFT_VOTER);
    s_config (&config[1], 1, CATALOG_RAFT_VOTER);
    s_config (&config[2], 2, CATALOG_RAFT_VOTER);
    int pool[] = { 1, 1, 1, 1 };
    //  Nothing known yet: nothing done.
    catalog_servers_t *unknown = catalog_servers_new ("dc1", 8303);
    catalog_ap_action_t action;
    catalog_autopilot_next (ap, config, 3, unknown, 0, &action);
    ck_assert_int_eq (action.kind, CATALOG_AP_NONE);
    catalog_servers_destroy (&unknown);
    action = s_next (ap, config, 3, pool, 4, 0);
    ck_assert_int_eq (action.kind, CATALOG_AP_ADD);
    ck_assert_uint_eq (action.id, s_id (3));
    ck_assert_str_eq (action.address, "10.0.0.4:8303");
    ck_assert_str_eq (action.name, "s4");
    s_config (&config[3], 3, CATALOG_RAFT_SPARE);
    action = s_next (ap, config, 4, pool, 4, 0);
    ck_assert_int_eq (action.kind, CATALOG_AP_PROMOTE);
    ck_assert_uint_eq (action.id, s_id (3));
    config[3].role = CATALOG_RAFT_VOTER;
    action = s_next (ap, config, 4, pool, 4, 0);
    ck_assert_int_eq (action.kind, CATALOG_AP_NONE);
    //  A failed non-voter is not promoted.
    config[3].role = CATALOG_RAFT_STANDBY;
    int failed[] = { 1, 1, 1, 4 };
    action = s_next (ap, config, 4, failed, 4, 0);
    ck_assert_int_eq (action.kind, CATALOG_AP_NONE);
    catalog_autopilot_destroy (&ap);
    catalog_autopilot_destroy (&ap);
}
END_TEST

START_TEST (test_left_removed_at_once)
{
    catalog_autopilot_t *ap = catalog_autopilot_new (s_id (0), GRACE);
    catalog_raft_server_t config[3];
    for (int i = 0; i < 3; i++)
        s_config (&config[i], i, CATALOG_RAFT_VOTER);
    int pool[] = { 1, 3, 1 };
    catalog_ap_action_t action = s_next (ap, config, 3, pool, 3, 0);
    ck_assert_int_eq (action.kind, CATALOG_AP_REMOVE);
    ck_assert_uint_eq (action.id, s_id (1));
    ck_assert_str_eq (action.reason, "it left the pool");
    //  Two voters, one left: a left server may still go (one remains).
    int two[] = { 1, 3 };
    action = s_next (ap, config, 2, two, 2, 0);
    ck_assert_int_eq (action.kind, CATALOG_AP_REMOVE);
    catalog_autopilot_destroy (&ap);
}
END_TEST

START_TEST (test_failed_after_grace)
{
    catalog_autopilot_t *ap = catalog_autopilot_new (s_id (0), GRACE);
    catalog_raft_server_t config[5];
    for (int i = 0; i < 5; i++)
        s_config (&config[i], i, CATALOG_RAFT_VOTER);
    int pool[] = { 1, 1, 1, 4, -1 };
    catalog_ap_action_t action = s_next (ap, config, 5, pool, 5, 1000);
    ck_assert_int_eq (action.kind, CATALOG_AP_NONE);
    action = s_next (ap, config, 5, pool, 5, 1000 + GRACE - 1);
    ck_assert_int_eq (action.kind, CATALOG_AP_NONE);
    action = s_next (ap, config, 5, pool, 5, 1000 + GRACE);
    ck_assert_int_eq (action.kind, CATALOG_AP_REMOVE);
    ck_assert_uint_eq (action.id, s_id (3));
    ck_assert_msg (strstr (action.reason, "failed for"), "%s", action.reason);
    //  Back alive: its clock restarts.
    int back[] = { 1, 1, 1, 1, -1 };
    action = s_next (ap, config, 5, back, 5, 1000 + GRACE + 1);
    ck_assert_int_eq (action.kind, CATALOG_AP_REMOVE);      //  s5 is missing
    ck_assert_uint_eq (action.id, s_id (4));
    ck_assert_msg (strstr (action.reason, "not a member"), "%s", action.reason);
    action = s_next (ap, config, 5, pool, 5, 1000 + GRACE + 2);
    ck_assert_int_eq (action.kind, CATALOG_AP_REMOVE);
    ck_assert_uint_eq (action.id, s_id (4));
    //  A new leadership starts its own clocks.
    catalog_autopilot_reset (ap);
    action = s_next (ap, config, 5, pool, 5, 1000 + GRACE + 3);
    ck_assert_int_eq (action.kind, CATALOG_AP_NONE);
    catalog_autopilot_destroy (&ap);
}
END_TEST

START_TEST (test_quorum_guard)
{
    catalog_autopilot_t *ap = catalog_autopilot_new (s_id (0), GRACE);
    catalog_raft_server_t config[5];
    for (int i = 0; i < 5; i++)
        s_config (&config[i], i, CATALOG_RAFT_VOTER);
    //  Five voters, three failed: only two healthy, quorum is three.
    int pool[] = { 1, 1, 4, 4, 4 };
    s_next (ap, config, 5, pool, 5, 0);
    catalog_ap_action_t action = s_next (ap, config, 5, pool, 5, GRACE);
    ck_assert_int_eq (action.kind, CATALOG_AP_NONE);
    //  Two voters, one failed: removing it would leave fewer than a quorum.
    int two[] = { 1, 4 };
    s_next (ap, config, 2, two, 2, 0);
    action = s_next (ap, config, 2, two, 2, 2 * GRACE);
    ck_assert_int_eq (action.kind, CATALOG_AP_NONE);
    //  Five voters, two failed: one may go (three healthy left).
    int five[] = { 1, 1, 1, 4, 4 };
    s_next (ap, config, 5, five, 5, 0);
    action = s_next (ap, config, 5, five, 5, 3 * GRACE);
    ck_assert_int_eq (action.kind, CATALOG_AP_REMOVE);
    ck_assert_uint_eq (catalog_autopilot_quorum (5), 3);
    ck_assert_uint_eq (catalog_autopilot_quorum (4), 3);
    ck_assert_uint_eq (catalog_autopilot_quorum (1), 1);
    catalog_autopilot_destroy (&ap);
}
END_TEST

START_TEST (test_leaving_leader_transfers)
{
    catalog_autopilot_t *ap = catalog_autopilot_new (s_id (0), GRACE);
    catalog_raft_server_t config[3];
    for (int i = 0; i < 3; i++)
        s_config (&config[i], i, CATALOG_RAFT_VOTER);
    int pool[] = { 2, 1, 1 };
    catalog_ap_action_t action = s_next (ap, config, 3, pool, 3, 0);
    ck_assert_int_eq (action.kind, CATALOG_AP_TRANSFER);
    //  Alone: nobody to hand over to.
    action = s_next (ap, config, 1, pool, 1, 0);
    ck_assert_int_eq (action.kind, CATALOG_AP_NONE);
    catalog_autopilot_destroy (&ap);
}
END_TEST

START_TEST (test_new_id_same_address)
{
    catalog_autopilot_t *ap = catalog_autopilot_new (s_id (0), GRACE);
    catalog_raft_server_t config[3];
    for (int i = 0; i < 3; i++)
        s_config (&config[i], i, CATALOG_RAFT_VOTER);
    //  s3 came back with a new node ID (wiped data dir): the old entry
    //  goes first, then the new one is added.
    cJSON *list = cJSON_CreateArray ();
    for (int i = 0; i < 3; i++) {
        char name[16], addr[16];
        snprintf (name, sizeof name, "s%d", i + 1);
        snprintf (addr, sizeof addr, "10.0.0.%d", i + 1);
        cJSON *member = cJSON_CreateObject ();
        cJSON_AddStringToObject (member, "Name", name);
        cJSON_AddStringToObject (member, "Addr", addr);
        cJSON_AddNumberToObject (member, "Status", 1);
        cJSON *tags = cJSON_AddObjectToObject (member, "Tags");
        cJSON_AddStringToObject (tags, "role", "consul");
        cJSON_AddStringToObject (tags, "dc", "dc1");
        cJSON_AddStringToObject (tags, "id", i == 2 ? s_ids[5] : s_ids[i]);
        cJSON_AddItemToArray (list, member);
    }
    catalog_servers_t *servers = catalog_servers_new ("dc1", 8303);
    catalog_servers_update (servers, list);
    catalog_ap_action_t action;
    catalog_autopilot_next (ap, config, 3, servers, 0, &action);
    ck_assert_int_eq (action.kind, CATALOG_AP_REMOVE);
    ck_assert_uint_eq (action.id, s_id (2));
    catalog_autopilot_next (ap, config, 2, servers, 0, &action);
    ck_assert_int_eq (action.kind, CATALOG_AP_ADD);
    ck_assert_uint_eq (action.id, s_id (5));
    ck_assert_str_eq (action.address, "10.0.0.3:8303");
    cJSON_Delete (list);
    catalog_servers_destroy (&servers);
    catalog_autopilot_destroy (&ap);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("catalog_autopilot");
    struct { const char *name; const TTest *test; } cases[] = {
        { "add and promote", test_add_and_promote },
        { "left removed at once", test_left_removed_at_once },
        { "failed after grace", test_failed_after_grace },
        { "quorum guard", test_quorum_guard },
        { "leaving leader transfers", test_leaving_leader_transfers },
        { "new id same address", test_new_id_same_address },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create (cases[i].name);
        tcase_set_timeout (tc, 10);
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
