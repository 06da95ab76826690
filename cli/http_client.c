/*  http_client: strict HTTP/1.1 client of the CLI (see http_client.h).
    Owns agent address parsing, path escaping and the blocking
    one-request-per-connection client; responses are parsed by
    http_response.c. */
#include "http_client.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_CLIENT_HEADERS_MAX 8
#define HTTP_ERROR_MAX          512

//  --------------------------------------------------------------------
//  Address parsing

static void
s_err (char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || err_size == 0)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, err_size, fmt, args);
    va_end (args);
}

static int
s_port_parse (const char *text, size_t len, int *port)
{
    if (len == 0 || len > 5)
        return -1;
    int value = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit ((unsigned char) text [i]))
            return -1;
        value = value * 10 + (text [i] - '0');
    }
    if (value < 1 || value > 65535)
        return -1;
    *port = value;
    return 0;
}

int
http_addr_parse (const char *text, char *host, size_t host_size, int *port,
                 char *err, size_t err_size)
{
    assert (host && host_size && port);
    if (!text || *text == '\0') {
        s_err (err, err_size, "empty address");
        return -1;
    }
    const char *start = text;
    const char *scheme = strstr (text, "://");
    if (scheme) {
        if ((size_t) (scheme - text) == 4 && strncasecmp (text, "http", 4) == 0)
            start = scheme + 3;
        else {
            s_err (err, err_size, "unsupported scheme in address \"%s\" "
                   "(only http:// is supported)", text);
            return -1;
        }
    }
    size_t len = strlen (start);
    if (len > 0 && start [len - 1] == '/')
        len--;                  //  one trailing slash, as in "http://h:1/"
    if (len == 0) {
        s_err (err, err_size, "missing host in address \"%s\"", text);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) start [i];
        if (c <= ' ' || c == 0x7F || c == '/' || c == '?' || c == '#'
        ||  c == '@') {
            s_err (err, err_size, "invalid character in address \"%s\"", text);
            return -1;
        }
    }
    const char *host_start = start;
    size_t host_len = len;
    int port_value = HTTP_DEFAULT_PORT;
    if (*start == '[') {
        const char *close = memchr (start, ']', len);
        if (!close) {
            s_err (err, err_size, "missing ']' in address \"%s\"", text);
            return -1;
        }
        host_start = start + 1;
        host_len = close - host_start;
        const char *rest = close + 1;
        size_t rest_len = len - (rest - start);
        if (rest_len > 0) {
            if (*rest != ':' || s_port_parse (rest + 1, rest_len - 1,
                                              &port_value)) {
                s_err (err, err_size, "invalid port in address \"%s\"", text);
                return -1;
            }
        }
        if (host_len == 0 || memchr (host_start, '[', host_len)) {
            s_err (err, err_size, "invalid host in address \"%s\"", text);
            return -1;
        }
    }
    else {
        const char *colon = memchr (start, ':', len);
        const char *last = colon;
        for (const char *p = start; p < start + len; p++)
            if (*p == ':')
                last = p;
        if (colon && colon == last) {
            host_len = colon - start;
            if (s_port_parse (colon + 1, len - host_len - 1, &port_value)) {
                s_err (err, err_size, "invalid port in address \"%s\"", text);
                return -1;
            }
        }
        //  Several colons and no brackets: a bare IPv6 literal, no port.
        if (host_len == 0 || memchr (host_start, '[', host_len)
        ||  memchr (host_start, ']', host_len)) {
            s_err (err, err_size, "invalid host in address \"%s\"", text);
            return -1;
        }
    }
    if (host_len >= host_size) {
        s_err (err, err_size, "host too long in address \"%s\"", text);
        return -1;
    }
    memcpy (host, host_start, host_len);
    host [host_len] = '\0';
    *port = port_value;
    return 0;
}

char *
http_escape (const char *text)
{
    assert (text);
    static const char hex [] = "0123456789ABCDEF";
    char *escaped = malloc (strlen (text) * 3 + 1);
    if (!escaped)
        return NULL;
    char *out = escaped;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        if (isalnum (*p) || strchr ("-._~:@", *p))
            *out++ = (char) *p;
        else {
            *out++ = '%';
            *out++ = hex [*p >> 4];
            *out++ = hex [*p & 15];
        }
    }
    *out = '\0';
    return escaped;
}

//  --------------------------------------------------------------------
//  Client

struct _http_client_t {
    char host [HTTP_HOST_MAX];
    int port;
    int timeout_ms;
    char *header [HTTP_CLIENT_HEADERS_MAX];     //  "Name: value"
    int header_count;
    char error [HTTP_ERROR_MAX];
};

