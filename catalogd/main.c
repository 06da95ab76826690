/*  catalogd: the server daemon that owns Meridian's replicated state (the
    catalog) and applies every write through raft. Serves
    docs/protocol/catalog-rpc.md; design in docs/catalogd.md.

    Usage: catalogd [agent flags] (-config-file FILE, -dev, -t, ...)
           catalogd -recover-peers FILE [agent flags]
    Exit: 0 after SIGTERM/SIGINT or a valid -t (or a done recovery); 1 on
    a configuration or start-up error. */
#include "daemon.h"
#include "operator.h"

#include "config.h"
#include "log.h"
#include "rundir.h"
#include "signals.h"

#include <czmq.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int argc;
    char **argv;
} s_args_t;

static void
s_usage (void)
{
    printf ("Usage: catalogd [flags]\n"
            "       catalogd -recover-peers FILE [flags]\n\n"
            "Runs the catalog state store of a Meridian server: nodes,\n"
            "services and health checks, replicated through raft.\n\n"
            "  -recover-peers FILE   rewrite the raft configuration of this\n"
            "                        stopped server to the servers of FILE\n"
            "                        (Consul's peers.json format) and exit;\n"
            "                        see docs/catalogd.md, \"Recovering from a\n"
            "                        lost quorum\"\n\n");
    config_print_flags_usage ();
}

//  SIGHUP: re-reads the configuration (validation only, so nothing is
//  created) and applies what can change at run time: the log level.
static int
s_reload (void *arg)
{
    s_args_t *args = (s_args_t *) arg;
    return config_reload_log_level (args->argc, args->argv);
}

int
main (int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "-help") == 0
            || strcmp (argv[i], "--help") == 0) {
            s_usage ();
            return 0;
        }
    //  Replies of tens of KB are built and freed per request; without this
    //  glibc hands such memory back to the kernel and page-faults it in
    //  again on every request.
    mallopt (M_MMAP_THRESHOLD, 16 * 1024 * 1024);
    mallopt (M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    //  -recover-peers FILE is catalogd's own flag: taken out before the
    //  agent flags are parsed.
    const char *recover = NULL;
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i] + (strncmp (argv[i], "--", 2) == 0);
        const char *value = NULL;
        int taken = 0;
        if (strcmp (flag, "-recover-peers") == 0 && i + 1 < argc) {
            value = argv[i + 1];
            taken = 2;
        }
        else
        if (strncmp (flag, "-recover-peers=", 15) == 0) {
            value = flag + 15;
            taken = 1;
        }
        if (taken) {
            recover = value;
            for (int j = i; j + taken <= argc; j++)
                argv[j] = argv[j + taken];
            argc -= taken;
            break;
        }
    }
    signals_install ();
    config_t cfg;
    char err[CONFIG_ERROR_MAX];
    if (config_load_args (&cfg, argc - 1, argv + 1, err, sizeof err)) {
        fprintf (stderr, "catalogd: %s\n", err);
        return 1;
    }
    if (cfg.validate_only)
        return 0;
    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse (cfg.log_level, &level);
    log_init ("catalogd", level);
    if (!cfg.server) {
        log_error ("catalogd runs on servers only: set server (or -dev)");
        return 1;
    }
    if (recover)
        return catalog_operator_recover (&cfg, recover);
    if (rundir_prepare (cfg.data_dir)) {
        log_error ("cannot prepare run dir data_dir=%s error=\"%s\"",
                   cfg.data_dir, strerror (errno));
        return 1;
    }
    catalogd_t *daemon = catalogd_new (&cfg);
    if (!daemon)
        return 1;
    s_args_t args = { argc - 1, argv + 1 };
    catalogd_set_reload_fn (daemon, s_reload, &args);
    int rc = catalogd_run (daemon);
    catalogd_destroy (&daemon);
    //  A -dev run without -data-dir made its own temporary data dir.
    if (cfg.data_dir_temporary) {
        zdir_t *dir = zdir_new (cfg.data_dir, NULL);
        if (dir)
            zdir_remove (dir, true);
        zdir_destroy (&dir);
    }
    return rc;
}
