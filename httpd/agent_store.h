/*  agent_store: persistence of the agent's services and checks, one JSON
    file per item under <data_dir>/agent/<kind>/<sha256(id)>.json (kind is
    "services" or "checks"), written atomically (temporary file, fsync,
    rename, directory fsync) so a crash leaves the old or the new version.
    The file names hide the ids; each file carries its id inside. */
#ifndef HTTPD_AGENT_STORE_H
#define HTTPD_AGENT_STORE_H

#include <cjson/cJSON.h>

typedef struct _agent_store_t agent_store_t;

//  Called for each well-formed file; doc is borrowed.
typedef void (agent_store_fn) (void *arg, const char *path, const cJSON *doc);

//  Creates <data_dir>/agent/services and /checks (mode 0700).
//  Returns NULL (logged) when they cannot be made. Caller owns return value.
agent_store_t *agent_store_new (const char *data_dir);
void agent_store_destroy (agent_store_t **self_p);

//  Writes doc as the file of (kind, id). Returns 0/-1 (logged).
int agent_store_put (agent_store_t *self, const char *kind, const char *id,
                     const cJSON *doc);
//  Removes the file of (kind, id); a missing file is fine. Returns 0/-1.
int agent_store_remove (agent_store_t *self, const char *kind, const char *id);
//  Calls fn for every file of kind; unreadable or malformed files are
//  logged and skipped. Returns the number of files passed to fn.
int agent_store_load (agent_store_t *self, const char *kind,
                      agent_store_fn *fn, void *arg);

#endif
