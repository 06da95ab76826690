/*  raftnode: libraft 0.15 wiring (see raftnode.h; docs/catalogd.md "Raft").

    The FSM's apply has no index argument in libraft 0.15: libraft applies
    committed entries one at a time in order and sets last_applied to an
    entry's index right after fsm->apply returns, so during apply the
    entry's index is raft_last_applied() + 1. The proposer learns the same
    index from raft_apply's request (req->index), which is what the reply
    carries; both are the raft index of the entry.

    fsm->apply must never return an error (libraft would stop applying for
    good): the catalog FSM turns bad entries into no-ops. */
#include "raftnode.h"
#include "log.h"

#include <raft.h>
#include <raft/uv.h>

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


struct _catalog_raft_t {
    uv_loop_t *loop;
    catalog_fsm_t *catalog_fsm;
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    struct raft_fsm fsm;
    bool transport_ready;
    bool io_ready;
    bool raft_ready;
    bool started;
    bool closing;
    bool closed;
    bool changing;              //  a membership change of ours in flight
    bool transferring;
    struct raft_transfer transfer;
    uint64_t contact_at;        //  libraft time of the last leader contact
    raft_id id;
    char address[CONFIG_ADDR_MAX + 8];
    char bind[CONFIG_ADDR_MAX + 8];
    char dir[CONFIG_PATH_MAX + 8];
    int server_port;
    bool bootstrap;
    unsigned election_ms;
    unsigned heartbeat_ms;
    catalog_raft_closed_fn *closed_fn;
    void *closed_arg;
};

typedef struct {
    struct raft_apply request;
    catalog_raft_apply_fn *fn;
    void *arg;
} s_apply_t;

typedef struct {
    struct raft_barrier request;
    catalog_raft_barrier_fn *fn;
    void *arg;
} s_barrier_t;

typedef struct {
    struct raft_change request;
    catalog_raft_t *owner;
    catalog_raft_change_fn *fn;
    void *arg;
} s_change_t;

uint64_t
catalog_raft_id_from_uuid (const char *node_id)
{
    //  The first 16 hex digits of the UUID: stable and already random.
    uint64_t id = 0;
    int digits = 0;
    for (const char *c = node_id; *c && digits < 16; c++) {
        if (*c == '-')
            continue;
        if (!isxdigit ((unsigned char) *c)) {
            digits = -1;
            break;
        }
        int value = isdigit ((unsigned char) *c) ? *c - '0'
                                                 : tolower ((unsigned char) *c) - 'a' + 10;
        id = (id << 4) | (uint64_t) value;
        digits++;
    }
    if (digits != 16) {
        //  Not a UUID: FNV-1a of the text.
        id = 14695981039346656037ULL;
        for (const char *c = node_id; *c; c++) {
            id ^= (unsigned char) *c;
            id *= 1099511628211ULL;
        }
    }
    return id ? id : 1;
}

