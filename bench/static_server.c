/*  static_server: the HTTP baseline of bench/http.sh. Serves one file's
    bytes as a JSON body for every request, from libmicrohttpd with the same
    threading model as httpd (one thread, epoll) and keep-alive (the response
    is queued on the second handler call), so the ratio measures what
    Meridian adds on top of the HTTP library.
    Usage: static_server <ip> <port> <body-file> */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_stop = 1;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *connection, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    (void) url; (void) method; (void) version; (void) upload_data;
    static int first;
    if (*con_cls != &first) {
        *con_cls = &first;
        return MHD_YES;
    }
    *upload_data_size = 0;
    return MHD_queue_response (connection, MHD_HTTP_OK, (struct MHD_Response *) cls);
}

int
main (int argc, char **argv)
{
    if (argc != 4) {
        fprintf (stderr, "usage: static_server <ip> <port> <body-file>\n");
        return 1;
    }
    FILE *file = fopen (argv[3], "rb");
    if (!file) {
        perror (argv[3]);
        return 1;
    }
    static char body[16 * 1024 * 1024];
    size_t size = fread (body, 1, sizeof body, file);
    fclose (file);
    struct MHD_Response *response = MHD_create_response_from_buffer (
        size, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header (response, "Content-Type", "application/json");
    MHD_add_response_header (response, "X-Consul-Index", "1");
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons ((uint16_t) atoi (argv[2]));
    inet_pton (AF_INET, argv[1], &addr.sin_addr);
    struct MHD_Daemon *daemon = MHD_start_daemon (
        MHD_USE_EPOLL_INTERNAL_THREAD, 0, NULL, NULL, s_handle, response,
        MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT, 20000,
        MHD_OPTION_END);
    if (!daemon) {
        fprintf (stderr, "cannot listen on %s:%s\n", argv[1], argv[2]);
        return 1;
    }
    signal (SIGTERM, s_on_signal);
    signal (SIGINT, s_on_signal);
    while (!s_stop)
        pause ();
    MHD_stop_daemon (daemon);
    MHD_destroy_response (response);
    return 0;
}
