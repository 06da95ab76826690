/*  bootstrap: the agreement of bootstrap_expect servers on their first
    raft configuration (see bootstrap.h; docs/catalogd.md, "Forming a
    cluster"). Consul's maybeBootstrap, made safe against servers that see
    different member lists: bootstrap only with a set every member of it
    proposes too. */
#include "bootstrap.h"
#include "log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    ANSWER_PENDING,
    ANSWER_AGREES,
    ANSWER_DIFFERS,
    ANSWER_CONFIGURED,      //  raft state, no configuration naming us
    ANSWER_ADOPT,           //  bootstrapped a configuration naming us
    ANSWER_FAILED
} answer_t;

//  A server this one has proposed: proposals only grow.
typedef struct {
    catalog_raft_server_t server;
    char name[CONFIG_NAME_MAX * 2];
    char server_address[CATALOG_SERVER_ADDRESS_MAX];
} s_known_t;

struct _catalog_bootstrap_t {
    int expect;
    uint64_t self_id;
    char self_address[CATALOG_RAFT_ADDRESS_MAX];
    s_known_t *known;                   //  every server ever proposed
    size_t known_size;
    char *proposal;                     //  of the last round begun
    catalog_raft_server_t *set;         //  the round's servers, by ID
    size_t set_size;
    catalog_boot_peer_t *peers;         //  the set without this server
    answer_t *answers;
    size_t peer_count;
    catalog_raft_server_t *adopted;     //  a peer's bootstrap configuration
    size_t adopted_size;
    bool adopt_conflict;                //  two peers gave different ones
    char why[256];                      //  last reason a peer disagreed
};

catalog_bootstrap_t *
catalog_bootstrap_new (int expect, uint64_t self_id, const char *self_raft_address)
{
    assert (expect > 1 && self_raft_address);
    catalog_bootstrap_t *self = (catalog_bootstrap_t *) calloc (1, sizeof *self);
    assert (self);
    self->expect = expect;
    self->self_id = self_id;
    snprintf (self->self_address, sizeof self->self_address, "%s", self_raft_address);
    self->proposal = strdup ("");
    assert (self->proposal);
    return self;
}

static void
s_round_clear (catalog_bootstrap_t *self)
{
    free (self->adopted);
    self->adopted = NULL;
    self->adopted_size = 0;
    self->adopt_conflict = false;
    free (self->set);
    free (self->peers);
    free (self->answers);
    self->set = NULL;
    self->peers = NULL;
    self->answers = NULL;
    self->set_size = self->peer_count = 0;
}

void
catalog_bootstrap_destroy (catalog_bootstrap_t **self_p)
{
    assert (self_p);
    catalog_bootstrap_t *self = *self_p;
    if (self) {
        s_round_clear (self);
        free (self->known);
        free (self->proposal);
        free (self);
        *self_p = NULL;
    }
}

