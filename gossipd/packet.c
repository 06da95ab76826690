/*  packet: the gossip codec. Spec: docs/protocol/gossip.md, "Packet
    grammar", "Validation" and "Limits". Decoding never reads past the
    received bytes and rejects a packet on its first bad field. */
#include "packet.h"
#include "config.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t s_magic[2] = { 0x4D, 0x47 };      //  "MG"
#define FLAG_SEALED 0x01

const char *
packet_drop_name (packet_drop_t drop)
{
    static const char *names[PACKET_DROP_COUNT] = {
        "header", "version", "oversize", "plaintext", "no-keyring", "auth",
        "truncated", "length", "type", "field", "stream"
    };
    return drop < PACKET_DROP_COUNT ? names[drop] : "unknown";
}

//  --------------------------------------------------------------------
//  Addresses

int
packet_addr_parse (const char *text, uint16_t default_port, packet_addr_t *addr)
{
    char host[64];
    uint16_t port;
    bool bracketed;
    memset (addr, 0, sizeof *addr);
    if (!text || config_addr_split (text, default_port, host, sizeof host, &port,
                                    &bracketed) != 0)
        return -1;
    if (inet_pton (AF_INET, host, addr->ip) == 1)
        addr->family = 4;
    else if (inet_pton (AF_INET6, host, addr->ip) == 1)
        addr->family = 6;
    else
        return -1;
    addr->port = port;
    return 0;
}

void
packet_addr_ip (const packet_addr_t *addr, char *buf, size_t size)
{
    if (!inet_ntop (addr->family == 6 ? AF_INET6 : AF_INET, addr->ip, buf,
                    (socklen_t) size))
        snprintf (buf, size, "?");
}

void
packet_addr_format (const packet_addr_t *addr, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN];
    packet_addr_ip (addr, ip, sizeof ip);
    if (addr->family == 6)
        snprintf (buf, size, "[%s]:%u", ip, addr->port);
    else
        snprintf (buf, size, "%s:%u", ip, addr->port);
}

bool
packet_addr_equal (const packet_addr_t *a, const packet_addr_t *b)
{
    size_t len = a->family == 6 ? 16 : 4;
    return a->family == b->family && a->port == b->port
           && memcmp (a->ip, b->ip, len) == 0;
}

int
packet_addr_to_sockaddr (const packet_addr_t *addr, struct sockaddr_storage *sa,
                         socklen_t *len)
{
    memset (sa, 0, sizeof *sa);
    if (addr->family == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *) sa;
        in->sin_family = AF_INET;
        in->sin_port = htons (addr->port);
        memcpy (&in->sin_addr, addr->ip, 4);
        *len = sizeof *in;
        return 0;
    }
    if (addr->family == 6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) sa;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons (addr->port);
        memcpy (&in6->sin6_addr, addr->ip, 16);
        *len = sizeof *in6;
        return 0;
    }
    return -1;
}

