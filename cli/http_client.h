/*  http_client: a small strict HTTP/1.1 client for the CLI (RFC 9112).
    One request per connection ("Connection: close"), blocking sockets with
    a deadline on connect, send and each wait for response bytes; the
    response is parsed by http_response (strict, see http_response.h). Also
    the parsing of agent addresses and the escaping of path segments. */
#ifndef MRD_CLI_HTTP_CLIENT_H
#define MRD_CLI_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "http_response.h"

#define HTTP_DEFAULT_PORT   8500
#define HTTP_HOST_MAX       256

//  Parses an agent address: "host", "host:port", "[v6]", "[v6]:port", a
//  bare IPv6 literal, each with an optional "http://" prefix and trailing
//  "/". The default port is 8500. Returns 0, or -1 with the reason in err.
int http_addr_parse (const char *text, char *host, size_t host_size,
                     int *port, char *err, size_t err_size);

//  Percent-encodes every byte of text but RFC 3986 unreserved characters
//  and ':' and '@' (valid in both), for a path segment or a query value
//  ("127.0.0.1:8301" stays as it is, as Go's client sends it). Caller
//  owns return value; NULL when out of memory.
char *http_escape (const char *text);

//  --------------------------------------------------------------------
//  The client.

typedef struct _http_client_t http_client_t;

//  A client of host:port; timeout_ms bounds each connect, send and the
//  wait for each chunk of the response.
http_client_t *http_client_new (const char *host, int port, int timeout_ms);
void http_client_destroy (http_client_t **self_p);

//  Adds a header sent with every request ("Name", "value"; copied).
//  Returns 0/-1.
int http_client_set_header (http_client_t *self, const char *name,
                            const char *value);

//  Sends one request (path with its query string) and reads the complete
//  response. body may be NULL; a PUT or POST without a body sends
//  "Content-Length: 0". Returns a response (whatever its status; caller
//  owns it), or NULL on a connection, timeout or protocol error, whose text
//  http_client_error returns.
http_response_t *http_client_request (http_client_t *self,
                                      const char *method, const char *path,
                                      const char *body, size_t body_size);
const char *http_client_error (http_client_t *self);

#endif