static int
s_by_id (const void *a, const void *b)
{
    const catalog_raft_server_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

//  The candidate set: every server of the DC alive now, plus every server
//  proposed before (a proposal never shrinks: see the header), sorted by
//  ID. Returns its size (and *set_p, caller frees) or -1 with the reason.
//  With commit, the servers alive now are remembered as proposed.
static int
s_candidates (catalog_bootstrap_t *self, catalog_servers_t *servers, bool commit,
              catalog_raft_server_t **set_p, char *reason, size_t size)
{
    *set_p = NULL;
    size_t total = catalog_servers_size (servers) + self->known_size;
    catalog_raft_server_t *set
        = (catalog_raft_server_t *) calloc (total ? total : 1, sizeof *set);
    assert (set);
    size_t count = 0;
    for (size_t i = 0; i < self->known_size; i++)
        set[count++] = self->known[i].server;
    size_t remembered = count;
    bool self_seen = false;
    for (size_t i = 0; i < catalog_servers_size (servers); i++) {
        const catalog_server_t *server = catalog_servers_at (servers, i);
        if (server->status != CATALOG_MEMBER_ALIVE)
            continue;
        //  Consul's maybeBootstrap refuses these, with its words.
        if (server->bootstrap) {
            snprintf (reason, size, "Member %s has bootstrap mode. Expect disabled.",
                      server->name);
            goto refuse;
        }
        if (server->expect != 0 && server->expect != self->expect) {
            snprintf (reason, size, "Member %s has a conflicting expect value. "
                      "All nodes should expect the same number.", server->name);
            goto refuse;
        }
        if (server->raft_id == self->self_id) {
            if (strcmp (server->raft_address, self->self_address) != 0) {
                snprintf (reason, size, "the LAN pool gives this server the raft "
                          "address %s but raft listens on %s", server->raft_address,
                          self->self_address);
                goto refuse;
            }
            self_seen = true;
        }
        bool listed = false;
        for (size_t j = 0; j < count && !listed; j++) {
            bool same_id = set[j].id == server->raft_id;
            bool same_address = strcmp (set[j].address, server->raft_address) == 0;
            if (same_id != same_address) {
                snprintf (reason, size, "Member %s has the raft ID or address of "
                          "another server, or changed its address, while the "
                          "servers were agreeing on a bootstrap (restart them)",
                          server->name);
                goto refuse;
            }
            listed = same_id;
        }
        if (listed)
            continue;
        set[count].id = server->raft_id;
        set[count].role = CATALOG_RAFT_VOTER;
        snprintf (set[count].address, sizeof set[count].address, "%s",
                  server->raft_address);
        count++;
    }
    if (!self_seen) {
        snprintf (reason, size, "this server is not in the LAN member list yet");
        goto refuse;
    }
    if (count < (size_t) self->expect) {
        snprintf (reason, size, "waiting for %d servers (bootstrap_expect), %zu "
                  "known", self->expect, count);
        goto refuse;
    }
    if (commit && count > remembered) {
        s_known_t *grown = (s_known_t *) realloc (self->known, count * sizeof *grown);
        assert (grown);
        self->known = grown;
        for (size_t j = remembered; j < count; j++) {
            const catalog_server_t *server = catalog_servers_by_id (servers, set[j].id);
            s_known_t *known = &self->known[j];
            memset (known, 0, sizeof *known);
            known->server = set[j];
            snprintf (known->name, sizeof known->name, "%s", server->name);
            snprintf (known->server_address, sizeof known->server_address, "%s",
                      server->server_address);
        }
        self->known_size = count;
    }
    qsort (set, count, sizeof *set, s_by_id);
    *set_p = set;
    return (int) count;
refuse:
    free (set);
    return -1;
}

char *
catalog_bootstrap_text (const catalog_raft_server_t *servers, size_t n)
{
    catalog_raft_server_t *set = (catalog_raft_server_t *) calloc (n ? n : 1, sizeof *set);
    assert (set);
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (servers[i].role == CATALOG_RAFT_VOTER)
            set[count++] = servers[i];
    qsort (set, count, sizeof *set, s_by_id);
    size_t capacity = 1;
    for (size_t i = 0; i < count; i++)
        capacity += strlen (set[i].address) + 20;
    char *text = (char *) malloc (capacity);
    assert (text);
    size_t used = 0;
    text[0] = 0;
    for (size_t i = 0; i < count; i++)
        used += (size_t) snprintf (text + used, capacity - used, "%s%016llx@%s",
                                   i ? "," : "", (unsigned long long) set[i].id,
                                   set[i].address);
    free (set);
    return text;
}

int
catalog_bootstrap_begin (catalog_bootstrap_t *self, catalog_servers_t *servers,
                         char *reason, size_t reason_size)
{
    s_round_clear (self);
    catalog_raft_server_t *set = NULL;
    int count = s_candidates (self, servers, true, &set, reason, reason_size);
    if (count < 0)
        return -1;
    free (self->proposal);
    self->proposal = catalog_bootstrap_text (set, (size_t) count);
    self->set = set;
    self->set_size = (size_t) count;
    self->peers = (catalog_boot_peer_t *) calloc ((size_t) count, sizeof *self->peers);
    self->answers = (answer_t *) calloc ((size_t) count, sizeof *self->answers);
    assert (self->peers && self->answers);
    for (int i = 0; i < count; i++) {
        if (set[i].id == self->self_id)
            continue;
        //  Asked at its current address, or the last one known.
        const catalog_server_t *server = catalog_servers_by_id (servers, set[i].id);
        const s_known_t *known = NULL;
        for (size_t j = 0; j < self->known_size && !known; j++)
            if (self->known[j].server.id == set[i].id)
                known = &self->known[j];
        catalog_boot_peer_t *peer = &self->peers[self->peer_count++];
        peer->raft_id = set[i].id;
        snprintf (peer->name, sizeof peer->name, "%s",
                  server ? server->name : known->name);
        snprintf (peer->server_address, sizeof peer->server_address, "%s",
                  server && *server->server_address ? server->server_address
                                                    : known->server_address);
    }
    self->why[0] = 0;
    return (int) self->peer_count;
}

size_t
catalog_bootstrap_peer_count (catalog_bootstrap_t *self)
{
    return self->peer_count;
}

const catalog_boot_peer_t *
catalog_bootstrap_peer (catalog_bootstrap_t *self, size_t i)
{
    return i < self->peer_count ? &self->peers[i] : NULL;
}

//  Reads a peer's Bootstrap list ([{"ID":"hex","Address":"raft addr"}]).
//  Returns its size (and *servers_p, caller frees), or -1 when absent or
//  malformed.
static int
s_bootstrap_list (const cJSON *list, catalog_raft_server_t **servers_p)
{
    *servers_p = NULL;
    if (!cJSON_IsArray (list) || cJSON_GetArraySize (list) == 0)
        return -1;
    int count = cJSON_GetArraySize (list);
    catalog_raft_server_t *servers
        = (catalog_raft_server_t *) calloc ((size_t) count, sizeof *servers);
    assert (servers);
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach (item, list) {
        const char *id = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (item, "ID"));
        const char *address = cJSON_GetStringValue (
            cJSON_GetObjectItemCaseSensitive (item, "Address"));
        uint64_t raft_id = id && strlen (id) == 16 ? catalog_raft_id_parse (id) : 0;
        if (!raft_id || !address || !*address
            || strlen (address) >= sizeof servers[i].address) {
            free (servers);
            return -1;
        }
        servers[i].id = raft_id;
        servers[i].role = CATALOG_RAFT_VOTER;
        snprintf (servers[i].address, sizeof servers[i].address, "%s", address);
        i++;
    }
    *servers_p = servers;
    return count;
}

