/*  agent_api: the client commands' connection to one agent's HTTP API.
    Picks the agent from -http-addr, $MERIDIAN_HTTP_ADDR, $CONSUL_HTTP_ADDR
    or 127.0.0.1:8500 (and the token from -token, $MERIDIAN_HTTP_TOKEN,
    $CONSUL_HTTP_TOKEN), makes the calls, and prints failures the way
    Consul's CLI does:
        Error <doing what>: Unexpected response code: <code> (<body>)
    to stderr. */
#ifndef MRD_CLI_AGENT_API_H
#define MRD_CLI_AGENT_API_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define AGENT_API_TIMEOUT_MS 60000

typedef struct _agent_api_t agent_api_t;

//  http_addr and token are the flag values (NULL when not given). Returns
//  NULL after printing "Error connecting to Meridian agent: <why>" when
//  the address is invalid.
agent_api_t *agent_api_new (const char *http_addr, const char *token);
void agent_api_destroy (agent_api_t **self_p);

//  "host:port" of the agent, for messages.
const char *agent_api_address (agent_api_t *self);

//  GET path and parse the JSON body. Returns the value (caller owns it),
//  or NULL after printing "Error <what>: ..." on any failure: transport,
//  a status other than 200, or a body that is not JSON.
cJSON *agent_api_get (agent_api_t *self, const char *path, const char *what);

//  A write (PUT, POST, DELETE) with an optional JSON body (borrowed).
//  Returns 0 on 200, or -1 after printing "Error <what>: ...". When
//  result_p is not NULL it receives the parsed response body (NULL when
//  the body is empty); caller owns it.
int agent_api_write (agent_api_t *self, const char *method, const char *path,
                     const cJSON *body, const char *what, cJSON **result_p);

//  Appends a query parameter to path (a buffer of path_size bytes):
//  "?key=value" or "&key=value", value percent-encoded; a NULL value adds
//  the bare key. Returns 0, or -1 (path unchanged) when it does not fit.
int agent_api_query (char *path, size_t path_size, const char *key,
                     const char *value);

//  A string member of a response object; "" when missing or not a string.
const char *agent_api_field (const cJSON *object, const char *key);

#endif
