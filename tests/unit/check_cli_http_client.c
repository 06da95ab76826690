/*  Unit tests of cli/http_client: agent address parsing, path escaping,
    and the client against a one-shot loopback server (request format,
    connection refused, timeout, malformed and truncated answers). */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cli/http_client.h"

//  --------------------------------------------------------------------
//  Address parsing

static int
s_addr (const char *text, char *host, int *port)
{
    char err [256];
    return http_addr_parse (text, host, HTTP_HOST_MAX, port, err,
                            sizeof (err));
}

START_TEST (test_addr_valid)
{
    char host [HTTP_HOST_MAX];
    int port = 0;
    ck_assert_int_eq (s_addr ("127.0.0.1", host, &port), 0);
    ck_assert_str_eq (host, "127.0.0.1");
    ck_assert_int_eq (port, 8500);
    ck_assert_int_eq (s_addr ("127.0.2.10:8501", host, &port), 0);
    ck_assert_str_eq (host, "127.0.2.10");
    ck_assert_int_eq (port, 8501);
    ck_assert_int_eq (s_addr ("http://127.0.0.1:9000", host, &port), 0);
    ck_assert_str_eq (host, "127.0.0.1");
    ck_assert_int_eq (port, 9000);
    ck_assert_int_eq (s_addr ("HTTP://localhost/", host, &port), 0);
    ck_assert_str_eq (host, "localhost");
    ck_assert_int_eq (port, 8500);
    ck_assert_int_eq (s_addr ("http://example.com:1/", host, &port), 0);
    ck_assert_str_eq (host, "example.com");
    ck_assert_int_eq (port, 1);
    ck_assert_int_eq (s_addr ("[::1]:65535", host, &port), 0);
    ck_assert_str_eq (host, "::1");
    ck_assert_int_eq (port, 65535);
    ck_assert_int_eq (s_addr ("http://[fe80::1]", host, &port), 0);
    ck_assert_str_eq (host, "fe80::1");
    ck_assert_int_eq (port, 8500);
    ck_assert_int_eq (s_addr ("::1", host, &port), 0);
    ck_assert_str_eq (host, "::1");
    ck_assert_int_eq (port, 8500);
}
END_TEST

START_TEST (test_addr_invalid)
{
    static const char *bad [] = {
        "", "https://127.0.0.1", "unix:///tmp/sock", "http://", "h:",
        "h:0", "h:65536", "h:abc", "h:80x", "h:-1", "h/path", "http://h/v1",
        "[::1", "[::1]x", "[::1]:", "[]:80", "a b", ":8500", "h?x", "u@h",
        "http:///", "h:123456"
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad [0]); i++) {
        char host [HTTP_HOST_MAX] = "unchanged";
        int port = 42;
        char err [256] = "";
        int rc = http_addr_parse (bad [i], host, sizeof (host), &port, err,
                                  sizeof (err));
        ck_assert_msg (rc == -1, "accepted \"%s\"", bad [i]);
        ck_assert_msg (*err, "no error text for \"%s\"", bad [i]);
        ck_assert_int_eq (port, 42);
    }
    ck_assert_int_eq (http_addr_parse (NULL, (char [8]) { 0 }, 8,
                                       &(int) { 0 }, NULL, 0), -1);
    //  A host that does not fit the buffer.
    char small [4];
    int port;
    ck_assert_int_eq (http_addr_parse ("abcdef", small, sizeof (small), &port,
                                       NULL, 0), -1);
}
END_TEST

START_TEST (test_escape)
{
    char *text = http_escape ("web 1/a?b=c&d%é~._-Z9+#");
    ck_assert_str_eq (text, "web%201%2Fa%3Fb%3Dc%26d%25%C3%A9~._-Z9%2B%23");
    free (text);
    text = http_escape ("127.0.0.1:8301 u@h");
    ck_assert_str_eq (text, "127.0.0.1:8301%20u@h");
    free (text);
    text = http_escape ("");
    ck_assert_str_eq (text, "");
    free (text);
}
END_TEST

//  --------------------------------------------------------------------
//  Client against a one-shot server

