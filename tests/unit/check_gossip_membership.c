/*  Unit tests of the SWIM/Lifeguard member state machine
    (gossipd/membership.c, gossipd/member.c), spec docs/protocol/gossip.md
    "Message rules", "Suspicion", "Leave, force-leave, reaping", "Push-pull". */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../gossipd/membership.h"

typedef struct {
    int events[MEMBER_EVENT_COUNT];
    char last[PACKET_NAME_MAX + 1];
    int refuted;
} record_t;

static record_t rec;
static broadcast_queue_t *queue;
static uint8_t tags[PACKET_TAGS_MAX];
static size_t tags_len;

static void
s_event (void *arg, member_event_t event, const member_t *member)
{
    rec.events[event]++;
    snprintf (rec.last, sizeof rec.last, "%s", member->name);
}

static int
s_accept (void *arg, const char *name, const uint8_t *t, size_t len, char *err, size_t size)
{
    if (strncmp (name, "bad", 3) == 0) {
        snprintf (err, size, "Member '%s' part of wrong datacenter 'dc2'", name);
        return -1;
    }
    return 0;
}

static void
s_refuted (void *arg)
{
    rec.refuted++;
}

static membership_t *
s_membership (const char *name)
{
    memset (&rec, 0, sizeof rec);
    packet_tag_t list[2] = { { "dc", "dc1" }, { "id", "" } };
    snprintf (list[1].value, sizeof list[1].value, "id-%s", name);
    tags_len = (size_t) packet_tags_encode (list, 2, tags, sizeof tags);
    membership_config_t config = {
        .pool = "lan", .name = name, .tags = tags, .tags_len = tags_len,
        .incarnation = 100, .suspicion_mult = 4, .probe_interval_ms = 1000,
        .reap_failed_ms = 10000, .reap_left_ms = 20000, .tombstone_ms = 5000,
        .dead_window_ms = 3000
    };
    packet_addr_parse ("127.0.0.1", 8301, &config.addr);
    membership_hooks_t hooks = { s_event, s_accept, s_refuted, NULL };
    queue = broadcast_queue_new (0);
    return membership_new (&config, queue, &hooks, 0);
}

static void
s_teardown (membership_t **membership)
{
    membership_destroy (membership);
    broadcast_queue_destroy (&queue);
}

static packet_msg_t *
s_alive (const char *node, uint32_t incarnation, const char *ip)
{
    packet_msg_t *msg = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    msg->type = PACKET_ALIVE;
    msg->incarnation = incarnation;
    snprintf (msg->node, sizeof msg->node, "%s", node);
    packet_addr_parse (ip, 8301, &msg->addr);
    packet_tag_t list[2] = { { "dc", "dc1" }, { "id", "" } };
    snprintf (list[1].value, sizeof list[1].value, "id-%s", node);
    msg->tags_len = (size_t) packet_tags_encode (list, 2, msg->tags, sizeof msg->tags);
    return msg;
}

static int
s_apply_alive (membership_t *m, const char *node, uint32_t incarnation, const char *ip,
               int64_t now)
{
    packet_msg_t *msg = s_alive (node, incarnation, ip);
    int rc = membership_on_alive (m, msg, now);
    free (msg);
    return rc;
}

//  True when an update of type about node is queued.
static bool
s_queued (packet_type_t type, const char *node)
{
    uint8_t buf[65536];
    size_t len = broadcast_queue_fill (queue, buf, sizeof buf, 1000);
    packet_msg_t *msg = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    packet_reader_t reader;
    packet_drop_t drop;
    packet_reader_init (&reader, buf, len, PACKET_UDP);
    bool found = false;
    while (packet_reader_next (&reader, msg, &drop) == 1)
        if (msg->type == type && strcmp (msg->node, node) == 0)
            found = true;
    free (msg);
    broadcast_queue_reset (queue);
    return found;
}

