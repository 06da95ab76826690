/*  catalog_call: sends requests to a daemon's local RPC endpoint
    (docs/protocol/local-rpc.md) and prints the reply, for tests and
    benchmarks that do not speak ZeroMQ themselves.

    Usage: catalog_call [-d daemon] [-t timeout_ms] [-n count -c inflight]
                        DATA_DIR COMMAND [BODY_JSON]

    Prints the reply body (compact JSON) on stdout, prefixed by "ERR " for
    an error reply. Exit: 0 REP, 1 ERR, 2 timeout or daemon unavailable,
    3 usage or bad JSON. With -n, sends the request count times keeping up
    to inflight outstanding, prints the last reply, and prints
    "requests=N seconds=S rate=R errors=E" on stderr. */
#include "envelope.h"
#include "rpc_client.h"
#include "timeutil.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long done;
    long errors;
    long inflight;
    char *last;
    int last_type;
} s_bench_t;

static void
s_usage (void)
{
    fprintf (stderr, "usage: catalog_call [-d daemon] [-t timeout_ms] "
             "[-n count -c inflight] DATA_DIR COMMAND [BODY_JSON]\n");
}

static void
s_keep (s_bench_t *bench, envelope_t *reply)
{
    free (bench->last);
    bench->last = cJSON_PrintUnformatted (reply->body);
    bench->last_type = reply->type;
}

static void
s_on_reply (void *arg, int status, envelope_t *reply)
{
    s_bench_t *bench = (s_bench_t *) arg;
    bench->done++;
    bench->inflight--;
    if (status != RPC_OK || reply->type != ENVELOPE_REP)
        bench->errors++;
    if (status == RPC_OK)
        s_keep (bench, reply);
}

static int
s_print (int type, const char *text)
{
    printf ("%s%s\n", type == ENVELOPE_ERR ? "ERR " : "", text ? text : "");
    return type == ENVELOPE_REP ? 0 : 1;
}

static int
s_bench (rpc_client_t *client, const char *command, const char *body_text,
         long count, long inflight, int64_t timeout_ms)
{
    s_bench_t bench = { 0, 0, 0, NULL, 0 };
    long sent = 0;
    int64_t start = time_mono_us ();
    struct pollfd item = { rpc_client_fd (client), POLLIN, 0 };
    while (bench.done < count) {
        while (sent < count && bench.inflight < inflight) {
            cJSON *body = cJSON_Parse (body_text);
            bench.inflight++;
            sent++;
            rpc_client_send (client, command, &body, timeout_ms, s_on_reply,
                             &bench);
        }
        rpc_client_process (client);
        rpc_client_expire (client);
        if (bench.done < count && bench.inflight >= inflight)
            poll (&item, 1, 1);
    }
    double seconds = (double) (time_mono_us () - start) / 1e6;
    fprintf (stderr, "requests=%ld seconds=%.3f rate=%.0f errors=%ld\n",
             count, seconds, seconds > 0 ? count / seconds : 0.0, bench.errors);
    int rc = bench.last ? s_print (bench.last_type, bench.last) : 2;
    free (bench.last);
    return bench.errors ? (rc ? rc : 1) : rc;
}

int
main (int argc, char **argv)
{
    const char *daemon = "catalogd";
    int64_t timeout_ms = 5000;
    long count = 0, inflight = 1;
    int arg = 1;
    while (arg < argc && argv[arg][0] == '-' && argv[arg][1]) {
        if (arg + 1 >= argc) {
            s_usage ();
            return 3;
        }
        if (strcmp (argv[arg], "-d") == 0)
            daemon = argv[arg + 1];
        else
        if (strcmp (argv[arg], "-t") == 0)
            timeout_ms = atol (argv[arg + 1]);
        else
        if (strcmp (argv[arg], "-n") == 0)
            count = atol (argv[arg + 1]);
        else
        if (strcmp (argv[arg], "-c") == 0)
            inflight = atol (argv[arg + 1]);
        else {
            s_usage ();
            return 3;
        }
        arg += 2;
    }
    if (argc - arg < 2 || argc - arg > 3 || timeout_ms <= 0 || inflight < 1) {
        s_usage ();
        return 3;
    }
    const char *data_dir = argv[arg];
    const char *command = argv[arg + 1];
    const char *body_text = argc - arg == 3 ? argv[arg + 2] : "{}";
    cJSON *body = cJSON_Parse (body_text);
    if (!body) {
        fprintf (stderr, "catalog_call: BODY_JSON is not valid JSON\n");
        return 3;
    }
    zsys_handler_set (NULL);
    zsys_set_logstream (NULL);
    rpc_client_t *client = rpc_client_new (data_dir, daemon);
    if (!client) {
        cJSON_Delete (body);
        fprintf (stderr, "catalog_call: cannot open %s/run/%s.rpc\n", data_dir,
                 daemon);
        return 2;
    }
    int rc;
    if (count > 0) {
        cJSON_Delete (body);
        //  Wait until the DEALER is connected with one plain call.
        cJSON *probe = cJSON_Parse (body_text);
        int status = 0;
        envelope_t *reply = rpc_client_call (client, command, &probe,
                                             timeout_ms, &status);
        envelope_destroy (&reply);
        rc = status == RPC_OK ? s_bench (client, command, body_text, count,
                                         inflight, timeout_ms)
                              : 2;
    }
    else {
        int status = 0;
        envelope_t *reply = rpc_client_call (client, command, &body,
                                             timeout_ms, &status);
        if (!reply) {
            fprintf (stderr, "catalog_call: %s\n",
                     status == RPC_TIMEOUT ? "timeout" : "daemon unavailable");
            rc = 2;
        }
        else {
            char *text = cJSON_PrintUnformatted (reply->body);
            rc = s_print (reply->type, text);
            free (text);
            envelope_destroy (&reply);
        }
    }
    rpc_client_destroy (&client);
    return rc;
}