int
packet_addr_from_sockaddr (const struct sockaddr *sa, socklen_t len,
                           packet_addr_t *addr)
{
    memset (addr, 0, sizeof *addr);
    if (sa->sa_family == AF_INET && len >= (socklen_t) sizeof (struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        addr->family = 4;
        memcpy (addr->ip, &in->sin_addr, 4);
        addr->port = ntohs (in->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t) sizeof (struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        //  A v4-mapped peer on a dual-stack socket is an IPv4 member.
        if (IN6_IS_ADDR_V4MAPPED (&in6->sin6_addr)) {
            addr->family = 4;
            memcpy (addr->ip, (const uint8_t *) &in6->sin6_addr + 12, 4);
        }
        else {
            addr->family = 6;
            memcpy (addr->ip, &in6->sin6_addr, 16);
        }
        addr->port = ntohs (in6->sin6_port);
        return 0;
    }
    return -1;
}

//  --------------------------------------------------------------------
//  Writer and reader

typedef struct {
    uint8_t *buf;
    size_t size;
    size_t pos;
    bool bad;
} writer_t;

static void
s_put (writer_t *w, const void *data, size_t len)
{
    if (w->bad || w->size - w->pos < len) {
        w->bad = true;
        return;
    }
    memcpy (w->buf + w->pos, data, len);
    w->pos += len;
}

static void
s_put_u8 (writer_t *w, uint8_t value)
{
    s_put (w, &value, 1);
}

static void
s_put_u16 (writer_t *w, uint16_t value)
{
    uint8_t b[2] = { (uint8_t) (value >> 8), (uint8_t) value };
    s_put (w, b, 2);
}

static void
s_put_u32 (writer_t *w, uint32_t value)
{
    uint8_t b[4] = { (uint8_t) (value >> 24), (uint8_t) (value >> 16),
                     (uint8_t) (value >> 8), (uint8_t) value };
    s_put (w, b, 4);
}

static void
s_put_u64 (writer_t *w, uint64_t value)
{
    s_put_u32 (w, (uint32_t) (value >> 32));
    s_put_u32 (w, (uint32_t) value);
}

static void
s_put_f64 (writer_t *w, double value)
{
    uint64_t bits;
    memcpy (&bits, &value, sizeof bits);
    s_put_u64 (w, bits);
}

static bool
s_text_byte_ok (uint8_t c)
{
    return c >= 0x20 && c != 0x7F;
}

static bool
s_name_ok (const char *name, size_t max)
{
    size_t len = strlen (name);
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!s_text_byte_ok ((uint8_t) name[i]))
            return false;
    return true;
}

static void
s_put_name (writer_t *w, const char *name)
{
    if (!s_name_ok (name, PACKET_NAME_MAX)) {
        w->bad = true;
        return;
    }
    size_t len = strlen (name);
    s_put_u8 (w, (uint8_t) len);
    s_put (w, name, len);
}

static void
s_put_addr (writer_t *w, const packet_addr_t *addr)
{
    if ((addr->family != 4 && addr->family != 6) || addr->port == 0) {
        w->bad = true;
        return;
    }
    s_put_u8 (w, addr->family);
    s_put (w, addr->ip, addr->family == 4 ? 4 : 16);
    s_put_u16 (w, addr->port);
}

static void
s_put_gkey (writer_t *w, const uint8_t *key, size_t len)
{
    if (len != 0 && !crypto_key_size_valid (len)) {
        w->bad = true;
        return;
    }
    s_put_u8 (w, (uint8_t) len);
    s_put (w, key, len);
}

static void
s_put_text (writer_t *w, const char *text)
{
    size_t len = strlen (text);
    if (len > PACKET_TEXT_MAX) {
        w->bad = true;
        return;
    }
    s_put_u16 (w, (uint16_t) len);
    s_put (w, text, len);
}

typedef struct {
    const uint8_t *p;
    size_t left;
    packet_drop_t drop;
    bool bad;
} reader_t;

static void
s_fail (reader_t *r, packet_drop_t drop)
{
    if (!r->bad) {
        r->bad = true;
        r->drop = drop;
    }
}

static const uint8_t *
s_take (reader_t *r, size_t len)
{
    if (r->bad)
        return NULL;
    if (r->left < len) {
        s_fail (r, PACKET_DROP_LENGTH);
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += len;
    r->left -= len;
    return at;
}

static uint8_t
s_get_u8 (reader_t *r)
{
    const uint8_t *b = s_take (r, 1);
    return b ? b[0] : 0;
}

static uint16_t
s_get_u16 (reader_t *r)
{
    const uint8_t *b = s_take (r, 2);
    return b ? (uint16_t) ((b[0] << 8) | b[1]) : 0;
}

static uint32_t
s_get_u32 (reader_t *r)
{
    const uint8_t *b = s_take (r, 4);
    return b ? ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16)
                   | ((uint32_t) b[2] << 8) | b[3]
             : 0;
}

static uint64_t
s_get_u64 (reader_t *r)
{
    uint64_t high = s_get_u32 (r);
    return (high << 32) | s_get_u32 (r);
}

static double
s_get_f64 (reader_t *r)
{
    uint64_t bits = s_get_u64 (r);
    double value;
    memcpy (&value, &bits, sizeof value);
    return value;
}

static void
s_get_name (reader_t *r, char *out, size_t max)
{
    out[0] = '\0';
    size_t len = s_get_u8 (r);
    if (r->bad)
        return;
    if (len == 0 || len > max) {
        s_fail (r, PACKET_DROP_FIELD);
        return;
    }
    const uint8_t *bytes = s_take (r, len);
    if (!bytes)
        return;
    for (size_t i = 0; i < len; i++)
        if (!s_text_byte_ok (bytes[i])) {
            s_fail (r, PACKET_DROP_FIELD);
            return;
        }
    memcpy (out, bytes, len);
    out[len] = '\0';
}

static void
s_get_addr (reader_t *r, packet_addr_t *addr)
{
    memset (addr, 0, sizeof *addr);
    uint8_t family = s_get_u8 (r);
    if (r->bad)
        return;
    if (family != 4 && family != 6) {
        s_fail (r, PACKET_DROP_FIELD);
        return;
    }
    const uint8_t *ip = s_take (r, family == 4 ? 4 : 16);
    if (!ip)
        return;
    addr->family = family;
    memcpy (addr->ip, ip, family == 4 ? 4 : 16);
    addr->port = s_get_u16 (r);
    if (!r->bad && addr->port == 0)
        s_fail (r, PACKET_DROP_FIELD);
}

static void
s_get_gkey (reader_t *r, uint8_t *key, size_t *len)
{
    *len = s_get_u8 (r);
    if (r->bad)
        return;
    if (*len != 0 && !crypto_key_size_valid (*len)) {
        s_fail (r, PACKET_DROP_FIELD);
        return;
    }
    const uint8_t *bytes = s_take (r, *len);
    if (bytes)
        memcpy (key, bytes, *len);
}

static void
s_get_text (reader_t *r, char *out)
{
    out[0] = '\0';
    size_t len = s_get_u16 (r);
    if (r->bad)
        return;
    if (len > PACKET_TEXT_MAX) {
        s_fail (r, PACKET_DROP_FIELD);
        return;
    }
    const uint8_t *bytes = s_take (r, len);
    if (!bytes)
        return;
    if (memchr (bytes, 0, len)) {
        s_fail (r, PACKET_DROP_FIELD);
        return;
    }
    memcpy (out, bytes, len);
    out[len] = '\0';
}

//  Walks encoded tags; calls fn for each pair until it returns true.
//  Returns -1 when the encoding is invalid, else 0.
typedef bool (s_tag_fn) (void *arg, const uint8_t *key, size_t key_len,
                          const uint8_t *value, size_t value_len);

static int
s_tags_walk (const uint8_t *tags, size_t len, s_tag_fn *fn, void *arg)
{
    if (len == 0 || len > PACKET_TAGS_MAX)
        return -1;
    reader_t r = { tags, len, PACKET_DROP_FIELD, false };
    size_t count = s_get_u8 (&r);
    for (size_t i = 0; i < count && !r.bad; i++) {
        size_t key_len = s_get_u8 (&r);
        const uint8_t *key = s_take (&r, key_len);
        size_t value_len = s_get_u8 (&r);
        const uint8_t *value = s_take (&r, value_len);
        if (r.bad)
            return -1;
        if (fn && fn (arg, key, key_len, value, value_len))
            return 0;
    }
    return r.bad || r.left ? -1 : 0;
}

typedef struct {
    const uint8_t *keys[256];
    size_t lens[256];
    size_t count;
    bool bad;
} tag_check_t;

static bool
s_tag_check (void *arg, const uint8_t *key, size_t key_len,
             const uint8_t *value, size_t value_len)
{
    tag_check_t *check = (tag_check_t *) arg;
    if (key_len == 0 || key_len > PACKET_TAG_KEY_MAX)
        check->bad = true;
    for (size_t i = 0; i < key_len; i++)
        if (!s_text_byte_ok (key[i]))
            check->bad = true;
    for (size_t i = 0; i < value_len; i++)
        if (!s_text_byte_ok (value[i]))
            check->bad = true;
    for (size_t i = 0; i < check->count && !check->bad; i++)
        if (check->lens[i] == key_len && memcmp (check->keys[i], key, key_len) == 0)
            check->bad = true;
    if (check->count < 256) {
        check->keys[check->count] = key;
        check->lens[check->count++] = key_len;
    }
    return check->bad;
}

static void
s_get_tags (reader_t *r, uint8_t *out, size_t *out_len)
{
    *out_len = 0;
    if (r->bad)
        return;
    //  Measure the field first, then check its content as a whole.
    reader_t probe = *r;
    size_t count = s_get_u8 (&probe);
    for (size_t i = 0; i < count * 2 && !probe.bad; i++) {
        size_t len = s_get_u8 (&probe);
        s_take (&probe, len);
    }
    if (probe.bad) {
        s_fail (r, probe.drop);
        return;
    }
    size_t len = r->left - probe.left;
    if (len > PACKET_TAGS_MAX) {
        s_fail (r, PACKET_DROP_FIELD);
        return;
    }
    const uint8_t *bytes = s_take (r, len);
    tag_check_t check;
    check.count = 0;
    check.bad = false;
    if (s_tags_walk (bytes, len, s_tag_check, &check) != 0 || check.bad) {
        s_fail (r, PACKET_DROP_FIELD);
        return;
    }
    memcpy (out, bytes, len);
    *out_len = len;
}

//  --------------------------------------------------------------------
//  Messages

static bool
s_type_allowed (uint8_t type, packet_transport_t transport)
{
    if (type >= PACKET_PING && type <= PACKET_KEY_REPLY)
        return transport == PACKET_UDP;
    if (type >= PACKET_PUSH_PULL && type <= PACKET_ERROR)
        return transport == PACKET_TCP;
    return false;
}

int
packet_msg_encode (const packet_msg_t *msg, uint8_t *buf, size_t size)
{
    if (size < PACKET_MSG_HEADER)
        return -1;
    writer_t w = { buf + PACKET_MSG_HEADER, size - PACKET_MSG_HEADER, 0, false };
    switch (msg->type) {
        case PACKET_PING:
            s_put_u32 (&w, msg->seq);
            s_put_name (&w, msg->node);
            s_put_name (&w, msg->from);
            break;
        case PACKET_INDIRECT_PING:
            s_put_u32 (&w, msg->seq);
            s_put_u8 (&w, msg->flags & PACKET_FLAG_WANT_NACK);
            s_put_addr (&w, &msg->addr);
            s_put_name (&w, msg->node);
            s_put_name (&w, msg->from);
            break;
        case PACKET_ACK:
            s_put_u32 (&w, msg->seq);
            s_put_u8 (&w, msg->flags & PACKET_FLAG_HAS_COORD);
            if (msg->flags & PACKET_FLAG_HAS_COORD) {
                for (int i = 0; i < VIVALDI_DIMS; i++)
                    s_put_f64 (&w, msg->coord.vec[i]);
                s_put_f64 (&w, msg->coord.error);
                s_put_f64 (&w, msg->coord.adjustment);
                s_put_f64 (&w, msg->coord.height);
            }
            break;
        case PACKET_NACK:
            s_put_u32 (&w, msg->seq);
            break;
        case PACKET_SUSPECT:
        case PACKET_DEAD:
            s_put_u32 (&w, msg->incarnation);
            s_put_name (&w, msg->node);
            s_put_name (&w, msg->from);
            break;
        case PACKET_ALIVE:
        case PACKET_STATE:
            s_put_u32 (&w, msg->incarnation);
            if (msg->type == PACKET_STATE) {
                if (msg->state < PACKET_STATE_ALIVE || msg->state > PACKET_STATE_LEFT)
                    return -1;
                s_put_u8 (&w, msg->state);
            }
            s_put_name (&w, msg->node);
            s_put_addr (&w, &msg->addr);
            if (msg->tags_len == 0 || msg->tags_len > PACKET_TAGS_MAX)
                return -1;
            s_put (&w, msg->tags, msg->tags_len);
            break;
        case PACKET_FORCE_LEAVE:
            s_put_u32 (&w, msg->incarnation);
            s_put_u8 (&w, msg->flags & PACKET_FLAG_PRUNE);
            s_put_name (&w, msg->node);
            s_put_name (&w, msg->from);
            break;
        case PACKET_KEY_OP:
            if (msg->op < PACKET_OP_LIST || msg->op > PACKET_OP_REMOVE)
                return -1;
            if ((msg->op == PACKET_OP_LIST) != (msg->key_len == 0))
                return -1;
            s_put_u64 (&w, msg->id);
            s_put_u8 (&w, msg->op);
            s_put_gkey (&w, msg->key, msg->key_len);
            s_put_addr (&w, &msg->addr);
            s_put_name (&w, msg->from);
            break;
        case PACKET_KEY_REPLY:
            if (msg->key_count > PACKET_KEYS_MAX)
                return -1;
            s_put_u64 (&w, msg->id);
            s_put_u8 (&w, msg->flags & PACKET_FLAG_OK);
            s_put_name (&w, msg->node);
            s_put_text (&w, msg->text);
            s_put_u8 (&w, (uint8_t) msg->key_count);
            for (size_t i = 0; i < msg->key_count; i++) {
                if (msg->key_lens[i] == 0)
                    return -1;
                s_put_gkey (&w, msg->keys[i], msg->key_lens[i]);
            }
            break;
        case PACKET_PUSH_PULL:
            if (msg->count > PACKET_PUSH_MAX)
                return -1;
            s_put_u8 (&w, msg->flags & PACKET_FLAG_JOIN);
            s_put_u32 (&w, msg->count);
            break;
        case PACKET_ERROR:
            s_put_text (&w, msg->text);
            break;
        default:
            return -1;
    }
    if (w.bad || w.pos > UINT16_MAX)
        return -1;
    buf[0] = (uint8_t) msg->type;
    buf[1] = (uint8_t) (w.pos >> 8);
    buf[2] = (uint8_t) w.pos;
    return (int) (w.pos + PACKET_MSG_HEADER);
}

int
packet_msg_decode (const uint8_t *buf, size_t len, packet_transport_t transport,
                   packet_msg_t *msg, packet_drop_t *drop)
{
    if (len < PACKET_MSG_HEADER) {
        *drop = PACKET_DROP_TRUNCATED;
        return -1;
    }
    uint8_t type = buf[0];
    size_t payload_len = ((size_t) buf[1] << 8) | buf[2];
    if (!s_type_allowed (type, transport)) {
        *drop = PACKET_DROP_TYPE;
        return -1;
    }
    if (payload_len > len - PACKET_MSG_HEADER) {
        *drop = PACKET_DROP_TRUNCATED;
        return -1;
    }
    //  Fields are cleared one by one: memset of the whole struct would cost
    //  more than the decode on the hot path.
    msg->type = (packet_type_t) type;
    msg->seq = msg->incarnation = msg->count = 0;
    msg->flags = msg->state = msg->op = 0;
    msg->id = 0;
    msg->node[0] = msg->from[0] = msg->text[0] = '\0';
    msg->tags_len = msg->key_len = msg->key_count = 0;
    memset (&msg->addr, 0, sizeof msg->addr);

    reader_t r = { buf + PACKET_MSG_HEADER, payload_len, PACKET_DROP_LENGTH, false };
    uint8_t allowed_flags = 0;
    switch (msg->type) {
        case PACKET_PING:
            msg->seq = s_get_u32 (&r);
            s_get_name (&r, msg->node, PACKET_NAME_MAX);
            s_get_name (&r, msg->from, PACKET_NAME_MAX);
            break;
        case PACKET_INDIRECT_PING:
            msg->seq = s_get_u32 (&r);
            msg->flags = s_get_u8 (&r);
            allowed_flags = PACKET_FLAG_WANT_NACK;
            s_get_addr (&r, &msg->addr);
            s_get_name (&r, msg->node, PACKET_NAME_MAX);
            s_get_name (&r, msg->from, PACKET_NAME_MAX);
            break;
        case PACKET_ACK:
            msg->seq = s_get_u32 (&r);
            msg->flags = s_get_u8 (&r);
            allowed_flags = PACKET_FLAG_HAS_COORD;
            if (!r.bad && (msg->flags & PACKET_FLAG_HAS_COORD)) {
                for (int i = 0; i < VIVALDI_DIMS; i++)
                    msg->coord.vec[i] = s_get_f64 (&r);
                msg->coord.error = s_get_f64 (&r);
                msg->coord.adjustment = s_get_f64 (&r);
                msg->coord.height = s_get_f64 (&r);
                if (!r.bad && (!vivaldi_coord_valid (&msg->coord)
                               || msg->coord.error < 0 || msg->coord.height < 0))
                    s_fail (&r, PACKET_DROP_FIELD);
            }
            break;
        case PACKET_NACK:
            msg->seq = s_get_u32 (&r);
            break;
        case PACKET_SUSPECT:
        case PACKET_DEAD:
            msg->incarnation = s_get_u32 (&r);
            s_get_name (&r, msg->node, PACKET_NAME_MAX);
            s_get_name (&r, msg->from, PACKET_NAME_MAX);
            break;
        case PACKET_ALIVE:
        case PACKET_STATE:
            msg->incarnation = s_get_u32 (&r);
            if (msg->type == PACKET_STATE) {
                msg->state = s_get_u8 (&r);
                if (!r.bad && (msg->state < PACKET_STATE_ALIVE
                               || msg->state > PACKET_STATE_LEFT))
                    s_fail (&r, PACKET_DROP_FIELD);
            }
            s_get_name (&r, msg->node, PACKET_NAME_MAX);
            s_get_addr (&r, &msg->addr);
            s_get_tags (&r, msg->tags, &msg->tags_len);
            break;
        case PACKET_FORCE_LEAVE:
            msg->incarnation = s_get_u32 (&r);
            msg->flags = s_get_u8 (&r);
            allowed_flags = PACKET_FLAG_PRUNE;
            s_get_name (&r, msg->node, PACKET_NAME_MAX);
            s_get_name (&r, msg->from, PACKET_NAME_MAX);
            break;
        case PACKET_KEY_OP:
            msg->id = s_get_u64 (&r);
            msg->op = s_get_u8 (&r);
            if (!r.bad && (msg->op < PACKET_OP_LIST || msg->op > PACKET_OP_REMOVE))
                s_fail (&r, PACKET_DROP_FIELD);
            s_get_gkey (&r, msg->key, &msg->key_len);
            if (!r.bad && (msg->op == PACKET_OP_LIST) != (msg->key_len == 0))
                s_fail (&r, PACKET_DROP_FIELD);
            s_get_addr (&r, &msg->addr);
            s_get_name (&r, msg->from, PACKET_NAME_MAX);
            break;
        case PACKET_KEY_REPLY:
            msg->id = s_get_u64 (&r);
            msg->flags = s_get_u8 (&r);
            allowed_flags = PACKET_FLAG_OK;
            s_get_name (&r, msg->node, PACKET_NAME_MAX);
            s_get_text (&r, msg->text);
            msg->key_count = s_get_u8 (&r);
            if (!r.bad && msg->key_count > PACKET_KEYS_MAX)
                s_fail (&r, PACKET_DROP_FIELD);
            for (size_t i = 0; i < msg->key_count && !r.bad; i++) {
                s_get_gkey (&r, msg->keys[i], &msg->key_lens[i]);
                if (!r.bad && msg->key_lens[i] == 0)
                    s_fail (&r, PACKET_DROP_FIELD);
            }
            break;
        case PACKET_PUSH_PULL:
            msg->flags = s_get_u8 (&r);
            allowed_flags = PACKET_FLAG_JOIN;
            msg->count = s_get_u32 (&r);
            if (!r.bad && msg->count > PACKET_PUSH_MAX)
                s_fail (&r, PACKET_DROP_FIELD);
            break;
        case PACKET_ERROR:
            s_get_text (&r, msg->text);
            break;
    }
    if (!r.bad && (msg->flags & ~allowed_flags))
        s_fail (&r, PACKET_DROP_FIELD);
    if (!r.bad && r.left != 0)
        s_fail (&r, PACKET_DROP_LENGTH);
    if (r.bad) {
        *drop = r.drop;
        return -1;
    }
    return (int) (PACKET_MSG_HEADER + payload_len);
}

void
packet_reader_init (packet_reader_t *reader, const uint8_t *body, size_t len,
                    packet_transport_t transport)
{
    reader->at = body;
    reader->left = len;
    reader->transport = transport;
}

int
packet_reader_next (packet_reader_t *reader, packet_msg_t *msg, packet_drop_t *drop)
{
    if (reader->left == 0)
        return 0;
    int used = packet_msg_decode (reader->at, reader->left, reader->transport, msg, drop);
    if (used < 0)
        return -1;
    reader->at += used;
    reader->left -= (size_t) used;
    return 1;
}

int
packet_body_check (const uint8_t *body, size_t len, packet_drop_t *drop)
{
    if (len == 0) {
        *drop = PACKET_DROP_TRUNCATED;
        return -1;
    }
    packet_msg_t *msg = (packet_msg_t *) malloc (sizeof (packet_msg_t));
    if (!msg) {
        *drop = PACKET_DROP_LENGTH;
        return -1;
    }
    packet_reader_t reader;
    packet_reader_init (&reader, body, len, PACKET_UDP);
    int count = 0;
    int rc;
    while ((rc = packet_reader_next (&reader, msg, drop)) == 1)
        count++;
    free (msg);
    return rc < 0 ? -1 : count;
}

int
packet_stream_check (const uint8_t *body, size_t len, bool reply, packet_drop_t *drop)
{
    packet_msg_t *msg = (packet_msg_t *) malloc (sizeof (packet_msg_t));
    if (!msg) {
        *drop = PACKET_DROP_LENGTH;
        return -1;
    }
    packet_reader_t reader;
    packet_reader_init (&reader, body, len, PACKET_TCP);
    int rc = packet_reader_next (&reader, msg, drop);
    if (rc == 0) {
        *drop = PACKET_DROP_TRUNCATED;
        rc = -1;
    }
    if (rc == 1 && msg->type == PACKET_ERROR) {
        if (!reply || reader.left != 0) {
            *drop = PACKET_DROP_STREAM;
            rc = -1;
        }
        else
            rc = 0;
    }
    else if (rc == 1 && msg->type != PACKET_PUSH_PULL) {
        *drop = PACKET_DROP_STREAM;
        rc = -1;
    }
    else if (rc == 1) {
        uint32_t expected = msg->count;
        uint32_t seen = 0;
        while ((rc = packet_reader_next (&reader, msg, drop)) == 1) {
            if (msg->type != PACKET_STATE || ++seen > expected) {
                *drop = PACKET_DROP_STREAM;
                rc = -1;
                break;
            }
        }
        if (rc == 0 && seen != expected) {
            *drop = PACKET_DROP_STREAM;
            rc = -1;
        }
    }
    free (msg);
    return rc < 0 ? -1 : 0;
}

//  --------------------------------------------------------------------
//  Datagram header and sealing

int
packet_wrap (keyring_t *keyring, const uint8_t *body, size_t len, uint8_t *out,
             size_t size)
{
    bool sealed = keyring && keyring_size (keyring) > 0;
    size_t need = PACKET_HEADER_SIZE + len + (sealed ? CRYPTO_OVERHEAD : 0);
    if (size < need || len == 0)
        return -1;
    out[0] = s_magic[0];
    out[1] = s_magic[1];
    out[2] = PACKET_VERSION;
    out[3] = sealed ? FLAG_SEALED : 0;
    if (!sealed) {
        memcpy (out + PACKET_HEADER_SIZE, body, len);
        return (int) need;
    }
    if (keyring_seal (keyring, out, PACKET_HEADER_SIZE, body, len,
                      out + PACKET_HEADER_SIZE) != 0)
        return -1;
    return (int) need;
}

int
packet_unwrap (keyring_t *keyring, const uint8_t *in, size_t len, size_t max,
               uint8_t *out, size_t size, packet_drop_t *drop)
{
    if (len > max) {
        *drop = PACKET_DROP_OVERSIZE;
        return -1;
    }
    if (len < PACKET_HEADER_SIZE || in[0] != s_magic[0] || in[1] != s_magic[1]) {
        *drop = PACKET_DROP_HEADER;
        return -1;
    }
    if (in[2] != PACKET_VERSION) {
        *drop = PACKET_DROP_VERSION;
        return -1;
    }
    if (in[3] & ~FLAG_SEALED) {
        *drop = PACKET_DROP_HEADER;
        return -1;
    }
    bool sealed = in[3] & FLAG_SEALED;
    bool have_keys = keyring && keyring_size (keyring) > 0;
    if (sealed && !have_keys) {
        *drop = PACKET_DROP_NO_KEYRING;
        return -1;
    }
    if (!sealed && have_keys) {
        *drop = PACKET_DROP_PLAINTEXT;
        return -1;
    }
    const uint8_t *payload = in + PACKET_HEADER_SIZE;
    size_t payload_len = len - PACKET_HEADER_SIZE;
    if (!sealed) {
        if (payload_len == 0) {
            *drop = PACKET_DROP_TRUNCATED;
            return -1;
        }
        if (payload_len > size) {
            *drop = PACKET_DROP_OVERSIZE;
            return -1;
        }
        memcpy (out, payload, payload_len);
        return (int) payload_len;
    }
    if (payload_len <= CRYPTO_OVERHEAD) {
        *drop = PACKET_DROP_TRUNCATED;
        return -1;
    }
    if (payload_len - CRYPTO_OVERHEAD > size) {
        *drop = PACKET_DROP_OVERSIZE;
        return -1;
    }
    if (keyring_open (keyring, in, PACKET_HEADER_SIZE, payload, payload_len, out) != 0) {
        *drop = PACKET_DROP_AUTH;
        return -1;
    }
    return (int) (payload_len - CRYPTO_OVERHEAD);
}

//  --------------------------------------------------------------------
//  Tags

int
packet_tags_encode (const packet_tag_t *tags, size_t count, uint8_t *out, size_t size)
{
    if (count > 255)
        return -1;
    writer_t w = { out, size < PACKET_TAGS_MAX ? size : PACKET_TAGS_MAX, 0, false };
    s_put_u8 (&w, (uint8_t) count);
    for (size_t i = 0; i < count; i++) {
        if (!s_name_ok (tags[i].key, PACKET_TAG_KEY_MAX))
            return -1;
        size_t value_len = strlen (tags[i].value);
        for (size_t j = 0; j < value_len; j++)
            if (!s_text_byte_ok ((uint8_t) tags[i].value[j]))
                return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp (tags[j].key, tags[i].key) == 0)
                return -1;
        s_put_u8 (&w, (uint8_t) strlen (tags[i].key));
        s_put (&w, tags[i].key, strlen (tags[i].key));
        s_put_u8 (&w, (uint8_t) value_len);
        s_put (&w, tags[i].value, value_len);
    }
    return w.bad ? -1 : (int) w.pos;
}