START_TEST (test_alive_join_update_conflict)
{
    membership_t *m = s_membership ("me");
    ck_assert (s_queued (PACKET_ALIVE, "me"));          //  we announce ourselves
    ck_assert_int_eq (s_apply_alive (m, "n1", 1, "10.0.0.1", 0), 1);
    ck_assert_int_eq (rec.events[MEMBER_EVENT_JOIN], 1);
    ck_assert (s_queued (PACKET_ALIVE, "n1"));          //  re-disseminated
    ck_assert_int_eq (s_apply_alive (m, "n1", 1, "10.0.0.1", 0), 0);
    ck_assert (!s_queued (PACKET_ALIVE, "n1"));         //  ignored is not re-sent
    //  Name held by an alive member at another address: refused.
    ck_assert_int_eq (s_apply_alive (m, "n1", 5, "10.0.0.9", 0), 0);
    member_t *n1 = members_lookup (membership_members (m), "n1");
    ck_assert_uint_eq (n1->incarnation, 1);
    //  Tags change with a higher incarnation: update.
    packet_msg_t *msg = s_alive ("n1", 2, "10.0.0.1");
    packet_tag_t list[1] = { { "dc", "dc1" } };
    msg->tags_len = (size_t) packet_tags_encode (list, 1, msg->tags, sizeof msg->tags);
    ck_assert_int_eq (membership_on_alive (m, msg, 0), 1);
    free (msg);
    ck_assert_int_eq (rec.events[MEMBER_EVENT_UPDATE], 1);
    //  The pool's acceptance rules.
    ck_assert_int_eq (s_apply_alive (m, "bad1", 1, "10.0.0.2", 0), 0);
    ck_assert_ptr_null (members_lookup (membership_members (m), "bad1"));
    ck_assert_uint_eq (membership_alive_count (m), 2);
    cJSON *json = member_json (n1, member_status (n1));
    ck_assert_str_eq (cJSON_GetObjectItem (json, "Addr")->valuestring, "10.0.0.1");
    ck_assert_int_eq (cJSON_GetObjectItem (json, "Port")->valueint, 8301);
    ck_assert_int_eq (cJSON_GetObjectItem (json, "Status")->valueint, MEMBER_STATUS_ALIVE);
    ck_assert_int_eq (cJSON_GetObjectItem (json, "ProtocolMax")->valueint, 5);
    cJSON_Delete (json);
    s_teardown (&m);
}
END_TEST

START_TEST (test_suspicion_to_failed)
{
    membership_t *m = s_membership ("me");
    const char *peers[] = { "n1", "n2", "n3", "n4" };
    for (int i = 0; i < 4; i++)
        s_apply_alive (m, peers[i], 1, "10.0.0.1", 0);
    broadcast_queue_reset (queue);
    //  N = 5: k = 2, min = 4 s, max = 24 s.
    ck_assert_int_eq (membership_on_suspect (m, 1, "n1", "n2", 0), 1);
    member_t *n1 = members_lookup (membership_members (m), "n1");
    ck_assert_int_eq (n1->state, MEMBER_SUSPECT);
    ck_assert_int_eq (member_status (n1), MEMBER_STATUS_ALIVE);     //  serf shows alive
    ck_assert (s_queued (PACKET_SUSPECT, "n1"));
    ck_assert_int_eq (membership_tick (m, 1000), 24000);
    ck_assert_int_eq (membership_on_suspect (m, 0, "n1", "n3", 0), 0);      //  older incarnation
    ck_assert_int_eq (membership_on_suspect (m, 1, "n1", "n3", 0), 1);      //  confirmation
    ck_assert (s_queued (PACKET_SUSPECT, "n1"));
    ck_assert_int_eq (membership_tick (m, 1000), 11381);   //  24 - log(2)/log(3) x 20 s
    ck_assert_int_eq (membership_on_suspect (m, 1, "n1", "n3", 0), 0);      //  same accuser
    ck_assert_int_eq (membership_on_suspect (m, 1, "n1", "n4", 0), 1);
    ck_assert_int_eq (membership_tick (m, 1000), 4000);
    membership_tick (m, 3999);
    ck_assert_int_eq (n1->state, MEMBER_SUSPECT);
    membership_tick (m, 4000);
    ck_assert_int_eq (n1->state, MEMBER_DEAD);
    ck_assert_int_eq (rec.events[MEMBER_EVENT_FAILED], 1);
    ck_assert (s_queued (PACKET_DEAD, "n1"));
    //  A failed member is not suspected again, and comes back alive only
    //  with a higher incarnation.
    ck_assert_int_eq (membership_on_suspect (m, 1, "n1", "n2", 5000), 0);
    ck_assert_int_eq (s_apply_alive (m, "n1", 1, "10.0.0.1", 5000), 0);
    ck_assert_int_eq (s_apply_alive (m, "n1", 2, "10.0.0.7", 5000), 1);
    ck_assert_int_eq (rec.events[MEMBER_EVENT_JOIN], 5);
    ck_assert_int_eq (n1->state, MEMBER_ALIVE);
    ck_assert_ptr_null (n1->suspicion);
    s_teardown (&m);
}
END_TEST

