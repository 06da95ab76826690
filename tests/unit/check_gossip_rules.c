/*  Unit tests of the pools' acceptance rules (gossipd/rules.c, Consul's
    merge delegates), spec docs/protocol/gossip.md "Pool rules". */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "../../gossipd/packet.h"
#include "../../gossipd/rules.h"

static size_t
s_tags (uint8_t *buf, const packet_tag_t *list, size_t count)
{
    int len = packet_tags_encode (list, count, buf, PACKET_TAGS_MAX);
    ck_assert_int_ge (len, 0);
    return (size_t) len;
}

START_TEST (test_lan)
{
    rules_t *rules = rules_new (false, "me", "11111111-aaaa", "dc1");
    ck_assert_ptr_nonnull (rules);
    uint8_t tags[PACKET_TAGS_MAX];
    char err[256] = "";
    packet_tag_t good[2] = { { "dc", "dc1" }, { "id", "22222222-bbbb" } };
    size_t len = s_tags (tags, good, 2);
    ck_assert_int_eq (rules_accept (rules, "n1", tags, len, err, sizeof err), 0);
    //  No tags at all (no dc, no id): nothing to refuse.
    ck_assert_int_eq (rules_accept (rules, "n1", tags, 0, err, sizeof err), 0);
    packet_tag_t other_dc[1] = { { "dc", "dc2" } };
    len = s_tags (tags, other_dc, 1);
    ck_assert_int_eq (rules_accept (rules, "n2", tags, len, err, sizeof err), -1);
    ck_assert_str_eq (err, "Member 'n2' part of wrong datacenter 'dc2'");
    //  Our node id under another name (case-insensitive), and under ours.
    packet_tag_t our_id[2] = { { "dc", "dc1" }, { "id", "11111111-AAAA" } };
    len = s_tags (tags, our_id, 2);
    ck_assert_int_eq (rules_accept (rules, "n3", tags, len, err, sizeof err), -1);
    ck_assert_str_eq (err, "Member 'n3' has conflicting node ID '11111111-AAAA' "
                           "with this agent's ID");
    ck_assert_int_eq (rules_accept (rules, "me", tags, len, err, sizeof err), 0);
    rules_destroy (&rules);
    rules_destroy (&rules);
    ck_assert_ptr_null (rules);
}
END_TEST

START_TEST (test_wan)
{
    rules_t *rules = rules_new (true, "me.dc1", "11111111-aaaa", "dc1");
    uint8_t tags[PACKET_TAGS_MAX];
    char err[256] = "";
    packet_tag_t server[4] = { { "role", "consul" }, { "dc", "dc2" }, { "port", "8300" },
                               { "vsn", "2" } };
    size_t len = s_tags (tags, server, 4);
    ck_assert_int_eq (rules_accept (rules, "s1.dc2", tags, len, err, sizeof err), 0);
    //  Each missing or malformed server tag refuses the member.
    const char *bad[][2] = { { "role", "node" }, { "dc", "" }, { "port", "83x0" },
                             { "vsn", "" } };
    for (int i = 0; i < 4; i++) {
        packet_tag_t list[4];
        memcpy (list, server, sizeof list);
        snprintf (list[i].value, sizeof list[i].value, "%s", bad[i][1]);
        len = s_tags (tags, list, 4);
        err[0] = 0;
        ck_assert_int_eq (rules_accept (rules, "c1.dc2", tags, len, err, sizeof err), -1);
        ck_assert_str_eq (err, "Member 'c1.dc2' is not a server");
    }
    len = s_tags (tags, server, 3);                     //  no vsn
    ck_assert_int_eq (rules_accept (rules, "c1.dc2", tags, len, err, sizeof err), -1);
    rules_destroy (&rules);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_rules");
    TCase *lan = tcase_create ("lan");
    tcase_set_timeout (lan, 10);
    tcase_add_test (lan, test_lan);
    suite_add_tcase (suite, lan);
    TCase *wan = tcase_create ("wan");
    tcase_set_timeout (wan, 10);
    tcase_add_test (wan, test_wan);
    suite_add_tcase (suite, wan);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
