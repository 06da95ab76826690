/*  operator: raft configuration, peer lookup and raft status for the
    operator commands (see operator.h; docs/protocol/catalog-rpc.md). */
#include "operator.h"
#include "fsm.h"
#include "log.h"
#include "rpc_client.h"

#include <czmq.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_hex_id (uint64_t id, char *buf, size_t size)
{
    snprintf (buf, size, "%016llx", (unsigned long long) id);
}

cJSON *
catalog_operator_configuration (catalog_raft_t *raft, catalog_servers_t *servers,
                                uint64_t *index)
{
    catalog_raft_server_t *config = NULL;
    uint64_t config_index = 0;
    int n = catalog_raft_configuration (raft, &config, &config_index);
    if (n < 0)
        return NULL;
    uint64_t leader = catalog_raft_leader_id (raft);
    cJSON *result = cJSON_CreateObject ();
    cJSON *list = cJSON_AddArrayToObject (result, "Servers");
    for (int i = 0; i < n; i++) {
        const catalog_server_t *member = catalog_servers_by_id (servers, config[i].id);
        char id[40], address[CATALOG_RAFT_ADDRESS_MAX + 16];
        if (member)
            snprintf (id, sizeof id, "%s", member->node_id);
        else
            s_hex_id (config[i].id, id, sizeof id);
        catalog_raft_server_address (raft, config[i].address, address, sizeof address);
        cJSON *server = cJSON_CreateObject ();
        cJSON_AddStringToObject (server, "ID", id);
        cJSON_AddStringToObject (server, "Node", member ? member->name : "(unknown)");
        cJSON_AddStringToObject (server, "Address", address);
        cJSON_AddBoolToObject (server, "Leader", leader != 0 && config[i].id == leader);
        cJSON_AddBoolToObject (server, "Voter", config[i].role == CATALOG_RAFT_VOTER);
        cJSON_AddStringToObject (server, "ProtocolVersion",
                                 member && *member->raft_vsn ? member->raft_vsn : "unknown");
        cJSON_AddItemToArray (list, server);
    }
    cJSON_AddNumberToObject (result, "Index", (double) config_index);
    free (config);
    if (index)
        *index = config_index;
    return result;
}

int
catalog_operator_peer (catalog_raft_t *raft, const cJSON *body, uint64_t *id,
                       char *err, size_t err_size)
{
    const cJSON *id_item = cJSON_GetObjectItemCaseSensitive (body, "ID");
    const cJSON *address_item = cJSON_GetObjectItemCaseSensitive (body, "Address");
    bool has_id = id_item && !cJSON_IsNull (id_item);
    bool has_address = address_item && !cJSON_IsNull (address_item);
    if ((has_id && !cJSON_IsString (id_item))
        || (has_address && !cJSON_IsString (address_item))) {
        snprintf (err, err_size, "ID and Address must be strings");
        return 400;
    }
    if (has_id == has_address) {
        snprintf (err, err_size, has_id ? "Must specify only one of ?id or ?address"
                  : "Must specify either ?id with the server's ID or ?address "
                    "with IP:port of peer to remove");
        return 400;
    }
    catalog_raft_server_t *config = NULL;
    int n = catalog_raft_configuration (raft, &config, NULL);
    if (n < 0) {
        snprintf (err, err_size, "out of memory");
        return 500;
    }
    int code = 500;
    const char *wanted = has_id ? id_item->valuestring : address_item->valuestring;
    uint64_t wanted_id = has_id ? catalog_raft_id_parse (wanted) : 0;
    for (int i = 0; i < n && code; i++) {
        char server_address[CATALOG_RAFT_ADDRESS_MAX + 16];
        catalog_raft_server_address (raft, config[i].address, server_address,
                                     sizeof server_address);
        bool match = has_id ? wanted_id != 0 && config[i].id == wanted_id
                            : strcmp (wanted, server_address) == 0
                              || strcmp (wanted, config[i].address) == 0;
        if (match) {
            *id = config[i].id;
            code = 0;
        }
    }
    free (config);
    if (code)
        snprintf (err, err_size, "%s \"%.200s\" was not found in the Raft configuration",
                  has_id ? "id" : "address", wanted);
    return code;
}

