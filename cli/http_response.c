/*  http_response: the incremental HTTP/1.1 response parser of the CLI's
    client (see http_response.h). Implements the message syntax of RFC 9112
    for responses: status line, field lines, and a body framed by
    Content-Length, the chunked transfer coding or the connection close;
    rejects what it does not understand instead of guessing. */
#include "http_response.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_HEADER_COUNT_MAX   128
#define HTTP_CHUNK_LINE_MAX     4096

typedef enum {
    STATE_STATUS,
    STATE_HEADERS,
    STATE_BODY_LENGTH,
    STATE_CHUNK_SIZE,
    STATE_CHUNK_DATA,
    STATE_CHUNK_END,
    STATE_TRAILERS,
    STATE_BODY_CLOSE,
    STATE_DONE,
    STATE_ERROR
} parse_state_t;

typedef struct {
    char *name;
    char *value;
} header_t;

struct _http_response_t {
    bool head;
    parse_state_t state;
    char *in;                   //  received, not yet consumed: [pos, size)
    size_t in_size;
    size_t in_capacity;
    size_t pos;
    bool received;              //  any byte at all
    int status;
    header_t header [HTTP_HEADER_COUNT_MAX];
    int header_count;
    size_t header_bytes;        //  of the current header or trailer section
    uint64_t remaining;         //  of the body or the current chunk
    char *body;                 //  always NUL-terminated
    size_t body_size;
    size_t body_capacity;
    char error [160];
};

http_response_t *
http_response_new (bool head)
{
    http_response_t *self = calloc (1, sizeof (http_response_t));
    if (!self)
        return NULL;
    self->head = head;
    self->body = calloc (1, 1);
    if (!self->body) {
        free (self);
        return NULL;
    }
    return self;
}

static void
s_headers_clear (http_response_t *self)
{
    for (int i = 0; i < self->header_count; i++) {
        free (self->header [i].name);
        free (self->header [i].value);
    }
    self->header_count = 0;
}

void
http_response_destroy (http_response_t **self_p)
{
    assert (self_p);
    http_response_t *self = *self_p;
    if (!self)
        return;
    s_headers_clear (self);
    free (self->in);
    free (self->body);
    free (self);
    *self_p = NULL;
}

static int
s_fail (http_response_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof (self->error), fmt, args);
    va_end (args);
    self->state = STATE_ERROR;
    return -1;
}

static int
s_body_append (http_response_t *self, const char *data, size_t size)
{
    if (size > HTTP_BODY_MAX - self->body_size)
        return s_fail (self, "response body larger than %d bytes",
                       HTTP_BODY_MAX);
    if (self->body_size + size + 1 > self->body_capacity) {
        size_t capacity = self->body_capacity ? self->body_capacity : 1024;
        while (capacity < self->body_size + size + 1)
            capacity *= 2;
        char *body = realloc (self->body, capacity);
        if (!body)
            return s_fail (self, "out of memory");
        self->body = body;
        self->body_capacity = capacity;
    }
    memcpy (self->body + self->body_size, data, size);
    self->body_size += size;
    self->body [self->body_size] = '\0';
    return 0;
}

//  Finds the next CRLF-terminated line at pos. Returns 1 with the line
//  (without CRLF) in *line/*len and pos moved past it, 0 when no full line
//  is there yet (error when more than max bytes are waiting), -1 on a
//  malformed line (bare CR or LF, NUL).
static int
s_line_take (http_response_t *self, size_t max, const char **line,
             size_t *len)
{
    const char *start = self->in + self->pos;
    size_t avail = self->in_size - self->pos;
    const char *lf = memchr (start, '\n', avail);
    if (!lf) {
        if (avail > max)
            return s_fail (self, "line too long");
        return 0;
    }
    size_t line_len = lf - start;
    if (line_len + 1 > max)
        return s_fail (self, "line too long");
    if (line_len == 0 || start [line_len - 1] != '\r')
        return s_fail (self, "bare LF in response");
    line_len--;
    for (size_t i = 0; i < line_len; i++)
        if (start [i] == '\r' || start [i] == '\0')
            return s_fail (self, "bare CR or NUL in response");
    *line = start;
    *len = line_len;
    self->pos += line_len + 2;
    return 1;
}

static int
s_status_parse (http_response_t *self, const char *line, size_t len)
{
    //  HTTP-version SP 3DIGIT SP [reason]; a missing reason SP is accepted
    //  as many servers omit it.
    if (len < 12 || memcmp (line, "HTTP/1.", 7) != 0
    ||  (line [7] != '0' && line [7] != '1'))
        return s_fail (self, "malformed status line");
    if (line [8] != ' '
    ||  !isdigit ((unsigned char) line [9])
    ||  !isdigit ((unsigned char) line [10])
    ||  !isdigit ((unsigned char) line [11])
    ||  (len > 12 && line [12] != ' '))
        return s_fail (self, "malformed status line");
    for (size_t i = 13; i < len; i++) {
        unsigned char c = (unsigned char) line [i];
        if ((c < ' ' && c != '\t') || c == 0x7F)
            return s_fail (self, "malformed status line");
    }
    int status = (line [9] - '0') * 100 + (line [10] - '0') * 10
               + (line [11] - '0');
    if (status < 100 || status > 599)
        return s_fail (self, "invalid status code %d", status);
    self->status = status;
    return 0;
}