START_TEST (test_refutation)
{
    membership_t *m = s_membership ("me");
    broadcast_queue_reset (queue);
    ck_assert_int_eq (membership_on_suspect (m, 100, "me", "n2", 0), 1);
    ck_assert_uint_eq (membership_incarnation (m), 101);
    ck_assert_int_eq (rec.refuted, 1);
    ck_assert (s_queued (PACKET_ALIVE, "me"));
    ck_assert_int_eq (membership_on_suspect (m, 50, "me", "n2", 0), 0);     //  stale
    ck_assert_int_eq (membership_on_dead (m, 105, "me", "n2", 0), 1);
    ck_assert_uint_eq (membership_incarnation (m), 106);
    ck_assert_int_eq (s_apply_alive (m, "me", 200, "127.0.0.1", 0), 1);
    ck_assert_uint_eq (membership_incarnation (m), 201);
    //  Our own alive echoed back: nothing to refute.
    packet_msg_t *msg = s_alive ("me", 201, "127.0.0.1");
    memcpy (msg->tags, tags, tags_len);
    msg->tags_len = tags_len;
    ck_assert_int_eq (membership_on_alive (m, msg, 0), 0);
    free (msg);
    ck_assert_uint_eq (membership_refutations (m), 3);
    ck_assert_int_eq (membership_self (m)->state, MEMBER_ALIVE);
    s_teardown (&m);
}
END_TEST

START_TEST (test_left_and_failed)
{
    membership_t *m = s_membership ("me");
    s_apply_alive (m, "n1", 1, "10.0.0.1", 0);
    s_apply_alive (m, "n2", 1, "10.0.0.2", 0);
    ck_assert_int_eq (membership_on_dead (m, 1, "n1", "n2", 0), 1);
    ck_assert_int_eq (rec.events[MEMBER_EVENT_FAILED], 1);
    //  The node's own leave overrides the failure at the same incarnation.
    ck_assert_int_eq (membership_on_dead (m, 1, "n1", "n1", 0), 1);
    ck_assert_int_eq (rec.events[MEMBER_EVENT_LEAVE], 1);
    member_t *n1 = members_lookup (membership_members (m), "n1");
    ck_assert_int_eq (member_status (n1), MEMBER_STATUS_LEFT);
    ck_assert_int_eq (membership_on_dead (m, 1, "n1", "n2", 0), 0);
    ck_assert_int_eq (membership_on_dead (m, 1, "n2", "n2", 0), 1);
    ck_assert_int_eq (rec.events[MEMBER_EVENT_LEAVE], 2);
    ck_assert_int_eq (membership_on_dead (m, 1, "ghost", "n2", 0), 0);
    s_teardown (&m);
}
END_TEST