cJSON *
catalog_operator_status (catalog_raft_t *raft, const char *proposal)
{
    catalog_raft_server_t *config = NULL;
    uint64_t config_index = 0;
    int n = catalog_raft_configuration (raft, &config, &config_index);
    char id[20], server_address[CATALOG_RAFT_ADDRESS_MAX + 16], leader[CATALOG_RAFT_ADDRESS_MAX + 16];
    s_hex_id (catalog_raft_id (raft), id, sizeof id);
    catalog_raft_server_address (raft, catalog_raft_address (raft), server_address,
                                 sizeof server_address);
    catalog_raft_leader (raft, leader, sizeof leader);
    bool started = catalog_raft_started (raft);
    uint64_t last_index = catalog_raft_last_index (raft);
    cJSON *status = cJSON_CreateObject ();
    cJSON_AddStringToObject (status, "ID", id);
    cJSON_AddStringToObject (status, "Address", catalog_raft_address (raft));
    cJSON_AddStringToObject (status, "ServerAddress", server_address);
    cJSON_AddBoolToObject (status, "Started", started);
    cJSON_AddStringToObject (status, "State", catalog_raft_state_name (raft));
    cJSON_AddNumberToObject (status, "Term", (double) catalog_raft_term (raft));
    cJSON_AddNumberToObject (status, "LastIndex", (double) last_index);
    cJSON_AddNumberToObject (status, "LastApplied",
                             (double) (started ? catalog_raft_last_applied (raft) : 0));
    cJSON_AddNumberToObject (status, "Voters", n > 0 ? n : 0);
    //  Anything a cluster gave or bootstrapped: the agreement must not
    //  bootstrap around it.
    cJSON_AddBoolToObject (status, "Configured",
                           n > 0 || last_index > 0 || catalog_raft_has_state (raft));
    cJSON_AddStringToObject (status, "Leader", leader);
    cJSON_AddStringToObject (status, "Proposal", proposal ? proposal : "");
    //  The configuration this server bootstrapped, while it is still the
    //  current one (entry 1 of the log): peers named in it adopt it.
    if (config_index == 1 && n > 0) {
        cJSON *list = cJSON_AddArrayToObject (status, "Bootstrap");
        for (int i = 0; i < n; i++) {
            if (config[i].role != CATALOG_RAFT_VOTER)
                continue;
            cJSON *server = cJSON_CreateObject ();
            s_hex_id (config[i].id, id, sizeof id);
            cJSON_AddStringToObject (server, "ID", id);
            cJSON_AddStringToObject (server, "Address", config[i].address);
            cJSON_AddItemToArray (list, server);
        }
    }
    else
        cJSON_AddNullToObject (status, "Bootstrap");
    free (config);
    return status;
}

int
catalog_operator_peers_parse (const char *text, int raft_port,
                              catalog_raft_server_t **servers_p, char *err,
                              size_t err_size)
{
    *servers_p = NULL;
    cJSON *list = cJSON_Parse (text);
    if (!cJSON_IsArray (list) || cJSON_GetArraySize (list) == 0) {
        snprintf (err, err_size, "the peers file must be a non-empty JSON array of "
                  "{\"id\",\"address\",\"non_voter\"}");
        cJSON_Delete (list);
        return -1;
    }
    int count = cJSON_GetArraySize (list);
    catalog_raft_server_t *servers
        = (catalog_raft_server_t *) calloc ((size_t) count, sizeof *servers);
    assert (servers);
    int n = 0, voters = 0;
    const cJSON *item;
    cJSON_ArrayForEach (item, list) {
        const char *id = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (item, "id"));
        const char *address = cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (item, "address"));
        const cJSON *non_voter = cJSON_GetObjectItemCaseSensitive (item, "non_voter");
        uint64_t raft_id = catalog_raft_id_parse (id);
        const char *colon = address ? strrchr (address, ':') : NULL;
        if (!raft_id) {
            snprintf (err, err_size, "entry %d: id must be a node UUID or a 16 hex "
                      "digit raft ID", n + 1);
            goto fail;
        }
        if (!colon || colon == address || colon - address >= CONFIG_ADDR_MAX) {
            snprintf (err, err_size, "entry %d: address must be \"host:port\"", n + 1);
            goto fail;
        }
        if (non_voter && !cJSON_IsBool (non_voter)) {
            snprintf (err, err_size, "entry %d: non_voter must be a boolean", n + 1);
            goto fail;
        }
        for (int i = 0; i < n; i++)
            if (servers[i].id == raft_id) {
                snprintf (err, err_size, "entry %d: id %s is listed twice", n + 1, id);
                goto fail;
            }
        servers[n].id = raft_id;
        servers[n].role = cJSON_IsTrue (non_voter) ? CATALOG_RAFT_STANDBY
                                                   : CATALOG_RAFT_VOTER;
        voters += servers[n].role == CATALOG_RAFT_VOTER;
        snprintf (servers[n].address, sizeof servers[n].address, "%.*s:%d",
                  (int) (colon - address), address, raft_port);
        n++;
    }
    if (voters == 0) {
        snprintf (err, err_size, "the peers file names no voter");
        goto fail;
    }
    cJSON_Delete (list);
    *servers_p = servers;
    return n;
