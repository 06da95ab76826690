/*  packet: the one codec of the gossip protocol, specified in
    docs/protocol/gossip.md ("Packet grammar"): datagram/frame header and
    sealing, the messages, addresses and member tags. Every decode is
    bounds-checked; a malformed packet is rejected whole with a reason. */
#ifndef GOSSIPD_PACKET_H
#define GOSSIPD_PACKET_H

#include "crypto.h"
#include "keyring.h"
#include "vivaldi.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PACKET_VERSION       1
#define PACKET_HEADER_SIZE   4
#define PACKET_MSG_HEADER    3
#define PACKET_UDP_BODY_MAX  1400
#define PACKET_UDP_MAX       (PACKET_HEADER_SIZE + CRYPTO_OVERHEAD + PACKET_UDP_BODY_MAX)
#define PACKET_TCP_MAX       (16 * 1024 * 1024)
#define PACKET_NAME_MAX      192
#define PACKET_TAGS_MAX      512
#define PACKET_TAG_KEY_MAX   64
#define PACKET_TAG_VALUE_MAX 255
#define PACKET_TEXT_MAX      1024
#define PACKET_KEYS_MAX      16
#define PACKET_PUSH_MAX      65536

typedef enum {
    PACKET_PING = 0x01,
    PACKET_INDIRECT_PING = 0x02,
    PACKET_ACK = 0x03,
    PACKET_NACK = 0x04,
    PACKET_SUSPECT = 0x05,
    PACKET_ALIVE = 0x06,
    PACKET_DEAD = 0x07,
    PACKET_FORCE_LEAVE = 0x08,
    PACKET_KEY_OP = 0x09,
    PACKET_KEY_REPLY = 0x0A,
    PACKET_PUSH_PULL = 0x10,
    PACKET_STATE = 0x11,
    PACKET_ERROR = 0x12
} packet_type_t;

//  Flag bits (all others must be zero).
#define PACKET_FLAG_WANT_NACK   0x01    //  indirect-ping
#define PACKET_FLAG_HAS_COORD   0x01    //  ack
#define PACKET_FLAG_PRUNE       0x01    //  force-leave
#define PACKET_FLAG_OK          0x01    //  key-reply
#define PACKET_FLAG_JOIN        0x01    //  push-pull

//  Member states on the wire (state message).
#define PACKET_STATE_ALIVE   1
#define PACKET_STATE_SUSPECT 2
#define PACKET_STATE_DEAD    3
#define PACKET_STATE_LEFT    4

//  Keyring operations (key-op).
#define PACKET_OP_LIST    1
#define PACKET_OP_INSTALL 2
#define PACKET_OP_USE     3
#define PACKET_OP_REMOVE  4

typedef enum { PACKET_UDP, PACKET_TCP } packet_transport_t;

//  Why a packet was dropped; each has a counter per pool.
typedef enum {
    PACKET_DROP_HEADER,
    PACKET_DROP_VERSION,
    PACKET_DROP_OVERSIZE,
    PACKET_DROP_PLAINTEXT,
    PACKET_DROP_NO_KEYRING,
    PACKET_DROP_AUTH,
    PACKET_DROP_TRUNCATED,
    PACKET_DROP_LENGTH,
    PACKET_DROP_TYPE,
    PACKET_DROP_FIELD,
    PACKET_DROP_STREAM,
    PACKET_DROP_COUNT
} packet_drop_t;

const char *packet_drop_name (packet_drop_t drop);

typedef struct {
    uint8_t family;     //  4 or 6
    uint8_t ip[16];
    uint16_t port;
} packet_addr_t;

//  Parses "ip", "ip:port", "[ipv6]:port" or a bare IPv6; default_port is
//  used when none is given. Returns 0/-1 (host names: resolver.h).
int packet_addr_parse (const char *text, uint16_t default_port, packet_addr_t *addr);
//  "ip:port" or "[ipv6]:port".
void packet_addr_format (const packet_addr_t *addr, char *buf, size_t size);
//  The IP alone.
void packet_addr_ip (const packet_addr_t *addr, char *buf, size_t size);
bool packet_addr_equal (const packet_addr_t *a, const packet_addr_t *b);
int packet_addr_to_sockaddr (const packet_addr_t *addr,
                             struct sockaddr_storage *sa, socklen_t *len);
