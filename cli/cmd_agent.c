/*  cmd_agent: `meridian agent` (docs/architecture.md: "starts, watches and
    stops the daemons"). Owns the table of daemons per role, the agent's
    effective config file, the Consul-like startup banner and the removal
    of a -dev temporary data dir at exit. Supervision is supervisor.c. */
#include "cmd_agent.h"

#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "rundir.h"
#include "signals.h"
#include "supervisor.h"
#include "version.h"

//  Which daemons run on which role, in start order. Later issues add
//  replicatord and cad here; every daemon listed must be built.
static const struct {
    const char *name;
    bool on_server;
    bool on_client;
} s_daemon_table [] = {
    { "catalogd", true, false },
    { "gossipd", true, true },
    { "forwarderd", true, true },
    { "httpd", true, true },
};
#define DAEMON_TABLE_SIZE (sizeof (s_daemon_table) / sizeof (s_daemon_table [0]))

const char **
agent_daemons (bool server)
{
    static const char *server_list [DAEMON_TABLE_SIZE + 1];
    static const char *client_list [DAEMON_TABLE_SIZE + 1];
    const char **list = server ? server_list : client_list;
    size_t size = 0;
    for (size_t i = 0; i < DAEMON_TABLE_SIZE; i++)
        if (server ? s_daemon_table [i].on_server
                   : s_daemon_table [i].on_client)
            list [size++] = s_daemon_table [i].name;
    list [size] = NULL;
    return list;
}

static int
s_remove_entry (const char *path, const struct stat *st, int type,
                struct FTW *ftw)
{
    if (remove (path) != 0)
        log_warn ("cannot remove path=%s error=\"%s\"", path,
                  strerror (errno));
    return 0;
}

//  Removes a -dev temporary data dir with everything in it.
static void
s_temp_dir_remove (const config_t *cfg)
{
    if (!cfg->data_dir_temporary || !*cfg->data_dir)
        return;
    nftw (cfg->data_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

//  The directory of the running executable, where the daemons are built.
static int
s_bin_dir (char *buf, size_t size)
{
    char exe [PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof (exe) - 1);
    if (len <= 0)
        return -1;
    exe [len] = '\0';
    return snprintf (buf, size, "%s", dirname (exe)) < (int) size ? 0 : -1;
}

static bool
s_help_asked (int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv [i];
        if (strcmp (arg, "-h") == 0 || strcmp (arg, "-help") == 0
        ||  strcmp (arg, "--help") == 0 || strcmp (arg, "--h") == 0)
            return true;
    }
    return false;
}

static void
s_banner (const config_t *cfg)
{
    const char *primary = *cfg->primary_datacenter ? cfg->primary_datacenter
                                                    : cfg->datacenter;
    printf ("==> Starting Meridian agent...\n");
    printf ("              Version: 'v%s'\n", MERIDIAN_VERSION);
    printf ("              Node ID: '%s'\n", cfg->node_id);
    printf ("            Node name: '%s'\n", cfg->node_name);
    printf ("           Datacenter: '%s' (Primary: '%s')\n", cfg->datacenter,
            primary);
    printf ("               Server: %s (Bootstrap: %s)\n",
            cfg->server ? "true" : "false",
            cfg->bootstrap_expect == 1 ? "true" : "false");
    printf ("          Client Addr: [%s] (HTTP: %d)\n", cfg->client_addr,
            cfg->ports.http);
    printf ("         Cluster Addr: %s (LAN: %d, WAN: %d)\n",
            cfg->advertise_addr, cfg->ports.serf_lan,
            cfg->server ? cfg->ports.serf_wan : -1);
    printf ("             Data Dir: '%s'%s\n", cfg->data_dir,
            cfg->data_dir_temporary ? " (temporary, removed at exit)" : "");
    printf ("    Gossip Encryption: %s\n", *cfg->encrypt ? "true" : "false");
    printf ("\n==> Meridian agent running!\n");
    printf ("==> Log data will now stream in as it occurs:\n\n");
    fflush (stdout);
}

static void
s_usage (void)
{
    printf ("Usage: meridian agent [options]\n\n"
            "  Starts the Meridian agent: the node's daemons (on a server\n"
            "  catalogd, gossipd, forwarderd, httpd; on a client gossipd, forwarderd, httpd), each\n"
            "  restarted when it dies, all stopped by SIGTERM or Ctrl-C.\n\n"
            "  -dev runs one server of dc1 with HTTP on 127.0.0.1:8500 and\n"
            "  its data in a temporary dir removed at exit (unless\n"
            "  -data-dir is given). -t only validates the configuration.\n\n");
    fflush (stdout);
    config_print_flags_usage ();
}

int
cmd_agent_run (int argc, char **argv)
{
    if (s_help_asked (argc, argv)) {
        s_usage ();
        return 0;
    }
    //  Handlers first, so a Ctrl-C during start-up still stops cleanly.
    signals_install ();
    config_t *cfg = calloc (1, sizeof (config_t));
    if (!cfg) {
        fprintf (stderr, "==> Error: out of memory\n");
        return 1;
    }
    int rc = 1;
    supervisor_t *supervisor = NULL;
    char err [CONFIG_ERROR_MAX];
    if (config_load_args (cfg, argc, argv, err, sizeof (err)) != 0) {
        fprintf (stderr, "==> Invalid configuration: %s\n", err);
        goto cleanup;
    }
    if (cfg->validate_only) {
        printf ("Configuration is valid!\n");
        rc = 0;
        goto cleanup;
    }
    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse (cfg->log_level, &level);
    log_init ("agent", level);

    char bin_dir [PATH_MAX];
    char config_path [CONFIG_PATH_MAX + 32];
    snprintf (config_path, sizeof (config_path), "%s/run/agent.json",
              cfg->data_dir);
    if (s_bin_dir (bin_dir, sizeof (bin_dir))) {
        fprintf (stderr, "==> Error starting agent: cannot find the "
                 "executable's directory: %s\n", strerror (errno));
        goto cleanup;
    }
    if (rundir_prepare (cfg->data_dir) != 0) {
        fprintf (stderr, "==> Error starting agent: cannot prepare %s/run: "
                 "%s\n", cfg->data_dir, strerror (errno));
        goto cleanup;
    }
    if (config_write_file (cfg, config_path) != 0) {
        fprintf (stderr, "==> Error starting agent: cannot write %s: %s\n",
                 config_path, strerror (errno));
        goto cleanup;
    }
    supervisor = supervisor_new (bin_dir, config_path);
    if (!supervisor) {
        fprintf (stderr, "==> Error starting agent: %s\n", strerror (errno));
        goto cleanup;
    }
    for (const char **name = agent_daemons (cfg->server); *name; name++)
        if (supervisor_add (supervisor, *name, err, sizeof (err)) != 0) {
            fprintf (stderr, "==> Error starting agent: %s\n", err);
            goto cleanup;
        }
    s_banner (cfg);
    log_info ("agent starting node=%s datacenter=%s server=%s data_dir=%s",
              cfg->node_name, cfg->datacenter, cfg->server ? "true" : "false",
              cfg->data_dir);
    if (supervisor_run (supervisor) == 0)
        rc = 0;
    log_info ("agent stopped");
cleanup:
    supervisor_destroy (&supervisor);
    s_temp_dir_remove (cfg);
    free (cfg);
    return rc;
}