typedef struct {
    const char *key;
    char *value;
    size_t size;
    bool found;
} tag_get_t;

static bool
s_tag_get (void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
           size_t value_len)
{
    tag_get_t *get = (tag_get_t *) arg;
    if (strlen (get->key) != key_len || memcmp (get->key, key, key_len) != 0)
        return false;
    size_t copy = value_len < get->size - 1 ? value_len : get->size - 1;
    memcpy (get->value, value, copy);
    get->value[copy] = '\0';
    get->found = true;
    return true;
}

int
packet_tags_get (const uint8_t *tags, size_t len, const char *key, char *value,
                 size_t size)
{
    if (size == 0)
        return -1;
    value[0] = '\0';
    tag_get_t get = { key, value, size, false };
    s_tags_walk (tags, len, s_tag_get, &get);
    return get.found ? 0 : -1;
}

static bool
s_tag_json (void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
            size_t value_len)
{
    char k[PACKET_TAG_KEY_MAX + 1], v[PACKET_TAG_VALUE_MAX + 1];
    if (key_len > PACKET_TAG_KEY_MAX)
        return false;
    memcpy (k, key, key_len);
    k[key_len] = '\0';
    memcpy (v, value, value_len);
    v[value_len] = '\0';
    cJSON_AddStringToObject ((cJSON *) arg, k, v);
    return false;
}

cJSON *
packet_tags_json (const uint8_t *tags, size_t len)
{
    cJSON *json = cJSON_CreateObject ();
    if (json && len > 0)
        s_tags_walk (tags, len, s_tag_json, json);
    return json;
}
