/*  envelope: the strict codec of the local RPC envelope, specified in
    docs/protocol/local-rpc.md. A message is five ZeroMQ frames:
        "MRD1" | type | command | id | body(JSON)
    (a ROUTER adds the peer identity in front, which the rpc_server strips). */
#ifndef MRD_ENVELOPE_H
#define MRD_ENVELOPE_H

#include <czmq.h>
#include <cjson/cJSON.h>
#include <stdint.h>

#define ENVELOPE_TAG          "MRD1"
#define ENVELOPE_COMMAND_MAX  64
#define ENVELOPE_BODY_MAX     (16 * 1024 * 1024)

typedef enum {
    ENVELOPE_REQ = 1,   //  a request; the reply carries the same id
    ENVELOPE_REP,       //  a successful reply; body is the result
    ENVELOPE_ERR,       //  an error reply; body {"Code":int,"Error":"text"}
    ENVELOPE_EVT        //  a published event; id is the publisher's sequence
} envelope_type_t;

typedef struct {
    envelope_type_t type;
    char command[ENVELOPE_COMMAND_MAX + 1];
    uint64_t id;
    cJSON *body;        //  owned by the envelope; NULL when raw is set
    char *raw;          //  a relay's body: its JSON text, syntax-checked
    size_t raw_len;     //  but not parsed (owned; envelope_decode_raw)
} envelope_t;

//  Builds an envelope; takes ownership of *body_p (NULL becomes {}).
//  Caller owns the return value; NULL when the command is not valid.
envelope_t *envelope_new (envelope_type_t type, const char *command,
                          uint64_t id, cJSON **body_p);
void envelope_destroy (envelope_t **self_p);

//  Builds an envelope whose body is JSON text (len bytes) passed on
//  untouched; takes ownership of *raw_p (its syntax is the caller's
//  business: it came from envelope_decode_raw). NULL as envelope_new.
envelope_t *envelope_new_raw (envelope_type_t type, const char *command,
                              uint64_t id, char **raw_p, size_t len);

//  Encodes into a new message (a raw body as it is). Caller owns the
//  return value.
zmsg_t *envelope_encode (const envelope_t *self);

//  Decodes a message (without routing identity). Returns a new envelope, or
//  NULL when any frame is malformed; the reason goes to *reason (static
//  text) and the caller logs, counts and drops. Never asserts on input.
envelope_t *envelope_decode (zmsg_t *msg, const char **reason);

//  Same, for a relay: the body is checked to be exactly one JSON value
//  (common/json_syntax) but kept as text in raw, not parsed; body is NULL.
envelope_t *envelope_decode_raw (zmsg_t *msg, const char **reason);

//  Same as envelope_decode, from the five raw frames already split (used by
//  tests and fuzz).
envelope_t *envelope_decode_frames (const void *const frames[],
                                    const size_t sizes[], size_t count,
                                    const char **reason);

const char *envelope_type_name (envelope_type_t type);

//  Builds the body of an ERR reply: {"Code":code,"Error":text}.
//  Caller owns the return value.
cJSON *envelope_error_body (int code, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