void
catalog_bootstrap_answer (catalog_bootstrap_t *self, size_t i, const cJSON *status)
{
    if (i >= self->peer_count || self->answers[i] != ANSWER_PENDING)
        return;
    const catalog_boot_peer_t *peer = &self->peers[i];
    const cJSON *id = cJSON_GetObjectItemCaseSensitive (status, "ID");
    const cJSON *configured = cJSON_GetObjectItemCaseSensitive (status, "Configured");
    const cJSON *proposal = cJSON_GetObjectItemCaseSensitive (status, "Proposal");
    char expected_id[20];
    snprintf (expected_id, sizeof expected_id, "%016llx", (unsigned long long) peer->raft_id);
    if (!cJSON_IsObject (status) || !cJSON_IsString (id) || !cJSON_IsBool (configured)
        || !cJSON_IsString (proposal)) {
        self->answers[i] = ANSWER_FAILED;
        snprintf (self->why, sizeof self->why, "no usable raft status from %s (%s)",
                  peer->name, peer->server_address);
        return;
    }
    if (strcmp (id->valuestring, expected_id) != 0) {
        self->answers[i] = ANSWER_FAILED;
        snprintf (self->why, sizeof self->why, "%s answered with raft ID %.20s, "
                  "expected %s", peer->server_address, id->valuestring, expected_id);
        return;
    }
    if (cJSON_IsTrue (configured)) {
        catalog_raft_server_t *servers = NULL;
        int count = s_bootstrap_list (
            cJSON_GetObjectItemCaseSensitive (status, "Bootstrap"), &servers);
        bool names_us = false;
        for (int j = 0; j < count; j++)
            names_us |= servers[j].id == self->self_id
                        && strcmp (servers[j].address, self->self_address) == 0;
        if (!names_us) {
            free (servers);
            self->answers[i] = ANSWER_CONFIGURED;
            return;
        }
        self->answers[i] = ANSWER_ADOPT;
        if (!self->adopted) {
            self->adopted = servers;
            self->adopted_size = (size_t) count;
            return;
        }
        char *mine = catalog_bootstrap_text (self->adopted, self->adopted_size);
        char *theirs = catalog_bootstrap_text (servers, (size_t) count);
        if (strcmp (mine, theirs) != 0)
            self->adopt_conflict = true;
        free (mine);
        free (theirs);
        free (servers);
        return;
    }
    if (strcmp (proposal->valuestring, self->proposal) != 0) {
        self->answers[i] = ANSWER_DIFFERS;
        snprintf (self->why, sizeof self->why, "%s proposes another server set",
                  peer->name);
    }
    else
        self->answers[i] = ANSWER_AGREES;
}

catalog_boot_outcome_t
catalog_bootstrap_outcome (catalog_bootstrap_t *self, catalog_servers_t *servers)
{
    if (!self->set)
        return CATALOG_BOOT_RETRY;
    bool agreed = true, configured = false;
    for (size_t i = 0; i < self->peer_count; i++) {
        if (self->answers[i] == ANSWER_PENDING)
            return CATALOG_BOOT_PENDING;
        configured |= self->answers[i] == ANSWER_CONFIGURED;
        if (self->answers[i] != ANSWER_AGREES)
            agreed = false;
    }
    if (self->adopted && !self->adopt_conflict)
        return CATALOG_BOOT_ADOPT;
    if (self->adopt_conflict)
        log_error ("peers report different bootstrapped configurations naming "
                   "this server: not adopting either");
    if (configured || self->adopt_conflict)
        return CATALOG_BOOT_EXISTS;
    if (!agreed) {
        log_debug ("bootstrap round without agreement reason=\"%s\"", self->why);
        return CATALOG_BOOT_RETRY;
    }
    //  The member list must still give the same set.
    catalog_raft_server_t *now = NULL;
    char reason[256];
    int count = s_candidates (self, servers, false, &now, reason, sizeof reason);
    bool same = false;
    if (count > 0) {
        char *text = catalog_bootstrap_text (now, (size_t) count);
        same = strcmp (text, self->proposal) == 0;
        free (text);
    }
    free (now);
    if (!same) {
        log_debug ("bootstrap round abandoned: the server set changed");
        return CATALOG_BOOT_RETRY;
    }
    return CATALOG_BOOT_GO;
}

size_t
catalog_bootstrap_configuration (catalog_bootstrap_t *self,
                                 const catalog_raft_server_t **servers_p)
{
    if (self->adopted) {
        *servers_p = self->adopted;
        return self->adopted_size;
    }
    *servers_p = self->set;
    return self->set_size;
}

const char *
catalog_bootstrap_proposal (catalog_bootstrap_t *self)
{
    return self->proposal;
}