http_client_t *
http_client_new (const char *host, int port, int timeout_ms)
{
    assert (host && port > 0 && port <= 65535 && timeout_ms > 0);
    if (strlen (host) >= HTTP_HOST_MAX)
        return NULL;
    http_client_t *self = calloc (1, sizeof (http_client_t));
    if (!self)
        return NULL;
    snprintf (self->host, sizeof (self->host), "%s", host);
    self->port = port;
    self->timeout_ms = timeout_ms;
    return self;
}

void
http_client_destroy (http_client_t **self_p)
{
    assert (self_p);
    http_client_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->header_count; i++)
        free (self->header [i]);
    free (self);
    *self_p = NULL;
}

static bool
s_header_text_valid (const char *text, bool name)
{
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        if (name ? !http_token_char (*p) : ((*p < ' ' && *p != '\t') || *p == 0x7F))
            return false;
    return !name || *text;
}

int
http_client_set_header (http_client_t *self, const char *name,
                        const char *value)
{
    assert (self && name && value);
    if (self->header_count == HTTP_CLIENT_HEADERS_MAX
    ||  !s_header_text_valid (name, true) || !s_header_text_valid (value, false))
        return -1;
    size_t size = strlen (name) + strlen (value) + 3;
    char *line = malloc (size);
    if (!line)
        return -1;
    snprintf (line, size, "%s: %s", name, value);
    self->header [self->header_count++] = line;
    return 0;
}

const char *
http_client_error (http_client_t *self)
{
    assert (self);
    return self->error;
}

//  Go-style operation prefix for errors: `Get "http://host:port/path"`.
static void
s_client_fail (http_client_t *self, const char *method, const char *path,
               const char *fmt, ...)
{
    char verb [16];
    size_t i = 0;
    for (; method [i] && i < sizeof (verb) - 1; i++)
        verb [i] = i ? tolower ((unsigned char) method [i]) : method [i];
    verb [i] = '\0';
    bool v6 = strchr (self->host, ':') != NULL;
    int n = snprintf (self->error, sizeof (self->error),
                      "%s \"http://%s%s%s:%d%s\": ", verb, v6 ? "[" : "",
                      self->host, v6 ? "]" : "", self->port, path);
    if (n < 0 || (size_t) n >= sizeof (self->error))
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error + n, sizeof (self->error) - n, fmt, args);
    va_end (args);
}

//  strerror with a lower-case first letter, as Go prints syscall errors.
static const char *
s_errno_text (int code, char *buf, size_t size)
{
    snprintf (buf, size, "%s", strerror (code));
    buf [0] = tolower ((unsigned char) buf [0]);
    return buf;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Waits until fd is ready for events or the deadline passes.
//  Returns 1 ready, 0 timeout, -1 error (errno set).
static int
s_wait (int fd, short events, int64_t deadline)
{
    while (true) {
        int64_t left = deadline - s_now_ms ();
        if (left <= 0)
            return 0;
        struct pollfd item = { .fd = fd, .events = events };
        int rc = poll (&item, 1, (int) left);
        if (rc < 0 && errno == EINTR)
            continue;
        return rc < 0 ? -1 : rc;
    }
}

//  Connects to the first address of host that accepts. Returns the socket
//  (non-blocking) or -1 with the error set.
static int
s_connect (http_client_t *self, const char *method, const char *path)
{
    char port [8];
    snprintf (port, sizeof (port), "%d", self->port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_NUMERICSERV
    };
    struct addrinfo *list = NULL;
    int rc = getaddrinfo (self->host, port, &hints, &list);
    if (rc) {
        s_client_fail (self, method, path, "dial tcp: lookup %s: %s",
                       self->host, gai_strerror (rc));
        return -1;
    }
    bool v6 = strchr (self->host, ':') != NULL;
    char text [128];
    int fd = -1;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        fd = socket (ai->ai_family,
                     ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     ai->ai_protocol);
        if (fd < 0) {
            s_client_fail (self, method, path, "dial tcp: socket: %s",
                           s_errno_text (errno, text, sizeof (text)));
            continue;
        }
        int code = 0;
        if (connect (fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            code = errno;
            if (code == EINPROGRESS) {
                rc = s_wait (fd, POLLOUT, s_now_ms () + self->timeout_ms);
                if (rc == 0)
                    code = ETIMEDOUT;
                else
                if (rc < 0)
                    code = errno;
                else {
                    socklen_t code_len = sizeof (code);
                    if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &code,
                                    &code_len) < 0)
                        code = errno;
                }
            }
        }
        if (code == 0)
            break;
        s_client_fail (self, method, path, "dial tcp %s%s%s:%d: connect: %s",
                       v6 ? "[" : "", self->host, v6 ? "]" : "", self->port,
                       code == ETIMEDOUT ? "i/o timeout"
                       : s_errno_text (code, text, sizeof (text)));
        close (fd);
        fd = -1;
    }
    freeaddrinfo (list);
    return fd;
}