int packet_addr_from_sockaddr (const struct sockaddr *sa, socklen_t len,
                               packet_addr_t *addr);

//  One decoded message; which fields are meaningful depends on type
//  (see the table in the spec).
typedef struct {
    packet_type_t type;
    uint32_t seq;
    uint32_t incarnation;
    uint8_t flags;
    uint8_t state;
    uint8_t op;
    uint64_t id;
    uint32_t count;
    char node[PACKET_NAME_MAX + 1];     //  target or subject
    char from[PACKET_NAME_MAX + 1];
    packet_addr_t addr;                 //  target, member or reply-to address
    uint8_t tags[PACKET_TAGS_MAX];
    size_t tags_len;
    vivaldi_coord_t coord;
    uint8_t key[CRYPTO_KEY_MAX];
    size_t key_len;
    uint8_t keys[PACKET_KEYS_MAX][CRYPTO_KEY_MAX];
    size_t key_lens[PACKET_KEYS_MAX];
    size_t key_count;
    char text[PACKET_TEXT_MAX + 1];
} packet_msg_t;

//  Encodes one message (type, length, payload) into buf. Returns the bytes
//  written, or -1 when it does not fit or a field is out of range.
int packet_msg_encode (const packet_msg_t *msg, uint8_t *buf, size_t size);

//  Decodes the message at buf (len bytes left in the body). Returns the
//  bytes consumed, or -1 with *drop set.
int packet_msg_decode (const uint8_t *buf, size_t len,
                       packet_transport_t transport, packet_msg_t *msg,
                       packet_drop_t *drop);

//  Walks the messages of a body that packet_body_check accepted.
typedef struct {
    const uint8_t *at;
    size_t left;
    packet_transport_t transport;
} packet_reader_t;

void packet_reader_init (packet_reader_t *reader, const uint8_t *body,
                         size_t len, packet_transport_t transport);
//  1 with msg filled, 0 at the end, -1 with *drop on a malformed message.
int packet_reader_next (packet_reader_t *reader, packet_msg_t *msg,
                        packet_drop_t *drop);

//  Checks that a UDP body is 1+ well-formed UDP messages. Returns the
//  message count, or -1 with *drop.
int packet_body_check (const uint8_t *body, size_t len, packet_drop_t *drop);

//  Checks a TCP body: push-pull followed by exactly count state messages,
//  or (only when reply) a single error. Returns 0 or -1 with *drop.
int packet_stream_check (const uint8_t *body, size_t len, bool reply,
                         packet_drop_t *drop);

//  Wraps a body in the datagram header, sealed when keyring has keys.
//  out needs len + PACKET_HEADER_SIZE + CRYPTO_OVERHEAD bytes. Returns the
//  datagram length, or -1.
int packet_wrap (keyring_t *keyring, const uint8_t *body, size_t len,
                 uint8_t *out, size_t size);

//  Checks the header of a datagram of len bytes (at most max), opens it
//  with keyring when sealed, and puts the body in out (size >= len).
//  Returns the body length, or -1 with *drop.
int packet_unwrap (keyring_t *keyring, const uint8_t *in, size_t len,
                   size_t max, uint8_t *out, size_t size, packet_drop_t *drop);

//  Member tags.
typedef struct {
    char key[PACKET_TAG_KEY_MAX + 1];
    char value[PACKET_TAG_VALUE_MAX + 1];
} packet_tag_t;

//  Encodes count tags into out (PACKET_TAGS_MAX). Returns the length, or
//  -1 when a tag is invalid, a key repeats or the whole is over 512 bytes.
int packet_tags_encode (const packet_tag_t *tags, size_t count, uint8_t *out,
                        size_t size);
//  Copies the value of key into value. Returns 0, or -1 when absent.
int packet_tags_get (const uint8_t *tags, size_t len, const char *key,
                     char *value, size_t size);
//  {"key":"value",...}. Caller owns return value.
cJSON *packet_tags_json (const uint8_t *tags, size_t len);

#endif
