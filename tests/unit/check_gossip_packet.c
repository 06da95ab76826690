/*  Unit tests of the gossip codec (gossipd/packet.c), spec
    docs/protocol/gossip.md "Packet grammar" and "Validation": every message
    round-trips, and every malformed form is rejected with its reason. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../gossipd/packet.h"
#include "../../gossipd/keyring.h"

static packet_msg_t *
s_msg (packet_type_t type)
{
    packet_msg_t *msg = (packet_msg_t *) calloc (1, sizeof (packet_msg_t));
    msg->type = type;
    return msg;
}

static void
s_tags (packet_msg_t *msg)
{
    packet_tag_t tags[2] = { { "role", "consul" }, { "dc", "dc1" } };
    int len = packet_tags_encode (tags, 2, msg->tags, sizeof msg->tags);
    ck_assert_int_gt (len, 0);
    msg->tags_len = (size_t) len;
}

//  Encodes msg, decodes it back (on transport) and returns the copy.
static packet_msg_t *
s_roundtrip (const packet_msg_t *msg, packet_transport_t transport)
{
    uint8_t buf[4096];
    int len = packet_msg_encode (msg, buf, sizeof buf);
    ck_assert_int_gt (len, 0);
    packet_msg_t *back = s_msg (PACKET_PING);
    packet_drop_t drop;
    ck_assert_int_eq (packet_msg_decode (buf, (size_t) len, transport, back, &drop), len);
    ck_assert_int_eq (back->type, msg->type);
    return back;
}

START_TEST (test_roundtrip_probe_messages)
{
    packet_msg_t *msg = s_msg (PACKET_PING);
    msg->seq = 0xDEADBEEF;
    strcpy (msg->node, "target");
    strcpy (msg->from, "n1");
    packet_msg_t *back = s_roundtrip (msg, PACKET_UDP);
    ck_assert_uint_eq (back->seq, 0xDEADBEEF);
    ck_assert_str_eq (back->node, "target");
    ck_assert_str_eq (back->from, "n1");
    free (back);

    msg->type = PACKET_INDIRECT_PING;
    msg->flags = PACKET_FLAG_WANT_NACK;
    ck_assert_int_eq (packet_addr_parse ("[::1]:8301", 1, &msg->addr), 0);
    back = s_roundtrip (msg, PACKET_UDP);
    ck_assert_int_eq (back->flags, PACKET_FLAG_WANT_NACK);
    ck_assert (packet_addr_equal (&back->addr, &msg->addr));
    free (back);

    msg->type = PACKET_ACK;
    msg->flags = PACKET_FLAG_HAS_COORD;
    vivaldi_coord_init (&msg->coord);
    msg->coord.vec[3] = -0.25;
    msg->coord.adjustment = -1e-5;
    back = s_roundtrip (msg, PACKET_UDP);
    ck_assert (back->coord.vec[3] == -0.25);
    ck_assert (back->coord.error == VIVALDI_ERROR_MAX);
    ck_assert (back->coord.adjustment == -1e-5);
    free (back);

    msg->type = PACKET_NACK;
    back = s_roundtrip (msg, PACKET_UDP);
    ck_assert_uint_eq (back->seq, 0xDEADBEEF);
    free (back);
    free (msg);
}
END_TEST

START_TEST (test_roundtrip_state_messages)
{
    packet_msg_t *msg = s_msg (PACKET_ALIVE);
    msg->incarnation = 1795239284;
    strcpy (msg->node, "n2");
    packet_addr_parse ("127.0.3.2", 8301, &msg->addr);
    s_tags (msg);
    packet_msg_t *back = s_roundtrip (msg, PACKET_UDP);
    ck_assert_uint_eq (back->incarnation, 1795239284);
    ck_assert_uint_eq (back->addr.port, 8301);
    char value[64];
    ck_assert_int_eq (packet_tags_get (back->tags, back->tags_len, "dc", value, sizeof value), 0);
    ck_assert_str_eq (value, "dc1");
    free (back);

    msg->type = PACKET_STATE;
    msg->state = PACKET_STATE_LEFT;
    back = s_roundtrip (msg, PACKET_TCP);
    ck_assert_int_eq (back->state, PACKET_STATE_LEFT);
    free (back);

    msg->type = PACKET_SUSPECT;
    strcpy (msg->from, "n1");
    back = s_roundtrip (msg, PACKET_UDP);
    ck_assert_str_eq (back->from, "n1");
    free (back);
    msg->type = PACKET_DEAD;
    free (s_roundtrip (msg, PACKET_UDP));
    msg->type = PACKET_FORCE_LEAVE;
    msg->flags = PACKET_FLAG_PRUNE;
    back = s_roundtrip (msg, PACKET_UDP);
    ck_assert_int_eq (back->flags, PACKET_FLAG_PRUNE);
    ck_assert_uint_eq (back->incarnation, 1795239284);
    free (back);

    msg->type = PACKET_PUSH_PULL;
    msg->flags = PACKET_FLAG_JOIN;
    msg->count = 3;
    back = s_roundtrip (msg, PACKET_TCP);
    ck_assert_uint_eq (back->count, 3);
    free (back);
    msg->type = PACKET_ERROR;
    strcpy (msg->text, "Member 'x' part of wrong datacenter 'dc2'");
    back = s_roundtrip (msg, PACKET_TCP);
    ck_assert_str_eq (back->text, msg->text);
    free (back);
    free (msg);
}
END_TEST

START_TEST (test_roundtrip_key_messages)
{
    packet_msg_t *msg = s_msg (PACKET_KEY_OP);
    msg->id = 0x0102030405060708ULL;
    msg->op = PACKET_OP_INSTALL;
    msg->key_len = 32;
    memset (msg->key, 7, 32);
    packet_addr_parse ("10.0.0.1:8301", 1, &msg->addr);
    strcpy (msg->from, "n1");
    packet_msg_t *back = s_roundtrip (msg, PACKET_UDP);
    ck_assert (back->id == 0x0102030405060708ULL);
    ck_assert_uint_eq (back->key_len, 32);
    ck_assert_int_eq (memcmp (back->key, msg->key, 32), 0);
    free (back);
    msg->op = PACKET_OP_LIST;       //  list with a key is malformed
    uint8_t buf[512];
    ck_assert_int_eq (packet_msg_encode (msg, buf, sizeof buf), -1);
    msg->key_len = 0;
    free (s_roundtrip (msg, PACKET_UDP));

    msg->type = PACKET_KEY_REPLY;
    msg->flags = PACKET_FLAG_OK;
    strcpy (msg->node, "n3");
    strcpy (msg->text, "");
    msg->key_count = 2;
    msg->key_lens[0] = 16;
    msg->key_lens[1] = 24;
    back = s_roundtrip (msg, PACKET_UDP);
    ck_assert_uint_eq (back->key_count, 2);
    ck_assert_uint_eq (back->key_lens[1], 24);
    free (back);
    free (msg);
}
END_TEST

//  The first message bytes of a valid ping, for corrupting.
static int
s_ping_bytes (uint8_t *buf, size_t size)
{
    packet_msg_t *msg = s_msg (PACKET_PING);
    msg->seq = 1;
    strcpy (msg->node, "abc");
    strcpy (msg->from, "def");
    int len = packet_msg_encode (msg, buf, size);
    free (msg);
    return len;
}

static packet_drop_t
s_decode_fails (const uint8_t *buf, size_t len, packet_transport_t transport)
{
    packet_msg_t *msg = s_msg (PACKET_PING);
    packet_drop_t drop = PACKET_DROP_COUNT;
    ck_assert_int_eq (packet_msg_decode (buf, len, transport, msg, &drop), -1);
    free (msg);
    ck_assert_int_ne (drop, PACKET_DROP_COUNT);
    return drop;
}

START_TEST (test_malformed_messages)
{
    uint8_t buf[600];
    int len = s_ping_bytes (buf, sizeof buf);
    //  Truncated: every shorter prefix fails, never reads past the end.
    for (int cut = 0; cut < len; cut++) {
        uint8_t *copy = (uint8_t *) malloc ((size_t) cut + 1);
        memcpy (copy, buf, (size_t) cut);
        packet_drop_t drop = s_decode_fails (copy, (size_t) cut, PACKET_UDP);
        ck_assert (drop == PACKET_DROP_TRUNCATED || drop == PACKET_DROP_LENGTH);
        free (copy);
    }
    //  Unknown type, and a TCP-only type on UDP (and the reverse).
    buf[0] = 0x7F;
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_UDP), PACKET_DROP_TYPE);
    buf[0] = PACKET_STATE;
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_UDP), PACKET_DROP_TYPE);
    buf[0] = PACKET_PING;
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_TCP), PACKET_DROP_TYPE);
    //  Payload length longer than the fields (trailing bytes).
    uint8_t longer[600];
    memcpy (longer, buf, (size_t) len);
    longer[len] = 0;
    longer[2] = (uint8_t) (longer[2] + 1);
    ck_assert_int_eq (s_decode_fails (longer, (size_t) len + 1, PACKET_UDP), PACKET_DROP_LENGTH);
    //  Payload length shorter than the fields.
    memcpy (longer, buf, (size_t) len);
    longer[2] = (uint8_t) (longer[2] - 1);
    ck_assert_int_eq (s_decode_fails (longer, (size_t) len - 1, PACKET_UDP), PACKET_DROP_LENGTH);
    //  Length past the end of the body.
    memcpy (longer, buf, (size_t) len);
    longer[1] = 0x10;
    ck_assert_int_eq (s_decode_fails (longer, (size_t) len, PACKET_UDP), PACKET_DROP_TRUNCATED);
    //  Name of length 0, and with a control character.
    memcpy (longer, buf, (size_t) len);
    longer[7] = 0;
    ck_assert_int_eq (s_decode_fails (longer, (size_t) len, PACKET_UDP), PACKET_DROP_FIELD);
    memcpy (longer, buf, (size_t) len);
    longer[8] = '\n';
    ck_assert_int_eq (s_decode_fails (longer, (size_t) len, PACKET_UDP), PACKET_DROP_FIELD);
}
END_TEST

START_TEST (test_malformed_fields)
{
    uint8_t buf[1024];
    packet_msg_t *msg = s_msg (PACKET_INDIRECT_PING);
    msg->seq = 9;
    strcpy (msg->node, "t");
    strcpy (msg->from, "f");
    packet_addr_parse ("1.2.3.4:5", 1, &msg->addr);
    int len = packet_msg_encode (msg, buf, sizeof buf);
    //  payload: seq(4) flags(1) family(1) ...
    buf[3 + 4] = 0x02;                          //  reserved flag bit
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_UDP), PACKET_DROP_FIELD);
    buf[3 + 4] = 0x01;
    buf[3 + 5] = 5;                             //  address family 5
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_UDP), PACKET_DROP_FIELD);
    buf[3 + 5] = 4;
    buf[3 + 10] = 0;                            //  port 0
    buf[3 + 11] = 0;
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_UDP), PACKET_DROP_FIELD);

    //  Bad state value in a state message.
    msg->type = PACKET_STATE;
    msg->state = PACKET_STATE_ALIVE;
    strcpy (msg->node, "n");
    s_tags (msg);
    len = packet_msg_encode (msg, buf, sizeof buf);
    buf[3 + 4] = 9;
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_TCP), PACKET_DROP_FIELD);

    //  Non-finite coordinate in an ack.
    msg->type = PACKET_ACK;
    msg->flags = PACKET_FLAG_HAS_COORD;
    vivaldi_coord_init (&msg->coord);
    msg->coord.height = NAN;
    len = packet_msg_encode (msg, buf, sizeof buf);
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_UDP), PACKET_DROP_FIELD);
    msg->coord.height = INFINITY;
    len = packet_msg_encode (msg, buf, sizeof buf);
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_UDP), PACKET_DROP_FIELD);

    //  Gossip key of a bad size, and an op out of range.
    msg->type = PACKET_KEY_OP;
    msg->op = PACKET_OP_USE;
    msg->key_len = 16;
    strcpy (msg->from, "f");
    len = packet_msg_encode (msg, buf, sizeof buf);
    buf[3 + 9] = 17;
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_UDP), PACKET_DROP_FIELD);
    buf[3 + 9] = 16;
    buf[3 + 8] = 5;
    ck_assert_int_eq (s_decode_fails (buf, (size_t) len, PACKET_UDP), PACKET_DROP_FIELD);
    free (msg);
}
END_TEST

START_TEST (test_tags)
{
    packet_tag_t tags[3] = { { "role", "node" }, { "dc", "dc1" }, { "role", "x" } };
    uint8_t out[PACKET_TAGS_MAX];
    ck_assert_int_eq (packet_tags_encode (tags, 3, out, sizeof out), -1);   //  duplicate key
    int len = packet_tags_encode (tags, 2, out, sizeof out);
    ck_assert_int_gt (len, 0);
    cJSON *json = packet_tags_json (out, (size_t) len);
    ck_assert_str_eq (cJSON_GetObjectItem (json, "role")->valuestring, "node");
    cJSON_Delete (json);
    char value[8];
    ck_assert_int_eq (packet_tags_get (out, (size_t) len, "missing", value, sizeof value), -1);

    //  Over 512 bytes encoded.
    packet_tag_t *big = (packet_tag_t *) calloc (3, sizeof (packet_tag_t));
    for (int i = 0; i < 3; i++) {
        snprintf (big[i].key, sizeof big[i].key, "k%d", i);
        memset (big[i].value, 'v', 200);
    }
    ck_assert_int_eq (packet_tags_encode (big, 3, out, sizeof out), -1);
    free (big);

    //  Duplicate keys on the wire are rejected by the decoder.
    packet_msg_t *msg = s_msg (PACKET_ALIVE);
    strcpy (msg->node, "n");
    packet_addr_parse ("1.1.1.1", 1, &msg->addr);
    const uint8_t dup[] = { 2, 1, 'a', 1, 'x', 1, 'a', 1, 'y' };
    memcpy (msg->tags, dup, sizeof dup);
    msg->tags_len = sizeof dup;
    uint8_t buf[700];
    int msg_len = packet_msg_encode (msg, buf, sizeof buf);
    ck_assert_int_eq (s_decode_fails (buf, (size_t) msg_len, PACKET_UDP), PACKET_DROP_FIELD);
    //  A tag count promising more pairs than there are bytes.
    const uint8_t short_tags[] = { 3, 1, 'a', 1, 'x' };
    memcpy (msg->tags, short_tags, sizeof short_tags);
    msg->tags_len = sizeof short_tags;
    msg_len = packet_msg_encode (msg, buf, sizeof buf);
    s_decode_fails (buf, (size_t) msg_len, PACKET_UDP);
    free (msg);
}
END_TEST

START_TEST (test_addresses)
{
    packet_addr_t addr;
    char text[64];
    ck_assert_int_eq (packet_addr_parse ("127.0.3.1", 8301, &addr), 0);
    packet_addr_format (&addr, text, sizeof text);
    ck_assert_str_eq (text, "127.0.3.1:8301");
    ck_assert_int_eq (packet_addr_parse ("127.0.3.1:9", 8301, &addr), 0);
    ck_assert_uint_eq (addr.port, 9);
    ck_assert_int_eq (packet_addr_parse ("::1", 8302, &addr), 0);
    packet_addr_format (&addr, text, sizeof text);
    ck_assert_str_eq (text, "[::1]:8302");
    ck_assert_int_eq (packet_addr_parse ("[fe80::2]:7", 8302, &addr), 0);
    ck_assert_uint_eq (addr.port, 7);
    const char *bad[] = { "", "host.example", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:",
                          "1.2.3.4:x", "[::1", "[::1]x", "1.2.3.4:-1", "1.2.3.256" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (packet_addr_parse (bad[i], 1, &addr) == -1, "accepted %s", bad[i]);
    struct sockaddr_storage sa;
    socklen_t sa_len;
    packet_addr_parse ("10.1.2.3:44", 1, &addr);
    ck_assert_int_eq (packet_addr_to_sockaddr (&addr, &sa, &sa_len), 0);
    packet_addr_t back;
    ck_assert_int_eq (packet_addr_from_sockaddr ((struct sockaddr *) &sa, sa_len, &back), 0);
    ck_assert (packet_addr_equal (&addr, &back));
}
END_TEST

static int
s_ping_body (uint8_t *body)
{
    return s_ping_bytes (body, 600);
}

START_TEST (test_datagram_plain)
{
    uint8_t body[600], datagram[700], out[700];
    int len = s_ping_body (body);
    int size = packet_wrap (NULL, body, (size_t) len, datagram, sizeof datagram);
    ck_assert_int_eq (size, len + PACKET_HEADER_SIZE);
    packet_drop_t drop;
    ck_assert_int_eq (packet_unwrap (NULL, datagram, (size_t) size, PACKET_UDP_MAX, out,
                                     sizeof out, &drop), len);
    ck_assert_int_eq (memcmp (out, body, (size_t) len), 0);
    ck_assert_int_eq (packet_body_check (out, (size_t) len, &drop), 1);
    //  Header damage.
    uint8_t bad[700];
    memcpy (bad, datagram, (size_t) size);
    bad[0] = 'X';
    ck_assert_int_eq (packet_unwrap (NULL, bad, (size_t) size, PACKET_UDP_MAX, out, sizeof out,
                                     &drop), -1);
    ck_assert_int_eq (drop, PACKET_DROP_HEADER);
    memcpy (bad, datagram, (size_t) size);
    bad[2] = 2;
    packet_unwrap (NULL, bad, (size_t) size, PACKET_UDP_MAX, out, sizeof out, &drop);
    ck_assert_int_eq (drop, PACKET_DROP_VERSION);
    memcpy (bad, datagram, (size_t) size);
    bad[3] = 0x80;
    packet_unwrap (NULL, bad, (size_t) size, PACKET_UDP_MAX, out, sizeof out, &drop);
    ck_assert_int_eq (drop, PACKET_DROP_HEADER);
    ck_assert_int_eq (packet_unwrap (NULL, datagram, 3, PACKET_UDP_MAX, out, sizeof out,
                                     &drop), -1);
    ck_assert_int_eq (packet_unwrap (NULL, datagram, 4, PACKET_UDP_MAX, out, sizeof out,
                                     &drop), -1);
    ck_assert_int_eq (drop, PACKET_DROP_TRUNCATED);
    //  Oversize.
    ck_assert_int_eq (packet_unwrap (NULL, datagram, PACKET_UDP_MAX + 1, PACKET_UDP_MAX, out,
                                     sizeof out, &drop), -1);
    ck_assert_int_eq (drop, PACKET_DROP_OVERSIZE);
    //  A body of a valid message followed by garbage fails whole.
    memcpy (bad, body, (size_t) len);
    bad[len] = PACKET_NACK;
    bad[len + 1] = 0;
    ck_assert_int_eq (packet_body_check (bad, (size_t) len + 2, &drop), -1);
    ck_assert_int_eq (packet_body_check (bad, 0, &drop), -1);
}
END_TEST

START_TEST (test_datagram_sealed)
{
    keyring_t *ring = keyring_new ();
    keyring_t *other = keyring_new ();
    uint8_t key[16], key2[16];
    memset (key, 1, sizeof key);
    memset (key2, 2, sizeof key2);
    const char *error;
    keyring_install (ring, key, 16, &error);
    keyring_install (other, key2, 16, &error);
    uint8_t body[600], datagram[700], out[700];
    int len = s_ping_body (body);
    int size = packet_wrap (ring, body, (size_t) len, datagram, sizeof datagram);
    ck_assert_int_eq (size, len + PACKET_HEADER_SIZE + CRYPTO_OVERHEAD);
    packet_drop_t drop;
    ck_assert_int_eq (packet_unwrap (ring, datagram, (size_t) size, PACKET_UDP_MAX, out,
                                     sizeof out, &drop), len);
    ck_assert_int_eq (memcmp (out, body, (size_t) len), 0);
    //  Wrong key, no keyring, plaintext on an encrypted pool.
    ck_assert_int_eq (packet_unwrap (other, datagram, (size_t) size, PACKET_UDP_MAX, out,
                                     sizeof out, &drop), -1);
    ck_assert_int_eq (drop, PACKET_DROP_AUTH);
    ck_assert_int_eq (packet_unwrap (NULL, datagram, (size_t) size, PACKET_UDP_MAX, out,
                                     sizeof out, &drop), -1);
    ck_assert_int_eq (drop, PACKET_DROP_NO_KEYRING);
    uint8_t plain[700];
    int plain_size = packet_wrap (NULL, body, (size_t) len, plain, sizeof plain);
    ck_assert_int_eq (packet_unwrap (ring, plain, (size_t) plain_size, PACKET_UDP_MAX, out,
                                     sizeof out, &drop), -1);
    ck_assert_int_eq (drop, PACKET_DROP_PLAINTEXT);
    //  Any flipped bit (header as AAD, nonce, ciphertext, tag) fails.
    for (int i = 0; i < size; i++) {
        if (i == 0 || i == 1 || i == 2)
            continue;
        uint8_t copy[700];
        memcpy (copy, datagram, (size_t) size);
        copy[i] ^= 0x01;
        ck_assert_int_eq (packet_unwrap (ring, copy, (size_t) size, PACKET_UDP_MAX, out,
                                         sizeof out, &drop), -1);
    }
    //  Truncated seal.
    ck_assert_int_eq (packet_unwrap (ring, datagram, PACKET_HEADER_SIZE + CRYPTO_OVERHEAD,
                                     PACKET_UDP_MAX, out, sizeof out, &drop), -1);
    ck_assert_int_eq (drop, PACKET_DROP_TRUNCATED);
    //  The receiver also opens with a secondary key (rotation).
    keyring_install (other, key, 16, &error);
    ck_assert_int_eq (packet_unwrap (other, datagram, (size_t) size, PACKET_UDP_MAX, out,
                                     sizeof out, &drop), len);
    keyring_destroy (&ring);
    keyring_destroy (&other);
}
END_TEST

//  A push-pull body of count states (declared) and actual states.
static size_t
s_stream (uint8_t *buf, size_t size, uint32_t declared, int actual)
{
    packet_msg_t *msg = s_msg (PACKET_PUSH_PULL);
    msg->count = declared;
    size_t used = (size_t) packet_msg_encode (msg, buf, size);
    msg->type = PACKET_STATE;
    msg->state = PACKET_STATE_ALIVE;
    packet_addr_parse ("1.1.1.1", 1, &msg->addr);
    s_tags (msg);
    for (int i = 0; i < actual; i++) {
        snprintf (msg->node, sizeof msg->node, "n%d", i);
        used += (size_t) packet_msg_encode (msg, buf + used, size - used);
    }
    free (msg);
    return used;
}

START_TEST (test_stream)
{
    uint8_t buf[8192];
    packet_drop_t drop;
    size_t len = s_stream (buf, sizeof buf, 3, 3);
    ck_assert_int_eq (packet_stream_check (buf, len, false, &drop), 0);
    len = s_stream (buf, sizeof buf, 3, 2);
    ck_assert_int_eq (packet_stream_check (buf, len, false, &drop), -1);
    ck_assert_int_eq (drop, PACKET_DROP_STREAM);
    len = s_stream (buf, sizeof buf, 1, 2);
    ck_assert_int_eq (packet_stream_check (buf, len, false, &drop), -1);
    ck_assert_int_eq (packet_stream_check (buf, 0, false, &drop), -1);
    //  An error is a valid reply, not a valid request.
    packet_msg_t *msg = s_msg (PACKET_ERROR);
    strcpy (msg->text, "refused");
    int error_len = packet_msg_encode (msg, buf, sizeof buf);
    ck_assert_int_eq (packet_stream_check (buf, (size_t) error_len, true, &drop), 0);
    ck_assert_int_eq (packet_stream_check (buf, (size_t) error_len, false, &drop), -1);
    //  A state first (no push-pull header) is not a stream.
    msg->type = PACKET_STATE;
    msg->state = PACKET_STATE_ALIVE;
    strcpy (msg->node, "n");
    packet_addr_parse ("1.1.1.1", 1, &msg->addr);
    s_tags (msg);
    int state_len = packet_msg_encode (msg, buf, sizeof buf);
    ck_assert_int_eq (packet_stream_check (buf, (size_t) state_len, true, &drop), -1);
    //  Count above the limit.
    msg->type = PACKET_PUSH_PULL;
    msg->count = PACKET_PUSH_MAX + 1;
    ck_assert_int_eq (packet_msg_encode (msg, buf, sizeof buf), -1);
    free (msg);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_packet");
    TCase *tc = tcase_create ("roundtrip");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_roundtrip_probe_messages);
    tcase_add_test (tc, test_roundtrip_state_messages);
    tcase_add_test (tc, test_roundtrip_key_messages);
    tcase_add_test (tc, test_tags);
    tcase_add_test (tc, test_addresses);
    suite_add_tcase (suite, tc);
    TCase *bad = tcase_create ("malformed");
    tcase_set_timeout (bad, 10);
    tcase_add_test (bad, test_malformed_messages);
    tcase_add_test (bad, test_malformed_fields);
    tcase_add_test (bad, test_stream);
    suite_add_tcase (suite, bad);
    TCase *crypto = tcase_create ("datagram");
    tcase_set_timeout (crypto, 10);
    tcase_add_test (crypto, test_datagram_plain);
    tcase_add_test (crypto, test_datagram_sealed);
    suite_add_tcase (suite, crypto);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
