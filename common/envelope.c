/*  envelope: the one codec of the local RPC envelope
    (docs/protocol/local-rpc.md). Decoding is strict: any deviation from the
    grammar returns NULL with a reason; nothing from outside is asserted. */
#include "envelope.h"
#include "json_syntax.h"

#include <stdarg.h>
#include <string.h>

static const char *s_type_names[] = { NULL, "REQ", "REP", "ERR", "EVT" };

const char *
envelope_type_name (envelope_type_t type)
{
    if (type < ENVELOPE_REQ || type > ENVELOPE_EVT)
        return "?";
    return s_type_names[type];
}

static bool
s_command_valid (const char *command, size_t len)
{
    if (len == 0 || len > ENVELOPE_COMMAND_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = command[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

envelope_t *
envelope_new (envelope_type_t type, const char *command, uint64_t id,
              cJSON **body_p)
{
    assert (type >= ENVELOPE_REQ && type <= ENVELOPE_EVT);
    if (!command || !s_command_valid (command, strlen (command)))
        return NULL;
    envelope_t *self = (envelope_t *) calloc (1, sizeof (envelope_t));
    if (!self)
        return NULL;
    self->type = type;
    strcpy (self->command, command);
    self->id = id;
    if (body_p && *body_p) {
        self->body = *body_p;
        *body_p = NULL;
    }
    else
        self->body = cJSON_CreateObject ();
    return self;
}

envelope_t *
envelope_new_raw (envelope_type_t type, const char *command, uint64_t id,
                  char **raw_p, size_t len)
{
    assert (raw_p && *raw_p);
    envelope_t *self = envelope_new (type, command, id, NULL);
    if (!self) {
        free (*raw_p);
        *raw_p = NULL;
        return NULL;
    }
    cJSON_Delete (self->body);
    self->body = NULL;
    self->raw = *raw_p;
    self->raw_len = len;
    *raw_p = NULL;
    return self;
}

void
envelope_destroy (envelope_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        cJSON_Delete ((*self_p)->body);
        free ((*self_p)->raw);
        free (*self_p);
        *self_p = NULL;
    }
}

zmsg_t *
envelope_encode (const envelope_t *self)
{
    assert (self);
    char *body = self->raw ? NULL : cJSON_PrintUnformatted (self->body);
    if (!body && !self->raw)
        return NULL;
    char id[24];
    snprintf (id, sizeof id, "%llu", (unsigned long long) self->id);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, ENVELOPE_TAG, 4);
    zmsg_addstr (msg, envelope_type_name (self->type));
    zmsg_addstr (msg, self->command);
    zmsg_addstr (msg, id);
    if (self->raw)
        zmsg_addmem (msg, self->raw, self->raw_len);
    else
        zmsg_addmem (msg, body, strlen (body));
    free (body);
    return msg;
}

static bool
s_parse_id (const char *data, size_t len, uint64_t *id)
{
    if (len == 0 || len > 20)
        return false;
    if (len > 1 && data[0] == '0')
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] < '0' || data[i] > '9')
            return false;
        uint64_t digit = (uint64_t) (data[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *id = value;
    return true;
}

static envelope_t *
s_decode_frames (const void *const frames[], const size_t sizes[], size_t count,
                 bool raw, const char **reason)
{
    const char *why = NULL;
    envelope_type_t type = 0;
    uint64_t id = 0;
    char command[ENVELOPE_COMMAND_MAX + 1];
    cJSON *body = NULL;

    if (count != 5) {
        why = "wrong frame count";
        goto malformed;
    }
    if (sizes[0] != 4 || memcmp (frames[0], ENVELOPE_TAG, 4) != 0) {
        why = "wrong protocol tag";
        goto malformed;
    }
    for (int t = ENVELOPE_REQ; t <= ENVELOPE_EVT; t++)
        if (sizes[1] == 3 && memcmp (frames[1], s_type_names[t], 3) == 0)
            type = (envelope_type_t) t;
    if (!type) {
        why = "unknown message type";
        goto malformed;
    }
    if (!s_command_valid ((const char *) frames[2], sizes[2])) {
        why = "invalid command";
        goto malformed;
    }
    memcpy (command, frames[2], sizes[2]);
    command[sizes[2]] = 0;
    if (!s_parse_id ((const char *) frames[3], sizes[3], &id)) {
        why = "invalid request id";
        goto malformed;
    }
    if (sizes[4] == 0 || sizes[4] > ENVELOPE_BODY_MAX) {
        why = sizes[4] ? "body too large" : "empty body";
        goto malformed;
    }
    if (raw) {
        char syntax[128];
        if (json_syntax_check ((const char *) frames[4], sizes[4], syntax,
                               sizeof syntax) != 0) {
            why = "body is not valid JSON";
            goto malformed;
        }
        char *text = malloc (sizes[4]);
        if (text)
            memcpy (text, frames[4], sizes[4]);
        envelope_t *self = text ? envelope_new_raw (type, command, id, &text, sizes[4])
                                : NULL;
        if (self)
            return self;
        why = "out of memory";
        goto malformed;
    }
    const char *end = NULL;
    body = cJSON_ParseWithLengthOpts ((const char *) frames[4], sizes[4], &end, false);
    if (!body) {
        why = "body is not valid JSON";
        goto malformed;
    }
    const char *limit = (const char *) frames[4] + sizes[4];
    for (; end < limit; end++)
        if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
            why = "trailing bytes after JSON body";
            goto malformed;
        }
    envelope_t *self = envelope_new (type, command, id, &body);
    if (self)
        return self;
    why = "out of memory";

malformed:
    cJSON_Delete (body);
    if (reason)
        *reason = why;
    return NULL;
}

envelope_t *
envelope_decode_frames (const void *const frames[], const size_t sizes[],
                        size_t count, const char **reason)
{
    return s_decode_frames (frames, sizes, count, false, reason);
}

static envelope_t *
s_decode (zmsg_t *msg, bool raw, const char **reason)
{
    const void *frames[5];
    size_t sizes[5];
    size_t count = zmsg_size (msg);
    if (count != 5) {
        if (reason)
            *reason = "wrong frame count";
        return NULL;
    }
    zframe_t *frame = zmsg_first (msg);
    for (size_t i = 0; i < count; i++) {
        frames[i] = zframe_data (frame);
        sizes[i] = zframe_size (frame);
        frame = zmsg_next (msg);
    }
    return s_decode_frames (frames, sizes, count, raw, reason);
}

envelope_t *
envelope_decode (zmsg_t *msg, const char **reason)
{
    return s_decode (msg, false, reason);
}

envelope_t *
envelope_decode_raw (zmsg_t *msg, const char **reason)
{
    return s_decode (msg, true, reason);
}

cJSON *
envelope_error_body (int code, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    cJSON *body = cJSON_CreateObject ();
    cJSON_AddNumberToObject (body, "Code", code);
    cJSON_AddStringToObject (body, "Error", text);
    return body;
}
