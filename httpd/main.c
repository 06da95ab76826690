/*  httpd: the HTTP front of every Meridian node. Serves Consul's v1 API
    (docs/http-api.md) on client_addr:ports.http, answers catalog, health
    and status requests through catalogd (docs/protocol/catalog-rpc.md) or,
    for another datacenter and on a client agent, forwarderd
    (docs/protocol/server-rpc.md), the gossip endpoints through gossipd
    (docs/protocol/gossip.md), and keeps the agent's own services and
    checks (persisted in <data_dir>/agent/), synced into the catalog by
    anti-entropy.

    Usage: httpd [agent flags] (-config-file FILE, -dev, -t, ...)
    Exit: 0 after SIGTERM/SIGINT or a valid -t; 1 on a configuration or
    start-up error. */
#include "server.h"

#include "config.h"
#include "log.h"
#include "rundir.h"
#include "signals.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int argc;
    char **argv;
} s_args_t;

static void
s_usage (void)
{
    printf ("Usage: httpd [flags]\n\n"
            "Serves the Consul-compatible HTTP API of a Meridian node and\n"
            "the agent's local services and checks.\n\n");
    config_print_flags_usage ();
}

//  SIGHUP: re-reads the configuration (validation only) and applies what
//  can change at run time: the log level.
static int
s_reload (void *arg)
{
    s_args_t *args = arg;
    return config_reload_log_level (args->argc, args->argv);
}

int
main (int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp (argv [i], "-h") == 0 || strcmp (argv [i], "-help") == 0
        ||  strcmp (argv [i], "--help") == 0) {
            s_usage ();
            return 0;
        }
    //  Response bodies of tens of KB are built and freed per cache miss:
    //  keep them on the heap instead of mmap/munmap each time.
    mallopt (M_MMAP_THRESHOLD, 16 * 1024 * 1024);
    mallopt (M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    signals_install ();
    config_t cfg;
    char err [CONFIG_ERROR_MAX];
    if (config_load_args (&cfg, argc - 1, argv + 1, err, sizeof err)) {
        fprintf (stderr, "httpd: %s\n", err);
        return 1;
    }
    if (cfg.validate_only)
        return 0;
    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse (cfg.log_level, &level);
    log_init ("httpd", level);
    if (rundir_prepare (cfg.data_dir)) {
        log_error ("cannot prepare run dir data_dir=%s error=\"%s\"",
                   cfg.data_dir, strerror (errno));
        return 1;
    }
    server_t *server = server_new (&cfg);
    if (!server)
        return 1;
    s_args_t args = { argc - 1, argv + 1 };
    server_set_reload (server, s_reload, &args);
    int rc = server_run (server);
    server_destroy (&server);
    return rc == 0 ? 0 : 1;
}