START_TEST (test_force_leave_prune_tombstone)
{
    membership_t *m = s_membership ("me");
    s_apply_alive (m, "n1", 7, "10.0.0.1", 0);
    s_apply_alive (m, "n2", 1, "10.0.0.2", 0);
    membership_on_dead (m, 1, "n2", "me", 0);
    broadcast_queue_reset (queue);
    ck_assert_int_eq (membership_force_leave (m, "nobody", false, 0), -1);
    ck_assert_int_eq (membership_force_leave (m, "n2", false, 0), 1);
    ck_assert_int_eq (rec.events[MEMBER_EVENT_LEAVE], 1);
    ck_assert (s_queued (PACKET_FORCE_LEAVE, "n2"));
    ck_assert_int_eq (membership_force_leave (m, "n2", false, 0), 0);   //  nothing changed
    ck_assert_int_eq (membership_force_leave (m, "n1", true, 1000), 1);
    ck_assert_int_eq (rec.events[MEMBER_EVENT_REAP], 1);
    ck_assert_ptr_null (members_lookup (membership_members (m), "n1"));
    //  A stale alive cannot bring a pruned member back; a newer one can.
    ck_assert_int_eq (s_apply_alive (m, "n1", 7, "10.0.0.1", 2000), 0);
    ck_assert_int_eq (s_apply_alive (m, "n1", 8, "10.0.0.1", 2000), 1);
    membership_force_leave (m, "n1", true, 3000);
    membership_tick (m, 3000 + 5000);           //  tombstone forgotten
    ck_assert_int_eq (s_apply_alive (m, "n1", 8, "10.0.0.1", 9000), 1);
    //  A force-leave about us is refuted; one with an old incarnation is
    //  ignored once the node refuted.
    ck_assert_int_eq (membership_on_force_leave (m, 100, "me", false, 0), 1);
    ck_assert_uint_eq (membership_incarnation (m), 101);
    member_t *n1 = members_lookup (membership_members (m), "n1");
    ck_assert_int_eq (membership_on_force_leave (m, 7, "n1", false, 9000), 0);
    ck_assert_int_eq (n1->state, MEMBER_ALIVE);
    s_teardown (&m);
}
END_TEST

START_TEST (test_reaping)
{
    membership_t *m = s_membership ("me");
    s_apply_alive (m, "n1", 1, "10.0.0.1", 0);
    s_apply_alive (m, "n2", 1, "10.0.0.2", 0);
    membership_on_dead (m, 1, "n1", "me", 1000);
    membership_on_dead (m, 1, "n2", "n2", 1000);
    ck_assert_int_eq (membership_tick (m, 1000), 11000);
    membership_tick (m, 10999);
    ck_assert_ptr_nonnull (members_lookup (membership_members (m), "n1"));
    membership_tick (m, 11000);
    ck_assert_ptr_null (members_lookup (membership_members (m), "n1"));
    ck_assert_int_eq (rec.events[MEMBER_EVENT_REAP], 1);
    ck_assert_ptr_nonnull (members_lookup (membership_members (m), "n2"));
    membership_tick (m, 21000);
    ck_assert_ptr_null (members_lookup (membership_members (m), "n2"));
    ck_assert_uint_eq (members_size (membership_members (m)), 1);
    s_teardown (&m);
}
END_TEST