uint64_t
catalog_raft_id_parse (const char *text)
{
    if (!text)
        return 0;
    size_t length = strlen (text);
    //  A UUID: 8-4-4-4-12 hex digits.
    if (length == 36) {
        for (size_t i = 0; i < length; i++) {
            bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? text[i] != '-' : !isxdigit ((unsigned char) text[i]))
                return 0;
        }
        return catalog_raft_id_from_uuid (text);
    }
    //  The raft ID itself: 16 hex digits.
    if (length == 16) {
        uint64_t id = 0;
        for (size_t i = 0; i < length; i++) {
            if (!isxdigit ((unsigned char) text[i]))
                return 0;
            int value = isdigit ((unsigned char) text[i])
                      ? text[i] - '0' : tolower ((unsigned char) text[i]) - 'a' + 10;
            id = (id << 4) | (uint64_t) value;
        }
        return id;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  FSM glue

static int
s_fsm_apply (struct raft_fsm *fsm, const struct raft_buffer *buf,
             void **result)
{
    catalog_raft_t *self = (catalog_raft_t *) fsm->data;
    uint64_t index = raft_last_applied (&self->raft) + 1;
    //  The result is a static text or NULL: nothing to free when libraft
    //  drops it (entries replayed at start have no request).
    *result = (void *) catalog_fsm_apply (self->catalog_fsm, buf->base,
                                          buf->len, index);
    return 0;
}

static int
s_fsm_snapshot (struct raft_fsm *fsm, struct raft_buffer *bufs[],
                unsigned *n_bufs)
{
    catalog_raft_t *self = (catalog_raft_t *) fsm->data;
    size_t size = 0;
    char *text = catalog_fsm_snapshot (self->catalog_fsm, &size);
    //  libraft frees snapshot buffers with raft_free (fsm version 1).
    struct raft_buffer *buffers
        = (struct raft_buffer *) raft_malloc (sizeof *buffers);
    void *base = raft_malloc (size);
    if (!text || !buffers || !base) {
        free (text);
        raft_free (buffers);
        raft_free (base);
        return RAFT_NOMEM;
    }
    memcpy (base, text, size);
    free (text);
    buffers[0].base = base;
    buffers[0].len = size;
    *bufs = buffers;
    *n_bufs = 1;
    log_info ("raft snapshot taken index=%llu bytes=%zu",
              (unsigned long long) raft_last_applied (&self->raft), size);
    return 0;
}

static int
s_fsm_restore (struct raft_fsm *fsm, struct raft_buffer *buf)
{
    catalog_raft_t *self = (catalog_raft_t *) fsm->data;
    char err[256];
    if (catalog_fsm_restore (self->catalog_fsm, buf->base, buf->len, err,
                             sizeof err)) {
        log_error ("cannot restore raft snapshot reason=\"%s\"", err);
        return RAFT_MALFORMED;
    }
    log_info ("raft snapshot restored bytes=%zu", buf->len);
    //  On success the buffer belongs to the FSM.
    raft_free (buf->base);
    return 0;
}

//  ---------------------------------------------------------------------
//  Lifecycle

static int
s_mkdir (const char *path)
{
    if (mkdir (path, 0700) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

catalog_raft_t *
catalog_raft_new (uv_loop_t *loop, const config_t *cfg, catalog_fsm_t *fsm)
{
    assert (loop && cfg && fsm);
    catalog_raft_t *self = (catalog_raft_t *) calloc (1, sizeof *self);
    assert (self);
    self->loop = loop;
    self->catalog_fsm = fsm;
    self->server_port = cfg->ports.server;
    //  More servers agree on their configuration first (bootstrap.c).
    self->bootstrap = cfg->bootstrap_expect == 1 || cfg->dev;
    self->id = catalog_raft_id_from_uuid (*cfg->node_id ? cfg->node_id
                                                        : cfg->node_name);
    snprintf (self->address, sizeof self->address, "%s:%d",
              cfg->advertise_addr, cfg->ports.raft);
    snprintf (self->bind, sizeof self->bind, "%s:%d", cfg->bind_addr,
              cfg->ports.raft);
    snprintf (self->dir, sizeof self->dir, "%s/raft", cfg->data_dir);
    //  Consul scales its raft timers by raft_multiplier; a one-voter
    //  cluster elects itself at once, so these only matter with peers.
    unsigned multiplier = cfg->raft_multiplier > 0 ? (unsigned) cfg->raft_multiplier
                                                   : 1;
    self->election_ms = cfg->dev ? 150 : 1000 * multiplier;
    self->heartbeat_ms = cfg->dev ? 30 : 100 * multiplier;

    self->fsm.version = 1;
    self->fsm.data = self;
    self->fsm.apply = s_fsm_apply;
    self->fsm.snapshot = s_fsm_snapshot;
    self->fsm.restore = s_fsm_restore;

    int rc;
    if (s_mkdir (self->dir)) {
        log_error ("cannot create raft dir path=%s error=\"%s\"", self->dir,
                   strerror (errno));
        goto fail;
    }
    rc = raft_uv_tcp_init (&self->transport, loop);
    if (rc) {
        log_error ("raft transport init failed error=\"%s\"", raft_strerror (rc));
        goto fail;
    }
    self->transport_ready = true;
    rc = raft_uv_tcp_set_bind_address (&self->transport, self->bind);
    if (rc) {
        log_error ("raft bind address rejected address=%s error=\"%s\"",
                   self->bind, raft_strerror (rc));
        goto fail;
    }
    rc = raft_uv_init (&self->io, loop, self->dir, &self->transport);
    if (rc) {
        log_error ("raft storage init failed dir=%s error=\"%s\"", self->dir,
                   raft_strerror (rc));
        goto fail;
    }
    self->io_ready = true;
    rc = raft_init (&self->raft, &self->io, &self->fsm, self->id, self->address);
    if (rc) {
        log_error ("raft init failed error=\"%s\" detail=\"%s\"",
                   raft_strerror (rc), raft_errmsg (&self->raft));
        goto fail;
    }
    self->raft_ready = true;
    self->raft.data = self;
    return self;
fail:
    catalog_raft_destroy (&self);
    return NULL;
}

void
catalog_raft_destroy (catalog_raft_t **self_p)
{
    assert (self_p);
    catalog_raft_t *self = *self_p;
    if (self) {
        //  An initialized raft must be closed through the loop first.
        assert (!self->raft_ready || self->closed);
        if (!self->closed) {
            if (self->io_ready)
                raft_uv_close (&self->io);
            if (self->transport_ready)
                raft_uv_tcp_close (&self->transport);
        }
        free (self);
        *self_p = NULL;
    }
}

bool
catalog_raft_has_state (catalog_raft_t *self)
{
    //  libraft's files: metadata1/2 (term and vote), open-N and N-M log
    //  segments, snapshot-* files. A node started on an empty dir writes
    //  nothing until it hears from a cluster.
    DIR *dir = opendir (self->dir);
    if (!dir)
        return false;
    bool state = false;
    struct dirent *entry;
    while (!state && (entry = readdir (dir))) {
        const char *name = entry->d_name;
        if (strncmp (name, "metadata", 8) != 0 && strncmp (name, "open-", 5) != 0
            && strncmp (name, "snapshot-", 9) != 0 && !isdigit ((unsigned char) name[0]))
            continue;
        char path[CONFIG_PATH_MAX + 300];
        struct stat info;
        snprintf (path, sizeof path, "%s/%s", self->dir, name);
        if (stat (path, &info) == 0 && S_ISREG (info.st_mode) && info.st_size > 0)
            state = true;
    }
    closedir (dir);
    return state;
}

//  Builds a libraft configuration of voters. Returns 0 or a raft error.
static int
s_configuration_make (struct raft_configuration *configuration,
                      const catalog_raft_server_t *servers, size_t n)
{
    raft_configuration_init (configuration);
    for (size_t i = 0; i < n; i++) {
        int rc = raft_configuration_add (configuration, servers[i].id,
                                         servers[i].address, RAFT_VOTER);
        if (rc) {
            raft_configuration_close (configuration);
            return rc;
        }
    }
    return 0;
}

int
catalog_raft_bootstrap (catalog_raft_t *self,
                        const catalog_raft_server_t *servers, size_t n)
{
    assert (!self->started);
    struct raft_configuration configuration;
    int rc = s_configuration_make (&configuration, servers, n);
    if (rc == 0) {
        rc = raft_bootstrap (&self->raft, &configuration);
        raft_configuration_close (&configuration);
    }
    if (rc == 0)
        log_info ("raft bootstrapped voters=%zu id=%016llx address=%s", n,
                  (unsigned long long) self->id, self->address);
    else
    if (rc != RAFT_CANTBOOTSTRAP)
        log_error ("raft bootstrap failed error=\"%s\" detail=\"%s\"",
                   raft_strerror (rc), raft_errmsg (&self->raft));
    return rc;
}

int
catalog_raft_recover (catalog_raft_t *self,
                      const catalog_raft_server_t *servers, size_t n)
{
    assert (!self->started);
    struct raft_configuration configuration;
    int rc = s_configuration_make (&configuration, servers, n);
    if (rc == 0) {
        rc = raft_recover (&self->raft, &configuration);
        raft_configuration_close (&configuration);
    }
    if (rc)
        log_error ("raft recover failed error=\"%s\" detail=\"%s\" dir=%s",
                   raft_strerror (rc), raft_errmsg (&self->raft), self->dir);
    else
        log_info ("raft configuration recovered voters=%zu dir=%s", n, self->dir);
    return rc;
}

int
catalog_raft_start (catalog_raft_t *self)
{
    assert (!self->started);
    if (self->bootstrap) {
        catalog_raft_server_t one;
        memset (&one, 0, sizeof one);
        one.id = self->id;
        one.role = CATALOG_RAFT_VOTER;
        snprintf (one.address, sizeof one.address, "%s", self->address);
        int rc = catalog_raft_bootstrap (self, &one, 1);
        if (rc && rc != RAFT_CANTBOOTSTRAP)
            return -1;
    }
    raft_set_election_timeout (&self->raft, self->election_ms);
    raft_set_heartbeat_timeout (&self->raft, self->heartbeat_ms);
    raft_set_snapshot_threshold (&self->raft, CATALOG_RAFT_SNAPSHOT_THRESHOLD);
    raft_set_snapshot_trailing (&self->raft, CATALOG_RAFT_SNAPSHOT_TRAILING);
    raft_set_pre_vote (&self->raft, true);
    int rc = raft_start (&self->raft);
    if (rc) {
        //  The usual cause: another process holds bind_addr:ports.raft.
        log_error ("raft start failed error=\"%s\" detail=\"%s\" bind=%s "
                   "dir=%s", raft_strerror (rc), raft_errmsg (&self->raft),
                   self->bind, self->dir);
        return -1;
    }
    self->started = true;
    log_info ("raft started id=%016llx address=%s bind=%s dir=%s "
              "last_index=%llu voters=%u election_ms=%u",
              (unsigned long long) self->id, self->address, self->bind,
              self->dir, (unsigned long long) raft_last_index (&self->raft),
              self->raft.configuration.n, self->election_ms);
    return 0;
}

bool
catalog_raft_started (catalog_raft_t *self)
{
    return self->started && !self->closing;
}

static void
s_closed (struct raft *raft)
{
    catalog_raft_t *self = (catalog_raft_t *) raft->data;
    raft_uv_close (&self->io);
    raft_uv_tcp_close (&self->transport);
    self->closed = true;
    log_info ("raft closed");
    if (self->closed_fn)
        self->closed_fn (self->closed_arg);
}

void
catalog_raft_close (catalog_raft_t *self, catalog_raft_closed_fn *fn,
                    void *arg)
{
    assert (!self->closing);
    self->closing = true;
    self->closed_fn = fn;
    self->closed_arg = arg;
    raft_close (&self->raft, s_closed);
}

//  ---------------------------------------------------------------------
//  Proposals

static void
s_apply_done (struct raft_apply *request, int status, void *result)
{
    s_apply_t *apply = (s_apply_t *) request->data;
    apply->fn (apply->arg, status, status == 0 ? request->index : 0,
               status == 0 ? (const char *) result : NULL);
    free (apply);
}

int
catalog_raft_apply (catalog_raft_t *self, const void *data, size_t size,
                    catalog_raft_apply_fn *fn, void *arg)
{
    assert (fn);
    if (self->closing)
        return RAFT_SHUTDOWN;
    //  libraft 0.15's segment loader expects entry lengths that are
    //  multiples of 8: it writes the padding but does not skip it when
    //  reading back, and truncates the log at the first unaligned entry.
    //  The zero padding is harmless to the FSM decoder.
    struct raft_buffer buffer;
    buffer.len = (size + 7) & ~(size_t) 7;
    if (buffer.len == 0)
        buffer.len = 8;
    buffer.base = raft_malloc (buffer.len);
    if (!buffer.base)
        return RAFT_NOMEM;
    memset (buffer.base, 0, buffer.len);
    memcpy (buffer.base, data, size);
    s_apply_t *apply = (s_apply_t *) calloc (1, sizeof *apply);
    assert (apply);
    apply->request.data = apply;
    apply->fn = fn;
    apply->arg = arg;
    int rc = raft_apply (&self->raft, &apply->request, &buffer, 1, s_apply_done);
    if (rc) {
        raft_free (buffer.base);
        free (apply);
    }
    return rc;
}

static void
s_barrier_done (struct raft_barrier *request, int status)
{
    s_barrier_t *barrier = (s_barrier_t *) request->data;
    barrier->fn (barrier->arg, status);
    free (barrier);
}

int
catalog_raft_barrier (catalog_raft_t *self, catalog_raft_barrier_fn *fn,
                      void *arg)
{
    assert (fn);
    if (self->closing)
        return RAFT_SHUTDOWN;
    s_barrier_t *barrier = (s_barrier_t *) calloc (1, sizeof *barrier);
    assert (barrier);
    barrier->request.data = barrier;
    barrier->fn = fn;
    barrier->arg = arg;
    int rc = raft_barrier (&self->raft, &barrier->request, s_barrier_done);
    if (rc)
        free (barrier);
    return rc;
}

//  ---------------------------------------------------------------------
//  Membership

static void
s_change_done (struct raft_change *request, int status)
{
    s_change_t *change = (s_change_t *) request->data;
    change->owner->changing = false;
    if (change->fn)
        change->fn (change->arg, status);
    free (change);
}

int
catalog_raft_change (catalog_raft_t *self, catalog_raft_change_t kind,
                     uint64_t id, const char *address,
                     catalog_raft_change_fn *fn, void *arg)
{
    if (self->closing || !self->started)
        return RAFT_SHUTDOWN;
    if (self->changing)
        return RAFT_CANTCHANGE;
    s_change_t *change = (s_change_t *) calloc (1, sizeof *change);
    assert (change);
    change->request.data = change;
    change->owner = self;
    change->fn = fn;
    change->arg = arg;
    int rc;
    if (kind == CATALOG_RAFT_ADD)
        rc = address ? raft_add (&self->raft, &change->request, id, address,
                                 s_change_done)
                     : RAFT_INVALID;
    else
    if (kind == CATALOG_RAFT_PROMOTE)
        rc = raft_assign (&self->raft, &change->request, id, RAFT_VOTER,
                          s_change_done);
    else
        rc = raft_remove (&self->raft, &change->request, id, s_change_done);
    if (rc)
        free (change);
    else
        self->changing = true;
    return rc;
}

bool
catalog_raft_changing (catalog_raft_t *self)
{
    return self->changing;
}

static void
s_transfer_done (struct raft_transfer *request)
{
    catalog_raft_t *self = (catalog_raft_t *) request->data;
    self->transferring = false;
    raft_id id = 0;
    const char *address = NULL;
    raft_leader (&self->raft, &id, &address);
    log_info ("raft leadership transfer done leader=%016llx",
              (unsigned long long) id);
}

int
catalog_raft_transfer (catalog_raft_t *self, uint64_t id)
{
    if (self->closing || !self->started)
        return RAFT_SHUTDOWN;
    if (self->transferring)
        return RAFT_BUSY;
    memset (&self->transfer, 0, sizeof self->transfer);
    self->transfer.data = self;
    int rc = raft_transfer (&self->raft, &self->transfer, id, s_transfer_done);
    if (rc == 0)
        self->transferring = true;
    return rc;
}

int
catalog_raft_configuration (catalog_raft_t *self,
                            catalog_raft_server_t **servers_p,
                            uint64_t *index_p)
{
    const struct raft_configuration *configuration = &self->raft.configuration;
    unsigned n = self->closing ? 0 : configuration->n;
    catalog_raft_server_t *servers
        = (catalog_raft_server_t *) calloc (n ? n : 1, sizeof *servers);
    if (!servers)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        servers[i].id = configuration->servers[i].id;
        servers[i].role = configuration->servers[i].role;
        snprintf (servers[i].address, sizeof servers[i].address, "%s",
                  configuration->servers[i].address
                  ? configuration->servers[i].address : "");
    }
    if (index_p)
        *index_p = self->raft.configuration_uncommitted_index
                 ? self->raft.configuration_uncommitted_index
                 : self->raft.configuration_index;
    *servers_p = servers;
    return (int) n;
}

//  ---------------------------------------------------------------------
//  State

bool
catalog_raft_is_leader (catalog_raft_t *self)
{
    return self->started && !self->closing
           && raft_state (&self->raft) == RAFT_LEADER;
}

bool
catalog_raft_leader_known (catalog_raft_t *self)
{
    raft_id id = 0;
    const char *address = NULL;
    if (!self->started || self->closing)
        return false;
    raft_leader (&self->raft, &id, &address);
    return id != 0;
}

uint64_t
catalog_raft_term (catalog_raft_t *self)
{
    return self->raft.current_term;
}

uint64_t
catalog_raft_last_applied (catalog_raft_t *self)
{
    return raft_last_applied (&self->raft);
}

uint64_t
catalog_raft_last_index (catalog_raft_t *self)
{
    return self->started ? raft_last_index (&self->raft) : 0;
}

uint64_t
catalog_raft_last_contact_ms (catalog_raft_t *self)
{
    if (!self->started || self->closing
        || raft_state (&self->raft) == RAFT_LEADER)
        return 0;
    //  libraft restarts the election timer of a follower on every
    //  AppendEntries or InstallSnapshot from its leader (and on granting
    //  a vote): while a leader is known, that is the last contact. Without
    //  one the timer restarts with every election round, so the time since
    //  the last contact seen is reported instead.
    raft_time now = self->io.time (&self->io);
    raft_id id = 0;
    const char *address = NULL;
    raft_leader (&self->raft, &id, &address);
    if (id && raft_state (&self->raft) == RAFT_FOLLOWER)
        self->contact_at = self->raft.election_timer_start;
    else
    if (self->contact_at == 0)
        self->contact_at = now;
    return now > self->contact_at ? (uint64_t) (now - self->contact_at) : 0;
}

uint64_t
catalog_raft_leader_id (catalog_raft_t *self)
{
    raft_id id = 0;
    const char *address = NULL;
    if (!self->started || self->closing)
        return 0;
    raft_leader (&self->raft, &id, &address);
    return id;
}

uint64_t
catalog_raft_id (catalog_raft_t *self)
{
    return self->id;
}

const char *
catalog_raft_address (catalog_raft_t *self)
{
    return self->address;
}

const char *
catalog_raft_state_name (catalog_raft_t *self)
{
    if (!self->started)
        return "unstarted";
    switch (raft_state (&self->raft)) {
        case RAFT_LEADER:
            return "leader";
        case RAFT_FOLLOWER:
            return "follower";
        case RAFT_CANDIDATE:
            return "candidate";
        default:
            return "unavailable";
    }
}

//  "host:raft_port" -> "host:server_port" (every server uses the same
//  ports, as with Consul's defaults).
void
catalog_raft_server_address (catalog_raft_t *self, const char *raft_address,
                             char *buf, size_t size)
{
    const char *colon = strrchr (raft_address, ':');
    int host_len = colon ? (int) (colon - raft_address) : (int) strlen (raft_address);
    snprintf (buf, size, "%.*s:%d", host_len, raft_address, self->server_port);
}

void
catalog_raft_leader (catalog_raft_t *self, char *buf, size_t size)
{
    raft_id id = 0;
    const char *address = NULL;
    *buf = 0;
    if (!self->started || self->closing)
        return;
    raft_leader (&self->raft, &id, &address);
    if (id && address)
        catalog_raft_server_address (self, address, buf, size);
}

cJSON *
catalog_raft_peers (catalog_raft_t *self)
{
    cJSON *peers = cJSON_CreateArray ();
    assert (peers);
    if (self->closing)
        return peers;
    const struct raft_configuration *configuration = &self->raft.configuration;
    for (unsigned i = 0; i < configuration->n; i++) {
        const struct raft_server *server = &configuration->servers[i];
        if (server->role != RAFT_VOTER || !server->address)
            continue;
        char address[CONFIG_ADDR_MAX + 16];
        catalog_raft_server_address (self, server->address, address, sizeof address);
        cJSON_AddItemToArray (peers, cJSON_CreateString (address));
    }
    return peers;
}

const char *
catalog_raft_error_text (int status)
{
    switch (status) {
        case RAFT_NOTLEADER:
            return "No cluster leader";
        case RAFT_LEADERSHIPLOST:
            return "leadership lost while committing log";
        case RAFT_SHUTDOWN:
        case RAFT_CANCELED:
            return "catalogd is shutting down";
        default:
            return raft_strerror (status);
    }
}

int
catalog_raft_error_code (int status)
{
    return status == RAFT_SHUTDOWN || status == RAFT_CANCELED ? 503 : 500;
}

bool
catalog_raft_error_not_leader (int status)
{
    return status == RAFT_NOTLEADER;
}

bool
catalog_raft_error_busy (int status)
{
    return status == RAFT_CANTCHANGE;
}
