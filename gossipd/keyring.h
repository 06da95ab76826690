/*  keyring: the gossip keys of one pool, primary first, and the keyring
    file <data_dir>/gossip/keyring that holds both pools' keys.
    Spec: docs/protocol/gossip.md, "Encryption and keyring". */
#ifndef GOSSIPD_KEYRING_H
#define GOSSIPD_KEYRING_H

#include "crypto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYRING_MAX 16

typedef struct _keyring_t keyring_t;

//  An empty keyring (encryption off). Caller owns return value.
keyring_t *keyring_new (void);
void keyring_destroy (keyring_t **self_p);

//  Number of keys; 0 means encryption is off for the pool.
size_t keyring_size (keyring_t *self);
//  Key i (0 is the primary), borrowed; NULL past the end.
const uint8_t *keyring_key (keyring_t *self, size_t index, size_t *len);
//  Key i as base64 into out (CRYPTO_KEY_TEXT_MAX). 0/-1.
int keyring_key_text (keyring_t *self, size_t index, char *out, size_t size);

//  Adds a key (the first one becomes primary); installing a key that is
//  there already is a no-op. Returns 0, or -1 with *error set (static
//  text: bad size, keyring full).
int keyring_install (keyring_t *self, const uint8_t *key, size_t len,
                     const char **error);
//  Makes an installed key the primary. -1 with *error when not installed.
int keyring_use (keyring_t *self, const uint8_t *key, size_t len,
                 const char **error);
//  Removes a key that is not the primary (absent keys are a no-op, as in
//  memberlist). -1 with *error for the primary.
int keyring_remove (keyring_t *self, const uint8_t *key, size_t len,
                    const char **error);

//  Seals with the primary key: out gets len + CRYPTO_OVERHEAD bytes.
int keyring_seal (keyring_t *self, const uint8_t *aad, size_t aad_len,
                  const uint8_t *plain, size_t len, uint8_t *out);
//  Opens with the primary, then every other key. Returns 0, or -1 when no
//  key authenticates the message.
int keyring_open (keyring_t *self, const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t len, uint8_t *out);

//  Loads {"LAN":[...],"WAN":[...]} into lan and wan (both emptied first).
//  Returns 1 loaded, 0 no such file, -1 on a bad file (error in err).
int keyring_file_load (const char *path, keyring_t *lan, keyring_t *wan,
                       char *err, size_t err_size);
//  Writes both keyrings (mode 0600, via a temporary file and rename; the
//  directory is made 0700). Returns 0/-1.
int keyring_file_save (const char *path, keyring_t *lan, keyring_t *wan);

#endif
