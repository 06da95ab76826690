/*  forwarderd: cross-DC and client-to-server request forwarding
    (docs/protocol/server-rpc.md). Started by `meridian agent` on every
    node as `forwarderd -config-file <data_dir>/run/agent.json`; takes the
    agent's flags too. SIGTERM/SIGINT: clean exit 0. */
#include "config.h"
#include "forwarder.h"
#include "log.h"
#include "rundir.h"
#include "signals.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static void
s_usage (void)
{
    printf ("Usage: forwarderd [options]\n\n"
            "  Forwards catalog, health and status requests: on a client agent\n"
            "  to a server of its datacenter, on a server to a server of the\n"
            "  target datacenter (server RPC on ports.server, CURVE with\n"
            "  encrypt). httpd reaches it at <data_dir>/run/forwarderd.rpc.\n"
            "  Usually started by `meridian agent -config-file ...`.\n\n");
    fflush (stdout);
    config_print_flags_usage ();
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
    signals_install ();
    config_t *cfg = (config_t *) calloc (1, sizeof (config_t));
    if (!cfg)
        return 1;
    int rc = 1;
    forwarder_t *forwarder = NULL;
    char err[CONFIG_ERROR_MAX];
    log_init ("forwarderd", LOG_LEVEL_INFO);
    if (config_load_args (cfg, argc - 1, argv + 1, err, sizeof err) != 0) {
        log_error ("invalid configuration: %s", err);
        goto cleanup;
    }
    if (cfg->validate_only) {
        rc = 0;
        goto cleanup;
    }
    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse (cfg->log_level, &level);
    log_set_level (level);
    if (rundir_prepare (cfg->data_dir) != 0) {
        log_error ("cannot prepare run dir data_dir=%s error=\"%s\"",
                   cfg->data_dir, strerror (errno));
        goto cleanup;
    }
    forwarder = forwarder_new (cfg);
    if (!forwarder)
        goto cleanup;
    rc = forwarder_run (forwarder);
cleanup:
    forwarder_destroy (&forwarder);
    free (cfg);
    zsys_shutdown ();
    return rc;
}
