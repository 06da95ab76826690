/*  cmd_keyring: `meridian keygen` (a new gossip encryption key) and
    `meridian keyring -list|-install|-use|-remove`, Consul's commands over
    /v1/operator/keyring (GET lists, POST installs, PUT makes primary,
    DELETE removes; body {"Key":"<base64>"}). */
#ifndef MRD_CLI_CMD_KEYRING_H
#define MRD_CLI_CMD_KEYRING_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define KEYRING_KEY_BYTES 32

//  Each returns the exit code.
int cmd_keygen_run (int argc, char **argv);
int cmd_keyring_run (int argc, char **argv);

//  Writes a new random key (32 bytes from getrandom, base64) into buf.
//  Returns 0/-1.
int keyring_key_new (char *buf, size_t size);

//  True when key is base64 of 16, 24 or 32 bytes (AES-128/192/256).
bool keyring_key_valid (const char *key);

//  Renders a GET /v1/operator/keyring answer as Consul does: for each pool
//  a blank line, "WAN:" or "<dc> (LAN):", then "  <key> [<n>/<nodes>]"
//  (keys sorted here). Caller owns return value; NULL when responses is
//  not a list or out of memory.
char *keyring_list_render (const cJSON *responses);

#endif