START_TEST (test_push_pull_state)
{
    membership_t *a = s_membership ("a");
    s_apply_alive (a, "n1", 3, "10.0.0.1", 0);
    s_apply_alive (a, "n2", 4, "10.0.0.2", 0);
    membership_on_dead (a, 4, "n2", "n2", 0);        //  left
    size_t len = 0;
    uint8_t *body = membership_state_body (a, true, &len);
    ck_assert_ptr_nonnull (body);
    packet_drop_t drop;
    ck_assert_int_eq (packet_stream_check (body, len, false, &drop), 0);
    broadcast_queue_t *queue_a = queue;

    membership_t *b = s_membership ("b");
    char err[256];
    ck_assert_int_eq (membership_check_remote (b, body, len, true, err, sizeof err), 0);
    membership_merge_remote (b, body, len, 0);
    members_t *members = membership_members (b);
    ck_assert_uint_eq (members_size (members), 3);       //  b, a, n1
    ck_assert_int_eq (members_lookup (members, "n1")->state, MEMBER_ALIVE);
    ck_assert_uint_eq (members_lookup (members, "n1")->incarnation, 3);
    //  A member left on the other side is learnt only if known here.
    ck_assert_ptr_null (members_lookup (members, "n2"));
    free (body);

    //  Rejections: a refused member, two members with one node id.
    s_apply_alive (a, "n2", 5, "10.0.0.2", 0);
    packet_msg_t *dup = s_alive ("n3", 1, "10.0.0.3");
    packet_tag_t list[2] = { { "dc", "dc1" }, { "id", "id-n1" } };
    dup->tags_len = (size_t) packet_tags_encode (list, 2, dup->tags, sizeof dup->tags);
    membership_on_alive (a, dup, 0);
    free (dup);
    body = membership_state_body (a, false, &len);
    ck_assert_int_eq (membership_check_remote (b, body, len, true, err, sizeof err), -1);
    ck_assert_msg (strstr (err, "conflicting node ID 'id-n1'"), "%s", err);
    ck_assert_int_eq (membership_check_remote (b, body, len, false, err, sizeof err), 0);
    free (body);
    membership_destroy (&a);
    broadcast_queue_destroy (&queue_a);
    s_teardown (&b);
}
END_TEST

START_TEST (test_leave)
{
    membership_t *m = s_membership ("me");
    s_apply_alive (m, "n1", 1, "10.0.0.1", 0);
    broadcast_queue_reset (queue);
    uint64_t id = membership_leave (m);
    ck_assert_uint_gt (id, 0);
    ck_assert (broadcast_queue_pending (queue, id));
    ck_assert (membership_leaving (m));
    ck_assert_int_eq (membership_status (m, membership_self (m)), MEMBER_STATUS_LEAVING);
    ck_assert_int_eq (membership_on_suspect (m, 200, "me", "n1", 0), 0);    //  no refute
    ck_assert_int_eq (rec.refuted, 0);
    membership_set_left (m, 10);
    ck_assert (membership_left (m));
    ck_assert_int_eq (membership_status (m, membership_self (m)), MEMBER_STATUS_LEFT);
    ck_assert_int_eq (s_apply_alive (m, "n9", 1, "10.0.0.9", 20), 0);
    ck_assert_int_eq (membership_on_dead (m, 1, "n1", "x", 20), 0);
    s_teardown (&m);
}
END_TEST

