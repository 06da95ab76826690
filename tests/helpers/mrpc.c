/*  mrpc: sends one local RPC request (docs/protocol/local-rpc.md) to a
    daemon of a node and prints the reply body, for tests and scripts that
    do not speak ZeroMQ.

    Usage: mrpc <data_dir> <daemon> <command> ['<json body>'] [timeout_ms]

    Prints the reply body (compact JSON) on stdout and exits 0 on REP; on
    ERR prints the Error text on stderr and exits 1; exits 2 on timeout or
    when the daemon is not running; 3 on bad usage or body. */
#include "envelope.h"
#include "rpc_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf (stderr, "usage: mrpc <data_dir> <daemon> <command> ['<json body>'] "
                 "[timeout_ms]\n");
        return 3;
    }
    const char *body_text = argc >= 5 ? argv[4] : "{}";
    long timeout = argc == 6 ? strtol (argv[5], NULL, 10) : 5000;
    if (timeout <= 0) {
        fprintf (stderr, "mrpc: timeout_ms must be a positive number\n");
        return 3;
    }
    cJSON *body = cJSON_Parse (body_text);
    if (!body) {
        fprintf (stderr, "mrpc: body is not JSON: %s\n", body_text);
        return 3;
    }
    rpc_client_t *client = rpc_client_new (argv[1], argv[2]);
    if (!client) {
        cJSON_Delete (body);
        fprintf (stderr, "mrpc: cannot reach %s in %s\n", argv[2], argv[1]);
        return 2;
    }
    int status = RPC_OK;
    envelope_t *reply = rpc_client_call (client, argv[3], &body, timeout, &status);
    cJSON_Delete (body);
    int rc = 2;
    if (!reply)
        fprintf (stderr, "mrpc: %s\n", status == RPC_TIMEOUT ? "timeout" : "daemon unavailable");
    else if (reply->type == ENVELOPE_REP) {
        char *text = cJSON_PrintUnformatted (reply->body);
        printf ("%s\n", text ? text : "null");
        free (text);
        rc = 0;
    }
    else {
        cJSON *error = cJSON_GetObjectItemCaseSensitive (reply->body, "Error");
        cJSON *code = cJSON_GetObjectItemCaseSensitive (reply->body, "Code");
        fprintf (stderr, "%s\n", cJSON_IsString (error) ? error->valuestring : "error");
        if (cJSON_IsNumber (code))
            fprintf (stderr, "code %d\n", code->valueint);
        rc = 1;
    }
    envelope_destroy (&reply);
    rpc_client_destroy (&client);
    return rc;
}
