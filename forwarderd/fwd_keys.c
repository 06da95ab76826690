/*  fwd_keys: HKDF-SHA256 (mbedTLS) from the gossip key to Curve25519
    secret keys; zmq_curve_public gives the public halves
    (docs/protocol/server-rpc.md, "Security"). */
#include "fwd_keys.h"

#include <mbedtls/base64.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static int
s_fail (char *err, size_t err_size, const char *text)
{
    if (err && err_size)
        snprintf (err, err_size, "%s", text);
    return -1;
}

//  Derives one Curve25519 key pair (Z85) for the given HKDF info label.
static int
s_derive_pair (const uint8_t *ikm, size_t ikm_len, const char *info,
               char *public_z85, char *secret_z85)
{
    uint8_t secret[32];
    const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type (MBEDTLS_MD_SHA256);
    int rc = sha256 ? mbedtls_hkdf (sha256,
                                    (const uint8_t *) FWD_KEYS_SALT, strlen (FWD_KEYS_SALT),
                                    ikm, ikm_len,
                                    (const uint8_t *) info, strlen (info),
                                    secret, sizeof secret)
                    : -1;
    if (rc == 0 && !zmq_z85_encode (secret_z85, secret, sizeof secret))
        rc = -1;
    mbedtls_platform_zeroize (secret, sizeof secret);
    if (rc == 0 && zmq_curve_public (public_z85, secret_z85) != 0)
        rc = -1;
    return rc;
}

int
fwd_keys_derive (fwd_keys_t *keys, const char *encrypt_b64, char *err,
                 size_t err_size)
{
    memset (keys, 0, sizeof *keys);
    if (!encrypt_b64 || !*encrypt_b64)
        return 0;
    uint8_t key[64];
    size_t key_len = 0;
    if (mbedtls_base64_decode (key, sizeof key, &key_len,
                               (const uint8_t *) encrypt_b64,
                               strlen (encrypt_b64)) != 0
        || (key_len != 16 && key_len != 24 && key_len != 32)) {
        mbedtls_platform_zeroize (key, sizeof key);
        return s_fail (err, err_size,
                       "encrypt: must be base64 of a 16, 24 or 32 byte key");
    }
    if (!zmq_has ("curve")) {
        mbedtls_platform_zeroize (key, sizeof key);
        return s_fail (err, err_size, "encrypt: libzmq was built without CURVE");
    }
    int rc = s_derive_pair (key, key_len, FWD_KEYS_INFO_SERVER,
                            keys->server_public, keys->server_secret);
    if (rc == 0)
        rc = s_derive_pair (key, key_len, FWD_KEYS_INFO_CLIENT,
                            keys->client_public, keys->client_secret);
    if (rc == 0 && !zmq_z85_decode (keys->client_public_bin, keys->client_public))
        rc = -1;
    mbedtls_platform_zeroize (key, sizeof key);
    if (rc != 0) {
        memset (keys, 0, sizeof *keys);
        return s_fail (err, err_size, "encrypt: cannot derive the CURVE keys");
    }
    keys->enabled = true;
    return 0;
}
