/*  fsm: codec of the catalog's raft commands and their application to the
    store (see fsm.h; format in docs/catalogd.md, "FSM commands"). An entry
    is re-parsed with the same validation as a client's body, so a replayed
    or corrupted entry can never put the store in a state a client could
    not. */
#include "fsm.h"
#include "log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Entries above this are refused by the decoder (clients are limited to
//  16 MiB by the envelope; a command carries one body).
#define FSM_ENTRY_MAX (32 * 1024 * 1024)

struct _catalog_fsm_t {
    catalog_store_t *store;
    catalog_fsm_change_fn *change_fn;
    void *change_arg;
    uint64_t applied;
    uint64_t malformed;
    uint64_t rejected;
};

static const char *s_op_names[] = { NULL, "register", "deregister" };

char *
catalog_fsm_encode (catalog_op_t op, const cJSON *body, size_t *size)
{
    assert (op == CATALOG_OP_REGISTER || op == CATALOG_OP_DEREGISTER);
    assert (body);
    cJSON *command = cJSON_CreateObject ();
    assert (command);
    cJSON_AddNumberToObject (command, "V", CATALOG_FSM_VERSION);
    cJSON_AddStringToObject (command, "Op", s_op_names[op]);
    cJSON_AddItemReferenceToObject (command, "Body", (cJSON *) body);
    char *text = cJSON_PrintUnformatted (command);
    cJSON_Delete (command);
    assert (text);
    *size = strlen (text);
    return text;
}

int
catalog_fsm_decode (const void *data, size_t size, catalog_op_t *op,
                    cJSON **body_p, const char **reason)
{
    *body_p = NULL;
    if (!data || size == 0) {
        *reason = "empty entry";
        return -1;
    }
    if (size > FSM_ENTRY_MAX) {
        *reason = "oversized entry";
        return -1;
    }
    const char *end = NULL;
    cJSON *command = cJSON_ParseWithLengthOpts ((const char *) data, size,
                                                &end, false);
    if (!command) {
        *reason = "entry is not JSON";
        return -1;
    }
    //  Nothing but whitespace (or a NUL pad) may follow the JSON value.
    for (const char *c = end; c < (const char *) data + size; c++)
        if (*c != ' ' && *c != '\n' && *c != '\t' && *c != '\r' && *c != 0) {
            cJSON_Delete (command);
            *reason = "trailing bytes after the entry";
            return -1;
        }
    int rc = -1;
    const cJSON *version = cJSON_GetObjectItemCaseSensitive (command, "V");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive (command, "Op");
    cJSON *body = cJSON_GetObjectItemCaseSensitive (command, "Body");
    if (!cJSON_IsObject (command))
        *reason = "entry is not an object";
    else
    if (!cJSON_IsNumber (version) || version->valuedouble != CATALOG_FSM_VERSION)
        *reason = "unknown entry version";
    else
    if (!cJSON_IsString (name))
        *reason = "entry lacks Op";
    else
    if (!cJSON_IsObject (body))
        *reason = "entry lacks Body";
    else {
        *reason = "unknown Op";
        for (int i = CATALOG_OP_REGISTER; i <= CATALOG_OP_DEREGISTER; i++)
            if (strcmp (name->valuestring, s_op_names[i]) == 0) {
                *op = (catalog_op_t) i;
                *body_p = cJSON_DetachItemViaPointer (command, body);
                *reason = NULL;
                rc = 0;
            }
    }
    cJSON_Delete (command);
    return rc;
}

catalog_fsm_t *
catalog_fsm_new (catalog_store_t *store)
{
    assert (store);
    catalog_fsm_t *self = (catalog_fsm_t *) calloc (1, sizeof *self);
    assert (self);
    self->store = store;
    return self;
}

void
catalog_fsm_destroy (catalog_fsm_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
catalog_fsm_set_change_fn (catalog_fsm_t *self, catalog_fsm_change_fn *fn,
                           void *arg)
{
    self->change_fn = fn;
    self->change_arg = arg;
}

catalog_store_t *
catalog_fsm_store (catalog_fsm_t *self)
{
    return self->store;
}

char *
catalog_fsm_snapshot (catalog_fsm_t *self, size_t *size)
{
    return catalog_store_snapshot (self->store, size);
}

int
catalog_fsm_restore (catalog_fsm_t *self, const void *data, size_t size,
                     char *err, size_t err_size)
{
    if (!data || size == 0) {
        snprintf (err, err_size, "empty snapshot");
        return -1;
    }
    if (catalog_store_restore (self->store, (const char *) data, size, err,
                               err_size))
        return -1;
    if (self->change_fn)
        self->change_fn (self->change_arg,
                         catalog_store_index (self->store, CATALOG_TABLES_ALL),
                         CATALOG_TABLES_ALL);
    return 0;
}

uint64_t
catalog_fsm_applied (catalog_fsm_t *self)
{
    return self->applied;
}

uint64_t
catalog_fsm_malformed (catalog_fsm_t *self)
{
    return self->malformed;
}

uint64_t
catalog_fsm_rejected (catalog_fsm_t *self)
{
    return self->rejected;
}

const char *
catalog_fsm_apply (catalog_fsm_t *self, const void *data, size_t size,
                   uint64_t index)
{
    catalog_op_t op = CATALOG_OP_REGISTER;
    cJSON *body = NULL;
    const char *reason = NULL;
    char err[256] = "";
    unsigned tables = 0;
    if (catalog_fsm_decode (data, size, &op, &body, &reason)) {
        self->malformed++;
        log_warn ("dropped malformed raft entry index=%llu reason=\"%s\" "
                  "malformed=%llu", (unsigned long long) index, reason,
                  (unsigned long long) self->malformed);
        return "malformed raft log entry";
    }
    if (op == CATALOG_OP_REGISTER) {
        catalog_reg_t *reg = catalog_reg_from_json (body, err, sizeof err);
        if (!reg)
            reason = "malformed raft log entry";
        else
        if (catalog_store_register (self->store, reg, index, &tables, &reason)
            == 0)
            reason = NULL;
        catalog_reg_destroy (&reg);
    }
    else {
        catalog_dereg_t *dereg = catalog_dereg_from_json (body, err, sizeof err);
        if (!dereg)
            reason = "malformed raft log entry";
        else {
            catalog_store_deregister (self->store, dereg, index, &tables);
            reason = NULL;
        }
        catalog_dereg_destroy (&dereg);
    }
    cJSON_Delete (body);
    if (reason) {
        if (*err) {
            self->malformed++;
            log_warn ("dropped invalid raft entry index=%llu reason=\"%s\"",
                      (unsigned long long) index, err);
        }
        else {
            self->rejected++;
            log_info ("raft entry rejected by catalog rules index=%llu "
                      "reason=\"%s\"", (unsigned long long) index, reason);
        }
        return reason;
    }
    self->applied++;
    if (tables && self->change_fn)
        self->change_fn (self->change_arg, index, tables);
    return NULL;
}
