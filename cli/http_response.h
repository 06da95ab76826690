/*  http_response: the incremental HTTP/1.1 response parser of the CLI's
    HTTP client (RFC 9112). It takes bytes as they arrive: status line,
    headers (CRLF line endings, no obsolete line folding, at most
    HTTP_HEADERS_MAX bytes), then a body delimited by Content-Length, by
    chunked transfer coding, or by the connection close (at most
    HTTP_BODY_MAX bytes). Anything else is malformed and reported. */
#ifndef MRD_CLI_HTTP_RESPONSE_H
#define MRD_CLI_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEADERS_MAX    (64 * 1024)         //  whole header section
#define HTTP_BODY_MAX       (64 * 1024 * 1024)

typedef struct _http_response_t http_response_t;

//  head: the response answers a HEAD request (it has no body).
http_response_t *http_response_new (bool head);
void http_response_destroy (http_response_t **self_p);

//  Feeds received bytes. Returns 1 once the response is complete (bytes
//  after it are ignored), 0 when more are needed, -1 when the response is
//  malformed or too large (see http_response_error). Interim 1xx responses
//  are skipped.
int http_response_feed (http_response_t *self, const char *data,
                        size_t size);
//  The peer closed the connection. Returns 1 if that completes the
//  response (a body delimited by the close, or already complete), -1 if
//  the response is truncated.
int http_response_eof (http_response_t *self);

int http_response_status (http_response_t *self);
//  The value of the first header named name (case-insensitive), or NULL.
const char *http_response_header (http_response_t *self, const char *name);
//  The body, always followed by a NUL byte (not counted in size).
const char *http_response_body (http_response_t *self);
size_t http_response_body_size (http_response_t *self);
const char *http_response_error (http_response_t *self);

//  True for the characters of an RFC 9110 token (header names).
bool http_token_char (unsigned char c);

#endif