//  Parses one field line; stores it unless store is false (trailers).
static int
s_field_parse (http_response_t *self, const char *line, size_t len,
               bool store)
{
    if (*line == ' ' || *line == '\t')
        return s_fail (self, "obsolete header line folding");
    size_t name_len = 0;
    while (name_len < len && http_token_char ((unsigned char) line [name_len]))
        name_len++;
    if (name_len == 0 || name_len == len || line [name_len] != ':')
        return s_fail (self, "malformed header line");
    const char *value = line + name_len + 1;
    const char *end = line + len;
    while (value < end && (*value == ' ' || *value == '\t'))
        value++;
    while (end > value && (end [-1] == ' ' || end [-1] == '\t'))
        end--;
    for (const char *p = value; p < end; p++) {
        unsigned char c = (unsigned char) *p;
        if ((c < ' ' && c != '\t') || c == 0x7F)
            return s_fail (self, "invalid character in header value");
    }
    if (!store)
        return 0;
    if (self->header_count == HTTP_HEADER_COUNT_MAX)
        return s_fail (self, "too many headers");
    header_t *header = &self->header [self->header_count];
    header->name = strndup (line, name_len);
    header->value = strndup (value, end - value);
    if (!header->name || !header->value) {
        free (header->name);
        free (header->value);
        return s_fail (self, "out of memory");
    }
    self->header_count++;
    return 0;
}

//  Decides how the body is delimited once the header section is complete.
static int
s_body_framing (http_response_t *self)
{
    if (self->status >= 100 && self->status < 200) {
        if (self->status == 101)
            return s_fail (self, "unexpected 101 Switching Protocols");
        s_headers_clear (self);     //  interim response: the real one follows
        self->state = STATE_STATUS;
        return 0;
    }
    const char *length = NULL;
    bool chunked = false;
    for (int i = 0; i < self->header_count; i++) {
        const header_t *header = &self->header [i];
        if (strcasecmp (header->name, "Transfer-Encoding") == 0) {
            if (chunked || strcasecmp (header->value, "chunked") != 0)
                return s_fail (self, "unsupported transfer coding \"%s\"",
                               header->value);
            chunked = true;
        }
        else
        if (strcasecmp (header->name, "Content-Length") == 0) {
            if (length && strcmp (length, header->value) != 0)
                return s_fail (self, "conflicting Content-Length headers");
            length = header->value;
        }
    }
    if (self->head || self->status == 204 || self->status == 304) {
        self->state = STATE_DONE;
        return 0;
    }
    if (chunked && length)
        return s_fail (self, "both Content-Length and Transfer-Encoding");
    if (chunked) {
        self->state = STATE_CHUNK_SIZE;
        return 0;
    }
    if (length) {
        uint64_t value = 0;
        if (*length == '\0')
            return s_fail (self, "invalid Content-Length");
        for (const char *p = length; *p; p++) {
            if (!isdigit ((unsigned char) *p))
                return s_fail (self, "invalid Content-Length");
            value = value * 10 + (uint64_t) (*p - '0');
            if (value > HTTP_BODY_MAX)
                return s_fail (self, "response body larger than %d bytes",
                               HTTP_BODY_MAX);
        }
        self->remaining = value;
        self->state = value ? STATE_BODY_LENGTH : STATE_DONE;
        return 0;
    }
    self->state = STATE_BODY_CLOSE;
    return 0;
}

static int
s_chunk_size_parse (http_response_t *self, const char *line, size_t len)
{
    uint64_t size = 0;
    size_t digits = 0;
    while (digits < len && isxdigit ((unsigned char) line [digits])) {
        if (digits == 16)
            return s_fail (self, "chunk size too large");
        int c = tolower ((unsigned char) line [digits]);
        size = size * 16 + (uint64_t) (isdigit (c) ? c - '0' : c - 'a' + 10);
        digits++;
    }
    if (digits == 0)
        return s_fail (self, "malformed chunk size");
    //  Chunk extensions (";name=value", after optional whitespace) are
    //  allowed and ignored.
    size_t rest = digits;
    while (rest < len && (line [rest] == ' ' || line [rest] == '\t'))
        rest++;
    if (rest < len && line [rest] != ';')
        return s_fail (self, "malformed chunk size");
    if (size > HTTP_BODY_MAX - self->body_size)
        return s_fail (self, "response body larger than %d bytes",
                       HTTP_BODY_MAX);
    self->remaining = size;
    if (size == 0) {
        self->header_bytes = 0;
        self->state = STATE_TRAILERS;
    }
    else
        self->state = STATE_CHUNK_DATA;
    return 0;
}

