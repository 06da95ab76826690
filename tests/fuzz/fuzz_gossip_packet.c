/*  libFuzzer target for the gossip codec (gossipd/packet.c) and what the
    daemon does with a packet that decodes: the membership state machine
    and the push-pull merge. Spec: docs/protocol/gossip.md.

    The first input byte picks the path (the rest is the packet):
      0  a UDP datagram on a pool without a keyring, then dispatched
      1  a UDP datagram on a pool with a keyring (AES-GCM)
      2  a UDP body (after the header), checked then dispatched
      3  a TCP body, checked as a request and as a reply, then merged
    Build and run: tests/fuzz/run.sh. */
#include "../../gossipd/keyring.h"
#include "../../gossipd/membership.h"
#include "../../gossipd/packet.h"
#include "log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_accept (void *arg, const char *name, const uint8_t *tags, size_t len, char *err,
          size_t size)
{
    char dc[PACKET_TAG_VALUE_MAX + 1];
    if (packet_tags_get (tags, len, "dc", dc, sizeof dc) == 0 && strcmp (dc, "dc1") != 0) {
        snprintf (err, size, "Member '%s' part of wrong datacenter '%s'", name, dc);
        return -1;
    }
    return 0;
}

static void
s_dispatch (membership_t *membership, const uint8_t *body, size_t len, int64_t now)
{
    packet_msg_t *msg = (packet_msg_t *) malloc (sizeof (packet_msg_t));
    packet_reader_t reader;
    packet_drop_t drop;
    packet_reader_init (&reader, body, len, PACKET_UDP);
    while (packet_reader_next (&reader, msg, &drop) == 1) {
        switch (msg->type) {
            case PACKET_ALIVE:
                membership_on_alive (membership, msg, now);
                cJSON_Delete (packet_tags_json (msg->tags, msg->tags_len));
                break;
            case PACKET_SUSPECT:
                membership_on_suspect (membership, msg->incarnation, msg->node, msg->from, now);
                break;
            case PACKET_DEAD:
                membership_on_dead (membership, msg->incarnation, msg->node, msg->from, now);
                break;
            case PACKET_FORCE_LEAVE:
                membership_on_force_leave (membership, msg->incarnation, msg->node,
                                           msg->flags & PACKET_FLAG_PRUNE, now);
                break;
            default:
                break;
        }
        now += 700;
        membership_tick (membership, now);
    }
    free (msg);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    log_init ("fuzz", LOG_LEVEL_ERROR);
    int mode = data[0] % 4;
    data++;
    size--;

    broadcast_queue_t *queue = broadcast_queue_new (64);
    uint8_t tags[PACKET_TAGS_MAX];
    packet_tag_t list[1] = { { "dc", "dc1" } };
    int tags_len = packet_tags_encode (list, 1, tags, sizeof tags);
    membership_config_t config = {
        .pool = "lan", .name = "self", .tags = tags, .tags_len = (size_t) tags_len,
        .incarnation = 10, .suspicion_mult = 4, .probe_interval_ms = 1000,
        .reap_failed_ms = 5000, .reap_left_ms = 9000, .tombstone_ms = 3000
    };
    packet_addr_parse ("127.0.0.1", 8301, &config.addr);
    membership_hooks_t hooks = { NULL, s_accept, NULL, NULL };
    membership_t *membership = membership_new (&config, queue, &hooks, 0);

    keyring_t *keyring = keyring_new ();
    if (mode == 1) {
        uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
        const char *error;
        keyring_install (keyring, key, sizeof key, &error);
    }
    uint8_t *body = (uint8_t *) malloc (size + 1);
    packet_drop_t drop;
    if (mode <= 1) {
        int len = packet_unwrap (keyring, data, size, PACKET_UDP_MAX, body, size + 1, &drop);
        if (len >= 0 && packet_body_check (body, (size_t) len, &drop) > 0)
            s_dispatch (membership, body, (size_t) len, 1);
    }
    else if (mode == 2) {
        if (packet_body_check (data, size, &drop) > 0)
            s_dispatch (membership, data, size, 1);
    }
    else {
        int request = packet_stream_check (data, size, false, &drop);
        int reply = packet_stream_check (data, size, true, &drop);
        //  A valid request is always a valid reply.
        if (request == 0 && reply != 0)
            abort ();
        char err[512];
        if (request == 0
            && membership_check_remote (membership, data, size, true, err, sizeof err) == 0) {
            membership_merge_remote (membership, data, size, 1);
            size_t state_len = 0;
            uint8_t *state = membership_state_body (membership, false, &state_len);
            //  Our own state always passes our own codec.
            if (state && packet_stream_check (state, state_len, false, &drop) != 0)
                abort ();
            free (state);
        }
    }
    //  Whatever got queued must be well-formed UDP messages.
    uint8_t out[PACKET_UDP_BODY_MAX];
    size_t queued = broadcast_queue_fill (queue, out, sizeof out, 4);
    if (queued > 0 && packet_body_check (out, queued, &drop) < 0)
        abort ();
    free (body);
    keyring_destroy (&keyring);
    membership_destroy (&membership);
    broadcast_queue_destroy (&queue);
    return 0;
}
