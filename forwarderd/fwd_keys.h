/*  fwd_keys: the CURVE keys of the server RPC endpoint, derived from the
    gossip key (`encrypt`) with HKDF-SHA256 as specified in
    docs/protocol/server-rpc.md ("Security"): one server key pair that
    every server listens with, one client key pair that every connecting
    agent uses. Only holders of the gossip key can compute them. */
#ifndef FORWARDERD_FWD_KEYS_H
#define FORWARDERD_FWD_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FWD_KEY_Z85_SIZE 41     //  40 Z85 characters + NUL

#define FWD_KEYS_SALT          "meridian server-rpc v1"
#define FWD_KEYS_INFO_SERVER   "curve server secret"
#define FWD_KEYS_INFO_CLIENT   "curve client secret"

typedef struct {
    bool enabled;           //  false: plain TCP, the keys are empty
    char server_public[FWD_KEY_Z85_SIZE];
    char server_secret[FWD_KEY_Z85_SIZE];
    char client_public[FWD_KEY_Z85_SIZE];
    char client_secret[FWD_KEY_Z85_SIZE];
    uint8_t client_public_bin[32];  //  what the ZAP handler accepts
} fwd_keys_t;

//  Fills keys from the base64 gossip key; "" or NULL disables CURVE
//  (keys->enabled = false). Returns 0, or -1 with the reason in err when
//  the key is not base64 of 16, 24 or 32 bytes or CURVE is unavailable.
int fwd_keys_derive (fwd_keys_t *keys, const char *encrypt_b64,
                     char *err, size_t err_size);

#endif
