/*  keyquery: cluster-wide keyring operations (serf key queries). Spec:
    docs/protocol/gossip.md, "Encryption and keyring". */
#include "keyquery.h"
#include "config.h"
#include "log.h"

#include <czmq.h>

typedef struct _query_t {
    struct _query_t *next;
    uint64_t id;
    size_t num_nodes;
    size_t num_resp;
    size_t num_err;
    int64_t deadline_ms;
    int64_t resend_ms;          //  0 once resent
    uint8_t *msg;               //  the encoded key-op
    size_t msg_len;
    cJSON *keys;                //  {"key": count}
    cJSON *primary;
    cJSON *messages;            //  {"node": "error"}
    zhashx_t *responders;
    keyquery_fn *fn;
    void *arg;
} query_t;

struct _keyquery_t {
    bool wan;
    char datacenter[CONFIG_NAME_MAX];
    query_t *queries;
    uint64_t seen[KEYQUERY_SEEN_MAX];
    size_t seen_next;
};

keyquery_t *
keyquery_new (bool wan, const char *datacenter)
{
    keyquery_t *self = (keyquery_t *) calloc (1, sizeof (keyquery_t));
    if (self) {
        self->wan = wan;
        snprintf (self->datacenter, sizeof self->datacenter, "%s", datacenter);
    }
    return self;
}

static void
s_query_free (query_t **query_p)
{
    query_t *query = *query_p;
    cJSON_Delete (query->keys);
    cJSON_Delete (query->primary);
    cJSON_Delete (query->messages);
    zhashx_destroy (&query->responders);
    free (query->msg);
    free (query);
    *query_p = NULL;
}

void
keyquery_destroy (keyquery_t **self_p)
{
    if (self_p && *self_p) {
        keyquery_t *self = *self_p;
        while (self->queries) {
            query_t *next = self->queries->next;
            s_query_free (&self->queries);
            self->queries = next;
        }
        free (self);
        *self_p = NULL;
    }
}

bool
keyquery_seen (keyquery_t *self, uint64_t id)
{
    for (size_t i = 0; i < KEYQUERY_SEEN_MAX; i++)
        if (self->seen[i] == id)
            return true;
    self->seen[self->seen_next] = id;
    self->seen_next = (self->seen_next + 1) % KEYQUERY_SEEN_MAX;
    return false;
}

int
keyquery_apply (keyring_t *keyring, int op, const uint8_t *key, size_t key_len, uint64_t id,
                const char *node, packet_msg_t *reply)
{
    const char *error = NULL;
    int rc = 0;
    if (keyring_size (keyring) == 0) {
        error = "Gossip encryption is not enabled";
        rc = -1;
    }
    else if (op == PACKET_OP_INSTALL)
        rc = keyring_install (keyring, key, key_len, &error);
    else if (op == PACKET_OP_USE)
        rc = keyring_use (keyring, key, key_len, &error);
    else if (op == PACKET_OP_REMOVE)
        rc = keyring_remove (keyring, key, key_len, &error);
    memset (reply, 0, sizeof *reply);
    reply->type = PACKET_KEY_REPLY;
    reply->id = id;
    reply->flags = rc == 0 ? PACKET_FLAG_OK : 0;
    snprintf (reply->node, sizeof reply->node, "%s", node);
    snprintf (reply->text, sizeof reply->text, "%s", error ? error : "");
    if (op == PACKET_OP_LIST && rc == 0) {
        size_t count = keyring_size (keyring);
        for (size_t i = 0; i < count && i < PACKET_KEYS_MAX; i++) {
            size_t len = 0;
            const uint8_t *bytes = keyring_key (keyring, i, &len);
            memcpy (reply->keys[i], bytes, len);
            reply->key_lens[i] = len;
            reply->key_count++;
        }
    }
    if (rc != 0) {
        log_warn ("keyring operation failed op=%d error=\"%s\"", op, error);
        return -1;
    }
    if (op == PACKET_OP_LIST)
        return 0;
    log_info ("keyring changed op=%d keys=%zu", op, keyring_size (keyring));
    return 1;
}

