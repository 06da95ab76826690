/*  Unit tests of SWIM probing with Lifeguard local health
    (gossipd/probe.c), spec docs/protocol/gossip.md "Probing". The hooks
    record what the pool would send. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../gossipd/probe.h"

typedef struct {
    int pings;
    char pinged[8][PACKET_NAME_MAX + 1];
    uint32_t ping_seq;
    int relay_pings;
    uint32_t relay_seq;
    int indirects;
    int acks;
    uint32_t ack_seq;
    int nacks;
    uint32_t nack_seq;
    int failed;
    int acked;
    int64_t rtt_us;
} record_t;

static record_t rec;

static void
s_ping (void *arg, const member_t *target, uint32_t seq)
{
    if (rec.pings < 8)
        snprintf (rec.pinged[rec.pings], sizeof rec.pinged[0], "%s", target->name);
    rec.pings++;
    rec.ping_seq = seq;
}

static void
s_relay_ping (void *arg, const packet_addr_t *addr, const char *name, uint32_t seq)
{
    rec.relay_pings++;
    rec.relay_seq = seq;
}

static void
s_indirect (void *arg, const member_t *via, const member_t *target, uint32_t seq)
{
    rec.indirects++;
    ck_assert_str_ne (via->name, "me");
    ck_assert_str_ne (via->name, target->name);
}

static void
s_ack (void *arg, const packet_addr_t *to, uint32_t seq)
{
    rec.acks++;
    rec.ack_seq = seq;
}

static void
s_nack (void *arg, const packet_addr_t *to, uint32_t seq)
{
    rec.nacks++;
    rec.nack_seq = seq;
}

static void
s_failed (void *arg, const char *target)
{
    rec.failed++;
}

static void
s_acked (void *arg, const char *target, int64_t rtt_us, const vivaldi_coord_t *coord)
{
    rec.acked++;
    rec.rtt_us = rtt_us;
}

static members_t *
s_members (int count)
{
    members_t *members = members_new ();
    members_insert (members, "me");
    for (int i = 0; i < count; i++) {
        char name[16];
        snprintf (name, sizeof name, "p%d", i);
        member_t *member = members_insert (members, name);
        packet_addr_parse ("127.0.0.1", (uint16_t) (9000 + i), &member->addr);
    }
    return members;
}

static probe_t *
s_probe (void)
{
    memset (&rec, 0, sizeof rec);
    probe_config_t config = { "me", 1000, 500 };
    probe_hooks_t hooks = { s_ping, s_relay_ping, s_indirect, s_ack, s_nack, s_failed,
                            s_acked, NULL };
    return probe_new (&config, &hooks);
}

static packet_msg_t *
s_ack_msg (uint32_t seq, bool coord)
{
    packet_msg_t *msg = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    msg->type = PACKET_ACK;
    msg->seq = seq;
    if (coord) {
        msg->flags = PACKET_FLAG_HAS_COORD;
        vivaldi_coord_init (&msg->coord);
    }
    return msg;
}

START_TEST (test_round_robin)
{
    members_t *members = s_members (3);
    probe_t *probe = s_probe ();
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq (probe_tick (probe, members, i * 1000), i * 1000 + 500);
        packet_msg_t *ack = s_ack_msg (rec.ping_seq, true);
        probe_on_ack (probe, ack, i * 1000 + 5);
        free (ack);
    }
    //  Every member once per pass, never ourselves.
    ck_assert_int_eq (rec.pings, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_ne (rec.pinged[i], "me");
        for (int j = 0; j < i; j++)
            ck_assert_str_ne (rec.pinged[i], rec.pinged[j]);
    }
    ck_assert_int_eq (rec.acked, 3);
    ck_assert_int_eq (rec.failed, 0);
    ck_assert_int_eq (probe_awareness (probe), 0);
    //  Failed and left members are skipped.
    for (int i = 0; i < 3; i++)
        members_at (members, (size_t) i + 1)->state = i == 0 ? MEMBER_ALIVE : MEMBER_DEAD;
    probe_tick (probe, members, 3000);
    probe_tick (probe, members, 4000);
    ck_assert_str_eq (rec.pinged[3], members_at (members, 1)->name);
    ck_assert_str_eq (rec.pinged[4], members_at (members, 1)->name);
    ck_assert_uint_eq (probe_count (probe), 5);
    probe_destroy (&probe);
    members_destroy (&members);
}
END_TEST

START_TEST (test_indirect_and_awareness)
{
    members_t *members = s_members (4);
    probe_t *probe = s_probe ();
    probe_tick (probe, members, 0);
    uint32_t seq = rec.ping_seq;
    //  No ack within the timeout: k = 3 indirect probes.
    ck_assert_int_eq (probe_tick (probe, members, 499), 500);
    ck_assert_int_eq (rec.indirects, 0);
    ck_assert_int_eq (probe_tick (probe, members, 500), 1000);
    ck_assert_int_eq (rec.indirects, 3);
    probe_on_nack (probe, seq);
    probe_on_nack (probe, seq + 77);        //  not ours
    //  End of the period without an ack: suspect; health += 3 - 1 nacks.
    probe_tick (probe, members, 1000);
    ck_assert_int_eq (rec.failed, 1);
    ck_assert_int_eq (probe_awareness (probe), 2);
    ck_assert_uint_eq (probe_failures (probe), 1);
    //  The tick at 1000 starts the next probe; its period is scaled by the
    //  multiplier (awareness + 1), its timeout is not.
    ck_assert_int_eq (rec.pings, 2);
    int64_t next = probe_tick (probe, members, 1001);
    ck_assert_int_eq (next, 1000 + 500);
    probe_tick (probe, members, 1500);
    //  Next: the tick at 2000 (the probe runs until 1000 + 1000 * 3).
    ck_assert_int_eq (probe_tick (probe, members, 1501), 2000);
    ck_assert_int_eq (probe_tick (probe, members, 2000), 3000);
    ck_assert_int_eq (rec.pings, 2);
    //  An ack through an indirect probe (no coordinate) ends the probe and
    //  lowers health (any ack, as memberlist); the tick that came meanwhile
    //  starts the next probe at once.
    seq = rec.ping_seq;
    packet_msg_t *ack = s_ack_msg (seq, false);
    probe_on_ack (probe, ack, 2600);
    free (ack);
    ck_assert_int_eq (probe_awareness (probe), 1);
    ck_assert_int_eq (rec.acked, 0);
    probe_tick (probe, members, 2600);
    ck_assert_int_eq (rec.pings, 3);
    //  A direct ack in time lowers it too, and reports the RTT.
    ack = s_ack_msg (rec.ping_seq, true);
    probe_on_ack (probe, ack, 2601);
    free (ack);
    ck_assert_int_eq (probe_awareness (probe), 0);
    ck_assert_int_eq (rec.acked, 1);
    ck_assert_int_ge (rec.rtt_us, 0);
    //  Acked: the next probe waits for the next tick.
    ck_assert_int_eq (probe_tick (probe, members, 2602), 3000);
    ck_assert_int_eq (rec.pings, 3);
    //  Bounds: 0..7.
    probe_awareness_add (probe, 100);
    ck_assert_int_eq (probe_awareness (probe), PROBE_AWARENESS_MAX - 1);
    probe_awareness_add (probe, -100);
    ck_assert_int_eq (probe_awareness (probe), 0);
    probe_destroy (&probe);
    members_destroy (&members);
}
END_TEST

START_TEST (test_probe_clock)
{
    members_t *members = s_members (4);
    probe_t *probe = s_probe ();
    //  The first tick is where the pool staggered it.
    probe_start_at (probe, 250);
    ck_assert_int_eq (probe_tick (probe, members, 0), 250);
    ck_assert_int_eq (rec.pings, 0);
    probe_tick (probe, members, 250);
    ck_assert_int_eq (rec.pings, 1);
    probe_start_at (probe, 5000);                       //  too late: ignored
    //  Bad health: a probe without ack runs 4 intervals; the ticks at
    //  2250, 3250 and 4250 collapse into one, served when it ends.
    probe_awareness_add (probe, 3);
    packet_msg_t *ack = s_ack_msg (rec.ping_seq, true);
    probe_on_ack (probe, ack, 260);
    free (ack);
    ck_assert_int_eq (probe_awareness (probe), 2);
    probe_awareness_add (probe, 1);
    probe_tick (probe, members, 1250);
    ck_assert_int_eq (rec.pings, 2);
    probe_tick (probe, members, 1750);                  //  indirect probes
    probe_tick (probe, members, 2250);
    probe_tick (probe, members, 3250);
    ck_assert_int_eq (rec.pings, 2);
    ck_assert_int_eq (probe_tick (probe, members, 4000), 4250);
    ck_assert_int_eq (rec.pings, 2);
    //  Ends at 1250 + 4000 = 5250: failed, and the pending tick starts the
    //  next probe at once; the clock keeps its phase.
    ck_assert_int_eq (probe_tick (probe, members, 5250), 5750);
    ck_assert_int_eq (rec.failed, 1);
    ck_assert_int_eq (rec.pings, 3);
    ack = s_ack_msg (rec.ping_seq, true);
    probe_on_ack (probe, ack, 5260);
    free (ack);
    ck_assert_int_eq (probe_tick (probe, members, 5261), 6250);
    ck_assert_int_eq (rec.pings, 3);
    probe_tick (probe, members, 6250);
    ck_assert_int_eq (rec.pings, 4);
    probe_destroy (&probe);
    members_destroy (&members);
}
END_TEST

START_TEST (test_no_peers_for_indirect)
{
    members_t *members = s_members (1);
    probe_t *probe = s_probe ();
    probe_tick (probe, members, 0);
    probe_tick (probe, members, 500);
    ck_assert_int_eq (rec.indirects, 0);
    probe_tick (probe, members, 1000);
    ck_assert_int_eq (rec.failed, 1);
    ck_assert_int_eq (probe_awareness (probe), 1);      //  no nack peers: +1
    //  The next probe (same member) ends after it was declared failed:
    //  that costs us nothing, and failed members are not probed.
    ck_assert_int_eq (rec.pings, 2);
    members_at (members, 1)->state = MEMBER_DEAD;
    probe_tick (probe, members, 3000);
    probe_tick (probe, members, 5000);
    ck_assert_int_eq (rec.pings, 2);
    ck_assert_int_eq (rec.failed, 1);
    ck_assert_int_eq (probe_awareness (probe), 1);
    probe_destroy (&probe);
    members_destroy (&members);
}
END_TEST

START_TEST (test_relay)
{
    members_t *members = s_members (2);
    probe_t *probe = s_probe ();
    packet_msg_t *request = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    request->type = PACKET_INDIRECT_PING;
    request->seq = 4242;
    request->flags = PACKET_FLAG_WANT_NACK;
    strcpy (request->node, "p1");
    packet_addr_parse ("127.0.0.1:9001", 1, &request->addr);
    packet_addr_t requester;
    packet_addr_parse ("127.0.0.9:8301", 1, &requester);
    probe_on_indirect (probe, request, &requester, 0);
    ck_assert_int_eq (rec.relay_pings, 1);
    packet_msg_t *ack = s_ack_msg (rec.relay_seq, true);
    probe_on_ack (probe, ack, 10);
    free (ack);
    ck_assert_int_eq (rec.acks, 1);
    ck_assert_uint_eq (rec.ack_seq, 4242);
    //  Without an ack the relay nacks after its probe timeout.
    request->seq = 4343;
    probe_on_indirect (probe, request, &requester, 1000);
    probe_stop (probe);
    ck_assert_int_eq (probe_tick (probe, members, 1499), 1500);
    ck_assert_int_eq (rec.nacks, 0);
    ck_assert_int_eq (probe_tick (probe, members, 1500), INT64_MAX);
    ck_assert_int_eq (rec.nacks, 1);
    ck_assert_uint_eq (rec.nack_seq, 4343);
    ck_assert_int_eq (rec.pings, 0);                    //  stopped: no probes
    free (request);
    probe_destroy (&probe);
    members_destroy (&members);
}
END_TEST

START_TEST (test_add_member)
{
    members_t *members = s_members (1);
    probe_t *probe = s_probe ();
    probe_tick (probe, members, 0);
    member_t *added = members_insert (members, "new");
    packet_addr_parse ("127.0.0.1:9999", 1, &added->addr);
    probe_add (probe, "new");
    probe_tick (probe, members, 1000);
    ck_assert_str_eq (rec.pinged[1], "new");
    probe_destroy (&probe);
    members_destroy (&members);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_probe");
    TCase *tc = tcase_create ("probing");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_round_robin);
    tcase_add_test (tc, test_indirect_and_awareness);
    tcase_add_test (tc, test_probe_clock);
    tcase_add_test (tc, test_no_peers_for_indirect);
    tcase_add_test (tc, test_add_member);
    suite_add_tcase (suite, tc);
    TCase *relay = tcase_create ("relay");
    tcase_set_timeout (relay, 10);
    tcase_add_test (relay, test_relay);
    suite_add_tcase (suite, relay);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