typedef struct {
    pid_t pid;
    int port;
    int request_fd;             //  the server writes the request it got here
} server_t;

//  Forks a server that accepts one connection on 127.0.0.1, reads the
//  request head and its Content-Length body, reports them on a pipe, and
//  answers with reply (NULL: never answers).
static void
s_server_start (server_t *server, const char *reply)
{
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge (listener, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    ck_assert_int_eq (bind (listener, (struct sockaddr *) &addr,
                            sizeof (addr)), 0);
    ck_assert_int_eq (listen (listener, 1), 0);
    socklen_t len = sizeof (addr);
    getsockname (listener, (struct sockaddr *) &addr, &len);
    server->port = ntohs (addr.sin_port);
    int pipe_fd [2];
    ck_assert_int_eq (pipe (pipe_fd), 0);
    server->pid = fork ();
    ck_assert_int_ge (server->pid, 0);
    if (server->pid == 0) {
        close (pipe_fd [0]);
        int fd = accept (listener, NULL, NULL);
        char request [8192];
        size_t size = 0;
        while (size < sizeof (request) - 1) {
            ssize_t got = recv (fd, request + size, sizeof (request) - 1 - size,
                                0);
            if (got <= 0)
                break;
            size += got;
            request [size] = '\0';
            char *end = strstr (request, "\r\n\r\n");
            if (!end)
                continue;
            char *length = strcasestr (request, "Content-Length: ");
            size_t body = length ? strtoul (length + 16, NULL, 10) : 0;
            if (size >= (size_t) (end + 4 - request) + body)
                break;
        }
        ssize_t rc = write (pipe_fd [1], request, size);
        close (pipe_fd [1]);
        if (!reply)
            pause ();
        rc = send (fd, reply, strlen (reply), 0);
        (void) rc;
        close (fd);
        _exit (0);
    }
    close (listener);
    close (pipe_fd [1]);
    server->request_fd = pipe_fd [0];
}

static void
s_server_request (server_t *server, char *buf, size_t size)
{
    size_t got = 0;
    ssize_t rc;
    while (got < size - 1
       &&  (rc = read (server->request_fd, buf + got, size - 1 - got)) > 0)
        got += rc;
    buf [got] = '\0';
}

static void
s_server_stop (server_t *server)
{
    kill (server->pid, SIGKILL);
    waitpid (server->pid, NULL, 0);
    close (server->request_fd);
}

START_TEST (test_client_request)
{
    server_t server;
    s_server_start (&server, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n"
                             "4\r\ntrue\r\n0\r\n\r\n");
    http_client_t *client = http_client_new ("127.0.0.1", server.port, 5000);
    ck_assert_int_eq (http_client_set_header (client, "X-Consul-Token",
                                              "secret"), 0);
    ck_assert_int_eq (http_client_set_header (client, "Bad Name", "x"), -1);
    ck_assert_int_eq (http_client_set_header (client, "X-A", "a\r\nb"), -1);
    http_response_t *response = http_client_request (
        client, "PUT", "/v1/agent/service/register", "{\"Name\":\"web\"}", 14);
    ck_assert_msg (response, "%s", http_client_error (client));
    ck_assert_int_eq (http_response_status (response), 200);
    ck_assert_str_eq (http_response_body (response), "true");
    http_response_destroy (&response);
    char request [8192];
    s_server_request (&server, request, sizeof (request));
    ck_assert_msg (strncmp (request, "PUT /v1/agent/service/register "
                            "HTTP/1.1\r\n", 41) == 0, "%s", request);
    char host [64];
    snprintf (host, sizeof (host), "\r\nHost: 127.0.0.1:%d\r\n", server.port);
    ck_assert_ptr_nonnull (strstr (request, host));
    ck_assert_ptr_nonnull (strstr (request, "\r\nX-Consul-Token: secret\r\n"));
    ck_assert_ptr_nonnull (strstr (request, "\r\nContent-Length: 14\r\n"));
    ck_assert_ptr_nonnull (strstr (request, "\r\nConnection: close\r\n"));
    ck_assert_ptr_nonnull (strstr (request, "\r\n\r\n{\"Name\":\"web\"}"));
    s_server_stop (&server);

    //  A PUT without a body still says Content-Length: 0; a GET does not.
    s_server_start (&server, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    http_client_destroy (&client);
    client = http_client_new ("127.0.0.1", server.port, 5000);
    response = http_client_request (client, "PUT", "/v1/agent/leave", NULL, 0);
    ck_assert_ptr_nonnull (response);
    http_response_destroy (&response);
    s_server_request (&server, request, sizeof (request));
    ck_assert_ptr_nonnull (strstr (request, "\r\nContent-Length: 0\r\n"));
    s_server_stop (&server);
    s_server_start (&server, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]");
    http_client_destroy (&client);
    client = http_client_new ("127.0.0.1", server.port, 5000);
    response = http_client_request (client, "GET", "/v1/catalog/nodes?dc=dc1",
                                    NULL, 0);
    ck_assert_ptr_nonnull (response);
    http_response_destroy (&response);
    s_server_request (&server, request, sizeof (request));
    ck_assert_ptr_null (strstr (request, "Content-Length"));
    ck_assert (strncmp (request, "GET /v1/catalog/nodes?dc=dc1 HTTP/1.1\r\n",
                        39) == 0);
    s_server_stop (&server);
    //  An invalid path is refused before connecting.
    ck_assert_ptr_null (http_client_request (client, "GET", "/a b", NULL, 0));
    ck_assert_ptr_null (http_client_request (client, "get", "/", NULL, 0));
    http_client_destroy (&client);
    ck_assert_ptr_null (client);
}
END_TEST

START_TEST (test_client_errors)
{
    //  Nothing listens: Go-style "connection refused".
    server_t server;
    s_server_start (&server, "x");
    int port = server.port;
    s_server_stop (&server);       //  the listener is closed with the child
    http_client_t *client = http_client_new ("127.0.0.1", port, 2000);
    ck_assert_ptr_null (http_client_request (client, "GET", "/v1/x", NULL, 0));
    char expected [128];
    snprintf (expected, sizeof (expected), "Get \"http://127.0.0.1:%d/v1/x\": "
              "dial tcp 127.0.0.1:%d: connect: connection refused", port, port);
    ck_assert_str_eq (http_client_error (client), expected);
    http_client_destroy (&client);

    //  A server that never answers: i/o timeout.
    s_server_start (&server, NULL);
    client = http_client_new ("127.0.0.1", server.port, 300);
    ck_assert_ptr_null (http_client_request (client, "GET", "/v1/x", NULL, 0));
    ck_assert_ptr_nonnull (strstr (http_client_error (client), "i/o timeout"));
    http_client_destroy (&client);
    s_server_stop (&server);

    //  A malformed answer, and one cut short by the close.
    s_server_start (&server, "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n");
    client = http_client_new ("127.0.0.1", server.port, 2000);
    ck_assert_ptr_null (http_client_request (client, "GET", "/", NULL, 0));
    ck_assert_ptr_nonnull (strstr (http_client_error (client),
                                   "malformed HTTP response"));
    http_client_destroy (&client);
    s_server_stop (&server);
    s_server_start (&server, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab");
    client = http_client_new ("127.0.0.1", server.port, 2000);
    ck_assert_ptr_null (http_client_request (client, "GET", "/", NULL, 0));
    ck_assert_ptr_nonnull (strstr (http_client_error (client),
                                   "unexpected EOF"));
    http_client_destroy (&client);
    s_server_stop (&server);

    //  A host that does not resolve.
    client = http_client_new ("no-such-host.invalid", 8500, 2000);
    ck_assert_ptr_null (http_client_request (client, "GET", "/", NULL, 0));
    ck_assert_ptr_nonnull (strstr (http_client_error (client), "lookup"));
    http_client_destroy (&client);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_http_client");
    TCase *tc = tcase_create ("address");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_addr_valid);
    tcase_add_test (tc, test_addr_invalid);
    tcase_add_test (tc, test_escape);
    suite_add_tcase (suite, tc);
    tc = tcase_create ("client");
    tcase_set_timeout (tc, 30);
    tcase_add_test (tc, test_client_request);
    tcase_add_test (tc, test_client_errors);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
