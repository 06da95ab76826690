/*  keyring: the gossip keys of one pool (primary first) and the keyring
    file. Spec: docs/protocol/gossip.md, "Encryption and keyring". */
#include "keyring.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYRING_FILE_MAX (64 * 1024)

struct _keyring_t {
    crypto_key_t *keys[KEYRING_MAX];
    size_t count;
};

keyring_t *
keyring_new (void)
{
    return (keyring_t *) calloc (1, sizeof (keyring_t));
}

static void
s_clear (keyring_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        crypto_key_destroy (&self->keys[i]);
    self->count = 0;
}

void
keyring_destroy (keyring_t **self_p)
{
    if (self_p && *self_p) {
        s_clear (*self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

size_t
keyring_size (keyring_t *self)
{
    return self->count;
}

const uint8_t *
keyring_key (keyring_t *self, size_t index, size_t *len)
{
    if (index >= self->count)
        return NULL;
    return crypto_key_bytes (self->keys[index], len);
}

int
keyring_key_text (keyring_t *self, size_t index, char *out, size_t size)
{
    size_t len = 0;
    const uint8_t *key = keyring_key (self, index, &len);
    if (!key)
        return -1;
    return crypto_key_encode (key, len, out, size);
}

static int
s_find (keyring_t *self, const uint8_t *key, size_t len)
{
    for (size_t i = 0; i < self->count; i++) {
        size_t have_len = 0;
        const uint8_t *have = crypto_key_bytes (self->keys[i], &have_len);
        if (have_len == len && memcmp (have, key, len) == 0)
            return (int) i;
    }
    return -1;
}

int
keyring_install (keyring_t *self, const uint8_t *key, size_t len,
                 const char **error)
{
    if (!crypto_key_size_valid (len)) {
        *error = "key size must be 16, 24 or 32 bytes";
        return -1;
    }
    if (s_find (self, key, len) >= 0)
        return 0;
    if (self->count == KEYRING_MAX) {
        *error = "keyring is full (16 keys)";
        return -1;
    }
    crypto_key_t *entry = crypto_key_new (key, len);
    if (!entry) {
        *error = "cannot set up the AES-GCM key";
        return -1;
    }
    self->keys[self->count++] = entry;
    return 0;
}

int
keyring_use (keyring_t *self, const uint8_t *key, size_t len,
             const char **error)
{
    int index = s_find (self, key, len);
    if (index < 0) {
        *error = "Requested key is not in the keyring";
        return -1;
    }
    //  The new primary moves to the front; the others keep their order.
    crypto_key_t *primary = self->keys[index];
    memmove (&self->keys[1], &self->keys[0], (size_t) index * sizeof (crypto_key_t *));
    self->keys[0] = primary;
    return 0;
}

int
keyring_remove (keyring_t *self, const uint8_t *key, size_t len,
                const char **error)
{
    int index = s_find (self, key, len);
    if (index == 0) {
        *error = "Removing the primary key is not allowed";
        return -1;
    }
    if (index < 0)
        return 0;
    crypto_key_destroy (&self->keys[index]);
    memmove (&self->keys[index], &self->keys[index + 1],
             (self->count - (size_t) index - 1) * sizeof (crypto_key_t *));
    self->count--;
    self->keys[self->count] = NULL;
    return 0;
}

int
keyring_seal (keyring_t *self, const uint8_t *aad, size_t aad_len,
              const uint8_t *plain, size_t len, uint8_t *out)
{
    if (self->count == 0)
        return -1;
    return crypto_seal (self->keys[0], aad, aad_len, plain, len, out);
}

int
keyring_open (keyring_t *self, const uint8_t *aad, size_t aad_len,
              const uint8_t *in, size_t len, uint8_t *out)
{
    for (size_t i = 0; i < self->count; i++)
        if (crypto_open (self->keys[i], aad, aad_len, in, len, out) == 0)
            return 0;
    return -1;
}

static int
s_load_list (cJSON *list, keyring_t *ring, const char *pool, char *err,
             size_t err_size)
{
    if (!list)
        return 0;
    if (!cJSON_IsArray (list)) {
        snprintf (err, err_size, "%s: must be an array of base64 keys", pool);
        return -1;
    }
    cJSON *item;
    cJSON_ArrayForEach (item, list) {
        uint8_t key[CRYPTO_KEY_MAX];
        size_t len = 0;
        const char *error = NULL;
        if (!cJSON_IsString (item)
            || crypto_key_decode (item->valuestring, key, &len) != 0) {
            snprintf (err, err_size, "%s: a key is not base64 of 16, 24 or 32 bytes", pool);
            return -1;
        }
        if (keyring_install (ring, key, len, &error) != 0) {
            snprintf (err, err_size, "%s: %s", pool, error);
            return -1;
        }
    }
    return 0;
}

int
keyring_file_load (const char *path, keyring_t *lan, keyring_t *wan,
                   char *err, size_t err_size)
{
    s_clear (lan);
    s_clear (wan);
    FILE *file = fopen (path, "rb");
    if (!file) {
        if (errno == ENOENT)
            return 0;
        snprintf (err, err_size, "cannot open: %s", strerror (errno));
        return -1;
    }
    char *text = (char *) malloc (KEYRING_FILE_MAX + 1);
    size_t size = text ? fread (text, 1, KEYRING_FILE_MAX + 1, file) : 0;
    fclose (file);
    if (!text || size > KEYRING_FILE_MAX) {
        free (text);
        snprintf (err, err_size, "file too large or out of memory");
        return -1;
    }
    cJSON *root = cJSON_ParseWithLength (text, size);
    free (text);
    int rc = -1;
    if (!cJSON_IsObject (root))
        snprintf (err, err_size, "not a JSON object");
    else if (s_load_list (cJSON_GetObjectItemCaseSensitive (root, "LAN"), lan,
                          "LAN", err, err_size) == 0
             && s_load_list (cJSON_GetObjectItemCaseSensitive (root, "WAN"), wan,
                             "WAN", err, err_size) == 0)
        rc = 1;
    cJSON_Delete (root);
    if (rc != 1) {
        s_clear (lan);
        s_clear (wan);
    }
    return rc;
}

static cJSON *
s_list_json (keyring_t *ring)
{
    cJSON *list = cJSON_CreateArray ();
    for (size_t i = 0; list && i < ring->count; i++) {
        char text[CRYPTO_KEY_TEXT_MAX];
        if (keyring_key_text (ring, i, text, sizeof text) == 0)
            cJSON_AddItemToArray (list, cJSON_CreateString (text));
    }
    return list;
}

int
keyring_file_save (const char *path, keyring_t *lan, keyring_t *wan)
{
    char dir[512];
    snprintf (dir, sizeof dir, "%s", path);
    char *slash = strrchr (dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
            log_error ("cannot create keyring dir path=%s error=\"%s\"", dir,
                       strerror (errno));
            return -1;
        }
        chmod (dir, 0700);
    }
    cJSON *root = cJSON_CreateObject ();
    cJSON_AddItemToObject (root, "LAN", s_list_json (lan));
    cJSON_AddItemToObject (root, "WAN", s_list_json (wan));
    char *text = cJSON_PrintUnformatted (root);
    cJSON_Delete (root);
    if (!text)
        return -1;
    char tmp[600];
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
    int rc = -1;
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        size_t len = strlen (text);
        if (write (fd, text, len) == (ssize_t) len && fsync (fd) == 0)
            rc = 0;
        if (close (fd) != 0)
            rc = -1;
        if (rc == 0 && rename (tmp, path) != 0)
            rc = -1;
        if (rc != 0)
            unlink (tmp);
    }
    if (rc != 0)
        log_error ("cannot write keyring path=%s error=\"%s\"", path, strerror (errno));
    memset (text, 0, strlen (text));
    free (text);
    return rc;
}