//  Copies up to remaining bytes of input into the body.
static int
s_body_take (http_response_t *self)
{
    size_t avail = self->in_size - self->pos;
    size_t take = avail < self->remaining ? avail : (size_t) self->remaining;
    if (take && s_body_append (self, self->in + self->pos, take))
        return -1;
    self->pos += take;
    self->remaining -= take;
    return 0;
}

//  Runs the state machine over the buffered input as far as it goes.
static int
s_parse (http_response_t *self)
{
    while (true) {
        const char *line;
        size_t len;
        int rc;
        switch (self->state) {
            case STATE_STATUS:
            case STATE_HEADERS:
            case STATE_TRAILERS:
                rc = s_line_take (self, HTTP_HEADERS_MAX - self->header_bytes,
                                  &line, &len);
                if (rc <= 0)
                    return rc;
                self->header_bytes += len + 2;
                if (self->state == STATE_STATUS) {
                    if (s_status_parse (self, line, len))
                        return -1;
                    self->state = STATE_HEADERS;
                }
                else
                if (len == 0) {
                    if (self->state == STATE_TRAILERS)
                        self->state = STATE_DONE;
                    else
                    if (s_body_framing (self))
                        return -1;
                    if (self->state == STATE_STATUS)
                        self->header_bytes = 0;
                }
                else
                if (s_field_parse (self, line, len,
                                   self->state == STATE_HEADERS))
                    return -1;
                break;
            case STATE_BODY_LENGTH:
                if (s_body_take (self))
                    return -1;
                if (self->remaining)
                    return 0;
                self->state = STATE_DONE;
                break;
            case STATE_CHUNK_SIZE:
                rc = s_line_take (self, HTTP_CHUNK_LINE_MAX, &line, &len);
                if (rc <= 0)
                    return rc;
                if (s_chunk_size_parse (self, line, len))
                    return -1;
                break;
            case STATE_CHUNK_DATA:
                if (s_body_take (self))
                    return -1;
                if (self->remaining)
                    return 0;
                self->state = STATE_CHUNK_END;
                break;
            case STATE_CHUNK_END:
                if (self->in_size - self->pos < 2)
                    return 0;
                if (memcmp (self->in + self->pos, "\r\n", 2) != 0)
                    return s_fail (self, "missing CRLF after chunk data");
                self->pos += 2;
                self->state = STATE_CHUNK_SIZE;
                break;
            case STATE_BODY_CLOSE:
                if (s_body_append (self, self->in + self->pos,
                                   self->in_size - self->pos))
                    return -1;
                self->pos = self->in_size;
                return 0;
            case STATE_DONE:
                return 1;
            case STATE_ERROR:
                return -1;
        }
    }
}

int
http_response_feed (http_response_t *self, const char *data, size_t size)
{
    assert (self);
    if (self->state == STATE_DONE)
        return 1;
    if (self->state == STATE_ERROR)
        return -1;
    if (size == 0)
        return 0;
    self->received = true;
    //  Drop what was consumed before growing the buffer.
    if (self->pos > 0) {
        memmove (self->in, self->in + self->pos, self->in_size - self->pos);
        self->in_size -= self->pos;
        self->pos = 0;
    }
    if (self->in_size + size > self->in_capacity) {
        size_t capacity = self->in_capacity ? self->in_capacity : 4096;
        while (capacity < self->in_size + size)
            capacity *= 2;
        char *in = realloc (self->in, capacity);
        if (!in)
            return s_fail (self, "out of memory");
        self->in = in;
        self->in_capacity = capacity;
    }
    memcpy (self->in + self->in_size, data, size);
    self->in_size += size;
    return s_parse (self);
}

int
http_response_eof (http_response_t *self)
{
    assert (self);
    if (self->state == STATE_DONE)
        return 1;
    if (self->state == STATE_BODY_CLOSE) {
        self->state = STATE_DONE;
        return 1;
    }
    if (self->state == STATE_ERROR)
        return -1;
    if (!self->received)
        return s_fail (self, "connection closed without a response (EOF)");
    return s_fail (self, "connection closed before the response was "
                   "complete (unexpected EOF)");
}

int
http_response_status (http_response_t *self)
{
    assert (self);
    return self->status;
}

const char *
http_response_header (http_response_t *self, const char *name)
{
    assert (self && name);
    for (int i = 0; i < self->header_count; i++)
        if (strcasecmp (self->header [i].name, name) == 0)
            return self->header [i].value;
    return NULL;
}

const char *
http_response_body (http_response_t *self)
{
    assert (self);
    return self->body;
}

size_t
http_response_body_size (http_response_t *self)
{
    assert (self);
    return self->body_size;
}

const char *
http_response_error (http_response_t *self)
{
    assert (self);
    return self->error;
}

bool
http_token_char (unsigned char c)
{
    return isalnum (c) || (c && strchr ("!#$%&'*+-.^_`|~", c));
}