fail:
    cJSON_Delete (list);
    free (servers);
    return -1;
}

static void
s_recover_closed (void *arg)
{
    *(bool *) arg = true;
}

int
catalog_operator_recover (const config_t *cfg, const char *path)
{
    char err[512];
    char *text = NULL;
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk = file && zfile_input (file) == 0
                    ? zfile_read (file, 1024 * 1024, 0) : NULL;
    if (chunk)
        text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    zfile_destroy (&file);
    if (!text) {
        log_error ("cannot read the peers file path=%s", path);
        return 1;
    }
    catalog_raft_server_t *servers = NULL;
    int n = catalog_operator_peers_parse (text, cfg->ports.raft, &servers, err, sizeof err);
    free (text);
    if (n < 0) {
        log_error ("bad peers file path=%s reason=\"%s\"", path, err);
        return 1;
    }
    //  A running catalogd owns the raft dir.
    rpc_client_t *client = rpc_client_new (cfg->data_dir, "catalogd");
    cJSON *body = cJSON_CreateObject ();
    int status = RPC_OK;
    envelope_t *reply = client ? rpc_client_call (client, "status.leader", &body, 500, &status)
                               : NULL;
    cJSON_Delete (body);
    bool running = reply != NULL;
    envelope_destroy (&reply);
    rpc_client_destroy (&client);
    if (running) {
        log_error ("catalogd is running on data_dir=%s: stop it (and the agent) first",
                   cfg->data_dir);
        free (servers);
        return 1;
    }
    uv_loop_t loop;
    if (uv_loop_init (&loop)) {
        free (servers);
        return 1;
    }
    catalog_store_t *store = catalog_store_new ();
    catalog_fsm_t *fsm = catalog_fsm_new (store);
    catalog_raft_t *raft = catalog_raft_new (&loop, cfg, fsm);
    int rc = 1;
    if (raft && !catalog_raft_has_state (raft))
        log_error ("no raft state in data_dir=%s: nothing to recover", cfg->data_dir);
    else
    if (raft && catalog_raft_recover (raft, servers, (size_t) n) == 0) {
        char *list = NULL;
        for (int i = 0; i < n; i++) {
            char *grown = NULL;
            if (asprintf (&grown, "%s%s%016llx@%s", list ? list : "", list ? "," : "",
                          (unsigned long long) servers[i].id, servers[i].address) >= 0) {
                free (list);
                list = grown;
            }
        }
        log_info ("raft configuration rewritten: copy %s/raft to the other servers "
                  "listed, then start them all servers=\"%s\"", cfg->data_dir,
                  list ? list : "");
        free (list);
        rc = 0;
    }
    if (raft) {
        bool closed = false;
        catalog_raft_close (raft, s_recover_closed, &closed);
        uv_run (&loop, UV_RUN_DEFAULT);
        catalog_raft_destroy (&raft);
    }
    uv_loop_close (&loop);
    catalog_fsm_destroy (&fsm);
    catalog_store_destroy (&store);
    free (servers);
    return rc;
}
