/*  agent_store: crash-safe files of the agent's local services and checks
    under <data_dir>/agent/ (see agent_store.h). */
#include "agent_store.h"
#include "json_render.h"
#include "log.h"
#include "request.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_FILE_MAX (4 * 1024 * 1024)

struct _agent_store_t {
    char *root;                 //  <data_dir>/agent
};

static int
s_mkdir (const char *path)
{
    if (mkdir (path, 0700) == 0 || errno == EEXIST)
        return 0;
    log_error ("cannot create directory path=%s error=%s", path, strerror (errno));
    return -1;
}

agent_store_t *
agent_store_new (const char *data_dir)
{
    agent_store_t *self = calloc (1, sizeof (agent_store_t));
    if (!self)
        return NULL;
    char *services = NULL, *checks = NULL;
    bool ok = asprintf (&self->root, "%s/agent", data_dir) > 0
           && asprintf (&services, "%s/services", self->root) > 0
           && asprintf (&checks, "%s/checks", self->root) > 0
           && s_mkdir (self->root) == 0 && s_mkdir (services) == 0
           && s_mkdir (checks) == 0;
    free (services);
    free (checks);
    if (!ok)
        agent_store_destroy (&self);
    return self;
}

void
agent_store_destroy (agent_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->root);
    free (*self_p);
    *self_p = NULL;
}

//  The file of (kind, id). Caller frees; NULL on allocation failure.
static char *
s_path (agent_store_t *self, const char *kind, const char *id)
{
    unsigned char digest [32];
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_sha256 ((const unsigned char *) id, strlen (id), digest, 0);
#else
    mbedtls_sha256_ret ((const unsigned char *) id, strlen (id), digest, 0);
#endif
    char hex [65];
    for (int i = 0; i < 32; i++)
        snprintf (hex + 2 * i, 3, "%02x", digest [i]);
    char *path = NULL;
    if (asprintf (&path, "%s/%s/%s.json", self->root, kind, hex) < 0)
        return NULL;
    return path;
}

static void
s_sync_dir (const char *path)
{
    char *dir = strdup (path);
    if (!dir)
        return;
    char *slash = strrchr (dir, '/');
    if (slash)
        *slash = 0;
    int fd = open (dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync (fd);
        close (fd);
    }
    free (dir);
}

int
agent_store_put (agent_store_t *self, const char *kind, const char *id,
                 const cJSON *doc)
{
    char *path = s_path (self, kind, id), *temp = NULL;
    size_t len = 0;
    char *text = json_render (doc, false, &len);
    if (!path || !text || asprintf (&temp, "%s.tmp", path) < 0) {
        free (path);
        free (text);
        return -1;
    }
    int rc = -1;
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error ("cannot write agent state path=%s error=%s", temp,
                   strerror (errno));
        free (text);
        goto cleanup;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t wrote = write (fd, text + done, len - done);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            break;
        done += (size_t) wrote;
    }
    free (text);
    if (done < len || fsync (fd) != 0) {
        log_error ("cannot write agent state path=%s error=%s", temp,
                   strerror (errno));
        close (fd);
        unlink (temp);
        goto cleanup;
    }
    close (fd);
    if (rename (temp, path) != 0) {
        log_error ("cannot rename agent state path=%s error=%s", path,
                   strerror (errno));
        unlink (temp);
        goto cleanup;
    }
    s_sync_dir (path);
    rc = 0;
cleanup:
    free (path);
    free (temp);
    return rc;
}

int
agent_store_remove (agent_store_t *self, const char *kind, const char *id)
{
    char *path = s_path (self, kind, id);
    if (!path)
        return -1;
    int rc = 0;
    if (unlink (path) != 0 && errno != ENOENT) {
        log_error ("cannot remove agent state path=%s error=%s", path,
                   strerror (errno));
        rc = -1;
    }
    else
        s_sync_dir (path);
    free (path);
    return rc;
}

//  Reads a whole small file. Caller owns return value.
static char *
s_read_file (const char *path, size_t *len_p)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *text = NULL;
    struct stat st;
    if (fstat (fileno (file), &st) == 0 && st.st_size >= 0
    &&  st.st_size <= STORE_FILE_MAX) {
        text = malloc ((size_t) st.st_size + 1);
        if (text && fread (text, 1, (size_t) st.st_size, file) != (size_t) st.st_size) {
            free (text);
            text = NULL;
        }
        if (text) {
            text [st.st_size] = 0;
            *len_p = (size_t) st.st_size;
        }
    }
    fclose (file);
    return text;
}

int
agent_store_load (agent_store_t *self, const char *kind,
                  agent_store_fn *fn, void *arg)
{
    char *dir = NULL;
    if (asprintf (&dir, "%s/%s", self->root, kind) < 0)
        return 0;
    DIR *handle = opendir (dir);
    if (!handle) {
        free (dir);
        return 0;
    }
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        size_t name_len = strlen (entry->d_name);
        if (name_len < 6 || strcmp (entry->d_name + name_len - 5, ".json") != 0)
            continue;
        char *path = NULL;
        if (asprintf (&path, "%s/%s", dir, entry->d_name) < 0)
            continue;
        size_t len = 0;
        char *text = s_read_file (path, &len);
        char reason [128] = "unreadable";
        cJSON *doc = text ? request_json_parse (text, len, reason, sizeof reason)
                          : NULL;
        free (text);
        if (!cJSON_IsObject (doc)) {
            log_warn ("skipping malformed agent state file path=%s reason=%s",
                      path, doc ? "not an object" : reason);
            cJSON_Delete (doc);
            free (path);
            continue;
        }
        fn (arg, path, doc);
        cJSON_Delete (doc);
        free (path);
        count++;
    }
    closedir (handle);
    free (dir);
    return count;
}