int
keyquery_start (keyquery_t *self, uint64_t id, size_t num_nodes, int64_t now_ms,
                int64_t deadline_ms, const uint8_t *msg, size_t msg_len, keyquery_fn *fn,
                void *arg)
{
    query_t *query = (query_t *) calloc (1, sizeof (query_t));
    if (!query)
        return -1;
    query->keys = cJSON_CreateObject ();
    query->primary = cJSON_CreateObject ();
    query->messages = cJSON_CreateObject ();
    query->responders = zhashx_new ();
    query->msg = (uint8_t *) malloc (msg_len ? msg_len : 1);
    if (!query->keys || !query->primary || !query->messages || !query->responders
        || !query->msg) {
        s_query_free (&query);
        return -1;
    }
    memcpy (query->msg, msg, msg_len);
    query->msg_len = msg_len;
    query->id = id;
    query->num_nodes = num_nodes;
    query->deadline_ms = deadline_ms;
    query->resend_ms = now_ms + (deadline_ms - now_ms) / 2;
    query->fn = fn;
    query->arg = arg;
    query->next = self->queries;
    self->queries = query;
    return 0;
}

static query_t *
s_find (keyquery_t *self, uint64_t id)
{
    query_t *query = self->queries;
    while (query && query->id != id)
        query = query->next;
    return query;
}

bool
keyquery_responded (keyquery_t *self, uint64_t id, const char *node)
{
    query_t *query = s_find (self, id);
    return query && zhashx_lookup (query->responders, node) != NULL;
}

static void
s_count_add (cJSON *object, const char *key)
{
    cJSON *item = cJSON_GetObjectItemCaseSensitive (object, key);
    if (item)
        cJSON_SetNumberValue (item, item->valuedouble + 1);
    else
        cJSON_AddNumberToObject (object, key, 1);
}

void
keyquery_reply (keyquery_t *self, const packet_msg_t *reply)
{
    query_t *query = s_find (self, reply->id);
    if (!query || zhashx_lookup (query->responders, reply->node))
        return;
    zhashx_insert (query->responders, reply->node, (void *) 1);
    query->num_resp++;
    if (!(reply->flags & PACKET_FLAG_OK)) {
        query->num_err++;
        cJSON_AddStringToObject (query->messages, reply->node, reply->text);
    }
    for (size_t i = 0; i < reply->key_count; i++) {
        char text[CRYPTO_KEY_TEXT_MAX];
        if (crypto_key_encode (reply->keys[i], reply->key_lens[i], text, sizeof text) != 0)
            continue;
        s_count_add (query->keys, text);
        if (i == 0)
            s_count_add (query->primary, text);
    }
}

static void
s_finish (keyquery_t *self, query_t *query)
{
    cJSON *result = cJSON_CreateObject ();
    cJSON_AddBoolToObject (result, "WAN", self->wan);
    cJSON_AddStringToObject (result, "Datacenter", self->datacenter);
    cJSON_AddStringToObject (result, "Segment", "");
    cJSON_AddItemToObject (result, "Keys", query->keys);
    cJSON_AddItemToObject (result, "PrimaryKeys", query->primary);
    cJSON_AddNumberToObject (result, "NumNodes", (double) query->num_nodes);
    cJSON_AddNumberToObject (result, "NumResp", (double) query->num_resp);
    cJSON_AddNumberToObject (result, "NumErr", (double) query->num_err);
    cJSON_AddItemToObject (result, "Messages", query->messages);
    query->keys = query->primary = query->messages = NULL;
    char error[128] = "";
    if (query->num_err)
        snprintf (error, sizeof error, "%zu/%zu nodes reported failure", query->num_err,
                  query->num_nodes);
    else if (query->num_resp != query->num_nodes)
        snprintf (error, sizeof error, "%zu/%zu nodes reported success", query->num_resp,
                  query->num_nodes);
    cJSON_AddStringToObject (result, "Error", error);
    keyquery_fn *fn = query->fn;
    void *arg = query->arg;
    s_query_free (&query);
    fn (arg, &result);
    cJSON_Delete (result);
}

int64_t
keyquery_tick (keyquery_t *self, int64_t now_ms, keyquery_resend_fn *resend, void *arg)
{
    int64_t next = INT64_MAX;
    query_t **link = &self->queries;
    while (*link) {
        query_t *query = *link;
        if (query->num_resp >= query->num_nodes || now_ms >= query->deadline_ms) {
            *link = query->next;
            s_finish (self, query);
            continue;
        }
        if (query->resend_ms && now_ms >= query->resend_ms) {
            query->resend_ms = 0;
            resend (arg, query->id, query->msg, query->msg_len);
        }
        int64_t due = query->resend_ms ? query->resend_ms : query->deadline_ms;
        if (due < next)
            next = due;
        link = &query->next;
    }
    return next;
}
