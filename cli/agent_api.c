/*  agent_api: HTTP calls of the client commands to the agent, with
    Consul's address and token defaults and Consul's error text (see
    agent_api.h). */
#include "agent_api.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"

#define AGENT_API_DEFAULT_ADDR "127.0.0.1:8500"

struct _agent_api_t {
    http_client_t *client;
    char address [HTTP_HOST_MAX + 16];
};

//  The first non-empty of the flag and the environment variables.
static const char *
s_setting (const char *flag, const char *env_primary, const char *env_consul)
{
    if (flag && *flag)
        return flag;
    const char *value = getenv (env_primary);
    if (value && *value)
        return value;
    value = getenv (env_consul);
    if (value && *value)
        return value;
    return NULL;
}

agent_api_t *
agent_api_new (const char *http_addr, const char *token)
{
    const char *addr = s_setting (http_addr, "MERIDIAN_HTTP_ADDR",
                                  "CONSUL_HTTP_ADDR");
    if (!addr)
        addr = AGENT_API_DEFAULT_ADDR;
    char host [HTTP_HOST_MAX];
    int port;
    char err [256];
    if (http_addr_parse (addr, host, sizeof (host), &port, err,
                         sizeof (err))) {
        fprintf (stderr, "Error connecting to Meridian agent: %s\n", err);
        return NULL;
    }
    agent_api_t *self = calloc (1, sizeof (agent_api_t));
    if (!self) {
        fprintf (stderr, "Error connecting to Meridian agent: out of memory\n");
        return NULL;
    }
    bool v6 = strchr (host, ':') != NULL;
    snprintf (self->address, sizeof (self->address), "%s%s%s:%d",
              v6 ? "[" : "", host, v6 ? "]" : "", port);
    self->client = http_client_new (host, port, AGENT_API_TIMEOUT_MS);
    const char *secret = s_setting (token, "MERIDIAN_HTTP_TOKEN",
                                    "CONSUL_HTTP_TOKEN");
    if (!self->client
    ||  (secret && http_client_set_header (self->client, "X-Consul-Token",
                                           secret))) {
        fprintf (stderr, "Error connecting to Meridian agent: %s\n",
                 self->client ? "invalid token" : "out of memory");
        agent_api_destroy (&self);
        return NULL;
    }
    return self;
}

void
agent_api_destroy (agent_api_t **self_p)
{
    assert (self_p);
    agent_api_t *self = *self_p;
    if (!self)
        return;
    http_client_destroy (&self->client);
    free (self);
    *self_p = NULL;
}

const char *
agent_api_address (agent_api_t *self)
{
    assert (self);
    return self->address;
}

//  Prints Consul's StatusError text: the body with surrounding whitespace
//  trimmed.
static void
s_print_status_error (const char *what, http_response_t *response)
{
    const char *body = http_response_body (response);
    size_t len = http_response_body_size (response);
    while (len > 0 && isspace ((unsigned char) *body)) {
        body++;
        len--;
    }
    while (len > 0 && isspace ((unsigned char) body [len - 1]))
        len--;
    fprintf (stderr, "Error %s: Unexpected response code: %d (%.*s)\n", what,
             http_response_status (response), (int) len, body);
}

//  Sends the request; returns the response only when its status is 200.
static http_response_t *
s_call (agent_api_t *self, const char *method, const char *path,
        const char *body, const char *what)
{
    http_response_t *response = http_client_request (
        self->client, method, path, body, body ? strlen (body) : 0);
    if (!response) {
        fprintf (stderr, "Error %s: %s\n", what,
                 http_client_error (self->client));
        return NULL;
    }
    if (http_response_status (response) != 200) {
        s_print_status_error (what, response);
        http_response_destroy (&response);
    }
    return response;
}

//  Parses the body; an empty body gives NULL without error.
static int
s_parse_body (http_response_t *response, const char *what, cJSON **value_p)
{
    *value_p = NULL;
    const char *body = http_response_body (response);
    size_t size = http_response_body_size (response);
    size_t start = 0;
    while (start < size && isspace ((unsigned char) body [start]))
        start++;
    if (start == size)
        return 0;
    //  The body is NUL-terminated; a NUL inside it makes it invalid.
    if (strlen (body) != size
    ||  !(*value_p = cJSON_ParseWithOpts (body, NULL, true))) {
        fprintf (stderr, "Error %s: invalid JSON in the response\n", what);
        return -1;
    }
    return 0;
}

cJSON *
agent_api_get (agent_api_t *self, const char *path, const char *what)
{
    assert (self && path && what);
    http_response_t *response = s_call (self, "GET", path, NULL, what);
    if (!response)
        return NULL;
    cJSON *value = NULL;
    if (s_parse_body (response, what, &value) == 0 && !value)
        fprintf (stderr, "Error %s: empty response body\n", what);
    http_response_destroy (&response);
    return value;
}

int
agent_api_write (agent_api_t *self, const char *method, const char *path,
                 const cJSON *body, const char *what, cJSON **result_p)
{
    assert (self && method && path && what);
    if (result_p)
        *result_p = NULL;
    char *text = NULL;
    if (body) {
        text = cJSON_PrintUnformatted (body);
        if (!text) {
            fprintf (stderr, "Error %s: out of memory\n", what);
            return -1;
        }
    }
    http_response_t *response = s_call (self, method, path, text, what);
    free (text);
    if (!response)
        return -1;
    int rc = 0;
    if (result_p)
        rc = s_parse_body (response, what, result_p);
    http_response_destroy (&response);
    return rc;
}

int
agent_api_query (char *path, size_t path_size, const char *key,
                 const char *value)
{
    assert (path && key);
    char *escaped = NULL;
    if (value && !(escaped = http_escape (value)))
        return -1;
    size_t len = strlen (path);
    int added = snprintf (path + len, path_size - len, "%c%s%s%s",
                          strchr (path, '?') ? '&' : '?', key,
                          escaped ? "=" : "", escaped ? escaped : "");
    free (escaped);
    if (added < 0 || (size_t) added >= path_size - len) {
        path [len] = '\0';
        return -1;
    }
    return 0;
}

const char *
agent_api_field (const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, key);
    return cJSON_IsString (item) ? item->valuestring : "";
}