//  Which queued updates ask for an immediate relay (gossip.md,
//  "Dissemination"): suspicions, confirmations, failures, leaves,
//  force-leaves and refutations; not joins, not ignored messages.
START_TEST (test_urgent_updates)
{
    membership_t *m = s_membership ("me");
    ck_assert (!membership_urgent_take (m));            //  our first alive
    const char *peers[] = { "n1", "n2", "n3", "n4" };
    for (int i = 0; i < 4; i++)
        s_apply_alive (m, peers[i], 1, "10.0.0.1", 0);
    ck_assert (!membership_urgent_take (m));
    ck_assert_int_eq (membership_on_suspect (m, 1, "n1", "n2", 0), 1);
    ck_assert (membership_urgent_take (m));
    ck_assert (!membership_urgent_take (m));            //  taken once
    ck_assert_int_eq (membership_on_suspect (m, 1, "n1", "n2", 0), 0);
    ck_assert (!membership_urgent_take (m));            //  repeated: ignored
    ck_assert_int_eq (membership_on_suspect (m, 1, "n1", "n3", 0), 1);
    ck_assert (membership_urgent_take (m));             //  confirmation
    membership_suspect_local (m, "n2", 0);
    ck_assert (membership_urgent_take (m));             //  our own probe failed
    ck_assert_int_eq (membership_on_dead (m, 1, "n1", "n3", 0), 1);
    ck_assert (membership_urgent_take (m));
    ck_assert_int_eq (membership_on_dead (m, 1, "n1", "n3", 0), 0);
    ck_assert (!membership_urgent_take (m));
    ck_assert_int_eq (membership_on_dead (m, 1, "n3", "n3", 0), 1);
    ck_assert (membership_urgent_take (m));             //  a leave
    ck_assert_int_eq (membership_force_leave (m, "n4", false, 0), 1);
    ck_assert (membership_urgent_take (m));
    ck_assert_int_eq (s_apply_alive (m, "n4", 2, "10.0.0.1", 0), 1);
    ck_assert (!membership_urgent_take (m));            //  rejoin: periodic
    ck_assert_int_eq (membership_on_suspect (m, 100, "me", "n2", 0), 1);
    ck_assert (membership_urgent_take (m));             //  refutation
    membership_leave (m);
    ck_assert (membership_urgent_take (m));             //  our own leave
    s_teardown (&m);
}
END_TEST

//  N (memberlist's estimate) counts failed and left members only for the
//  gossip-to-the-dead time; the suspicion timeouts follow it.
START_TEST (test_estimate)
{
    membership_t *m = s_membership ("me");
    for (int i = 1; i <= 12; i++) {
        char name[16];
        snprintf (name, sizeof name, "n%d", i);
        s_apply_alive (m, name, 1, "10.0.0.1", 0);
    }
    ck_assert_uint_eq (membership_estimate (m, 0), 13);
    ck_assert_int_eq (membership_on_dead (m, 1, "n1", "n2", 1000), 1);
    ck_assert_int_eq (membership_on_dead (m, 1, "n2", "n2", 1000), 1);      //  left
    ck_assert_int_eq (membership_force_leave (m, "n3", false, 1000), 1);
    ck_assert_uint_eq (membership_estimate (m, 3999), 13);
    ck_assert_uint_eq (membership_estimate (m, 4000), 10);
    ck_assert_uint_eq (membership_alive_count (m), 10);
    //  N = 10: min = 4 x log10(10) x 1 s = 4 s, max = 24 s (N = 13 gave
    //  4.456 s and 26.736 s).
    ck_assert_int_eq (membership_on_suspect (m, 1, "n4", "n5", 4000), 1);
    member_t *n4 = members_lookup (membership_members (m), "n4");
    ck_assert_int_eq (suspicion_deadline (n4->suspicion), 4000 + 24000);
    //  A failed member back alive counts again at once.
    ck_assert_int_eq (s_apply_alive (m, "n1", 2, "10.0.0.1", 5000), 1);
    ck_assert_uint_eq (membership_estimate (m, 5000), 11);
    s_teardown (&m);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_membership");
    TCase *rules = tcase_create ("rules");
    tcase_set_timeout (rules, 10);
    tcase_add_test (rules, test_alive_join_update_conflict);
    tcase_add_test (rules, test_refutation);
    tcase_add_test (rules, test_left_and_failed);
    tcase_add_test (rules, test_force_leave_prune_tombstone);
    tcase_add_test (rules, test_leave);
    tcase_add_test (rules, test_urgent_updates);
    suite_add_tcase (suite, rules);
    TCase *timers = tcase_create ("timers");
    tcase_set_timeout (timers, 10);
    tcase_add_test (timers, test_suspicion_to_failed);
    tcase_add_test (timers, test_reaping);
    tcase_add_test (timers, test_estimate);
    suite_add_tcase (suite, timers);
    TCase *state = tcase_create ("push_pull");
    tcase_set_timeout (state, 10);
    tcase_add_test (state, test_push_pull_state);
    suite_add_tcase (suite, state);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
