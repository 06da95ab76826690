/*  crypto: AES-GCM sealing of gossip messages with mbedTLS, random bytes
    from getrandom(2), base64 gossip keys. Spec: docs/protocol/gossip.md,
    "Encryption and keyring". */
#include "crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/gcm.h>

struct _crypto_key_t {
    mbedtls_gcm_context gcm;
    uint8_t key[CRYPTO_KEY_MAX];
    size_t len;
};

bool
crypto_key_size_valid (size_t len)
{
    return len == 16 || len == 24 || len == 32;
}

crypto_key_t *
crypto_key_new (const uint8_t *key, size_t len)
{
    if (!key || !crypto_key_size_valid (len))
        return NULL;
    crypto_key_t *self = (crypto_key_t *) calloc (1, sizeof (crypto_key_t));
    if (!self)
        return NULL;
    mbedtls_gcm_init (&self->gcm);
    if (mbedtls_gcm_setkey (&self->gcm, MBEDTLS_CIPHER_ID_AES, key,
                            (unsigned int) (len * 8)) != 0) {
        crypto_key_destroy (&self);
        return NULL;
    }
    memcpy (self->key, key, len);
    self->len = len;
    return self;
}

void
crypto_key_destroy (crypto_key_t **self_p)
{
    if (self_p && *self_p) {
        crypto_key_t *self = *self_p;
        mbedtls_gcm_free (&self->gcm);
        memset (self, 0, sizeof *self);
        free (self);
        *self_p = NULL;
    }
}

const uint8_t *
crypto_key_bytes (crypto_key_t *self, size_t *len)
{
    *len = self->len;
    return self->key;
}

int
crypto_seal (crypto_key_t *self, const uint8_t *aad, size_t aad_len,
             const uint8_t *plain, size_t len, uint8_t *out)
{
    uint8_t *nonce = out;
    uint8_t *cipher = out + CRYPTO_NONCE_SIZE;
    uint8_t *tag = cipher + len;
    if (crypto_random (nonce, CRYPTO_NONCE_SIZE) != 0)
        return -1;
    if (mbedtls_gcm_crypt_and_tag (&self->gcm, MBEDTLS_GCM_ENCRYPT, len,
                                   nonce, CRYPTO_NONCE_SIZE, aad, aad_len,
                                   plain, cipher, CRYPTO_TAG_SIZE, tag) != 0)
        return -1;
    return 0;
}

int
crypto_open (crypto_key_t *self, const uint8_t *aad, size_t aad_len,
             const uint8_t *in, size_t len, uint8_t *out)
{
    if (len < CRYPTO_OVERHEAD)
        return -1;
    size_t plain_len = len - CRYPTO_OVERHEAD;
    const uint8_t *nonce = in;
    const uint8_t *cipher = in + CRYPTO_NONCE_SIZE;
    const uint8_t *tag = cipher + plain_len;
    if (mbedtls_gcm_auth_decrypt (&self->gcm, plain_len, nonce,
                                  CRYPTO_NONCE_SIZE, aad, aad_len, tag,
                                  CRYPTO_TAG_SIZE, cipher, out) != 0)
        return -1;
    return 0;
}

int
crypto_random (void *buf, size_t len)
{
    uint8_t *bytes = (uint8_t *) buf;
    while (len > 0) {
        ssize_t got = getrandom (bytes, len, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        bytes += got;
        len -= (size_t) got;
    }
    return 0;
}

uint32_t
crypto_random_below (uint32_t bound)
{
    if (bound <= 1)
        return 0;
    //  Rejection sampling keeps it uniform.
    uint32_t limit = UINT32_MAX - (uint32_t) ((UINT32_MAX % bound + 1) % bound);
    for (;;) {
        uint32_t value;
        if (crypto_random (&value, sizeof value) != 0)
            value = (uint32_t) random ();       //  no getrandom(2): last resort
        if (value <= limit)
            return value % bound;
    }
}

int
crypto_key_decode (const char *text, uint8_t *key, size_t *len)
{
    if (!text)
        return -1;
    size_t text_len = strlen (text);
    if (text_len == 0 || text_len >= CRYPTO_KEY_TEXT_MAX)
        return -1;
    uint8_t buf[CRYPTO_KEY_TEXT_MAX];
    size_t got = 0;
    if (mbedtls_base64_decode (buf, sizeof buf, &got,
                               (const unsigned char *) text, text_len) != 0)
        return -1;
    if (!crypto_key_size_valid (got))
        return -1;
    memcpy (key, buf, got);
    *len = got;
    return 0;
}

int
crypto_key_encode (const uint8_t *key, size_t len, char *out, size_t size)
{
    size_t written = 0;
    if (mbedtls_base64_encode ((unsigned char *) out, size, &written, key, len) != 0)
        return -1;
    return 0;
}