static int
s_send_all (http_client_t *self, int fd, const char *data, size_t size,
            const char *method, const char *path)
{
    char text [128];
    while (size > 0) {
        ssize_t sent = send (fd, data, size, MSG_NOSIGNAL);
        if (sent > 0) {
            data += sent;
            size -= sent;
            continue;
        }
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = s_wait (fd, POLLOUT, s_now_ms () + self->timeout_ms);
            if (rc > 0)
                continue;
            s_client_fail (self, method, path, "write: %s", rc == 0
                           ? "i/o timeout"
                           : s_errno_text (errno, text, sizeof (text)));
            return -1;
        }
        s_client_fail (self, method, path, "write: %s",
                       s_errno_text (errno, text, sizeof (text)));
        return -1;
    }
    return 0;
}

static bool
s_request_target_valid (const char *method, const char *path)
{
    if (!*method || *path != '/')
        return false;
    for (const char *p = method; *p; p++)
        if (!isupper ((unsigned char) *p))
            return false;
    for (const unsigned char *p = (const unsigned char *) path; *p; p++)
        if (*p <= ' ' || *p >= 0x7F)
            return false;
    return true;
}

http_response_t *
http_client_request (http_client_t *self, const char *method,
                     const char *path, const char *body, size_t body_size)
{
    assert (self && method && path);
    self->error [0] = '\0';
    if (!s_request_target_valid (method, path)) {
        s_client_fail (self, method, path, "invalid request method or path");
        return NULL;
    }
    //  The request head.
    bool v6 = strchr (self->host, ':') != NULL;
    bool with_length = body || strcmp (method, "PUT") == 0
                    || strcmp (method, "POST") == 0
                    || strcmp (method, "PATCH") == 0;
    size_t head_size = strlen (method) + strlen (path) + strlen (self->host)
                     + 256;
    for (int i = 0; i < self->header_count; i++)
        head_size += strlen (self->header [i]) + 2;
    char *head = malloc (head_size);
    if (!head) {
        s_client_fail (self, method, path, "out of memory");
        return NULL;
    }
    int len = snprintf (head, head_size,
                        "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\n"
                        "User-Agent: meridian-cli\r\nAccept: */*\r\n"
                        "Connection: close\r\n",
                        method, path, v6 ? "[" : "", self->host, v6 ? "]" : "",
                        self->port);
    for (int i = 0; i < self->header_count; i++)
        len += snprintf (head + len, head_size - len, "%s\r\n",
                         self->header [i]);
    if (body)
        len += snprintf (head + len, head_size - len,
                         "Content-Type: application/json\r\n");
    if (with_length)
        len += snprintf (head + len, head_size - len,
                         "Content-Length: %zu\r\n", body ? body_size : 0);
    len += snprintf (head + len, head_size - len, "\r\n");
    assert ((size_t) len < head_size);

    http_response_t *response = NULL;
    int fd = s_connect (self, method, path);
    if (fd < 0)
        goto cleanup;
    if (s_send_all (self, fd, head, len, method, path)
    ||  (body && s_send_all (self, fd, body, body_size, method, path)))
        goto cleanup;
    response = http_response_new (strcmp (method, "HEAD") == 0);
    if (!response) {
        s_client_fail (self, method, path, "out of memory");
        goto cleanup;
    }
    char buffer [16384];
    char text [128];
    while (true) {
        ssize_t got = recv (fd, buffer, sizeof (buffer), 0);
        int rc;
        if (got > 0)
            rc = http_response_feed (response, buffer, got);
        else
        if (got == 0)
            rc = http_response_eof (response);
        else
        if (errno == EINTR)
            continue;
        else
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            rc = s_wait (fd, POLLIN, s_now_ms () + self->timeout_ms);
            if (rc > 0)
                continue;
            s_client_fail (self, method, path, "read: %s", rc == 0
                           ? "i/o timeout"
                           : s_errno_text (errno, text, sizeof (text)));
            http_response_destroy (&response);
            break;
        }
        else {
            s_client_fail (self, method, path, "read: %s",
                           s_errno_text (errno, text, sizeof (text)));
            http_response_destroy (&response);
            break;
        }
        if (rc == 1)
            break;
        if (rc < 0) {
            s_client_fail (self, method, path, "malformed HTTP response: %s",
                           http_response_error (response));
            http_response_destroy (&response);
            break;
        }
    }
cleanup:
    if (fd >= 0)
        close (fd);
    free (head);
    return response;
}
