/*  crypto: AES-GCM sealing of gossip messages (mbedTLS), the random source
    and the base64 form of gossip keys. Implements the "Encryption" section
    of docs/protocol/gossip.md: sealed = nonce(12) ciphertext tag(16). */
#ifndef GOSSIPD_CRYPTO_H
#define GOSSIPD_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_NONCE_SIZE   12
#define CRYPTO_TAG_SIZE     16
#define CRYPTO_OVERHEAD     (CRYPTO_NONCE_SIZE + CRYPTO_TAG_SIZE)
#define CRYPTO_KEY_MAX      32
//  Base64 of a 32-byte key is 44 characters.
#define CRYPTO_KEY_TEXT_MAX 48

typedef struct _crypto_key_t crypto_key_t;

//  True for the AES key sizes gossip accepts (16, 24, 32).
bool crypto_key_size_valid (size_t len);

//  Makes a sealing context for one key. NULL when the size is not valid.
//  Caller owns return value.
crypto_key_t *crypto_key_new (const uint8_t *key, size_t len);
void crypto_key_destroy (crypto_key_t **self_p);

//  The raw key bytes (borrowed) and their count.
const uint8_t *crypto_key_bytes (crypto_key_t *self, size_t *len);

//  Seals plain into out (len + CRYPTO_OVERHEAD bytes: nonce, ciphertext,
//  tag) with a fresh random nonce, authenticating aad too. Returns 0/-1.
int crypto_seal (crypto_key_t *self, const uint8_t *aad, size_t aad_len,
                 const uint8_t *plain, size_t len, uint8_t *out);

//  Opens in (nonce, ciphertext, tag; len >= CRYPTO_OVERHEAD) into out
//  (len - CRYPTO_OVERHEAD bytes). Returns 0, or -1 when authentication
//  fails (out is then zeroed).
int crypto_open (crypto_key_t *self, const uint8_t *aad, size_t aad_len,
                 const uint8_t *in, size_t len, uint8_t *out);

//  Fills buf with len random bytes from the kernel. Returns 0/-1.
int crypto_random (void *buf, size_t len);
//  A uniform random integer in [0, bound) (0 when bound <= 1), from the
//  kernel like crypto_random: each process draws its own numbers. (libc's
//  random() is not used: czmq reseeds it with the time in seconds when it
//  creates its first socket, so agents started in the same second shared
//  one sequence, hence the same probe orders and gossip targets.)
uint32_t crypto_random_below (uint32_t bound);

//  Decodes a base64 gossip key. Returns 0, or -1 when the text is not
//  base64 or the key is not 16, 24 or 32 bytes.
int crypto_key_decode (const char *text, uint8_t *key, size_t *len);
//  Encodes a key as base64 into out (CRYPTO_KEY_TEXT_MAX bytes). 0/-1.
int crypto_key_encode (const uint8_t *key, size_t len, char *out, size_t size);

#endif
