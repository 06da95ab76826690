/*  gossipd: the gossip daemon of a Meridian node (LAN pool, WAN pool on
    servers, catalog reflection). Spec: docs/protocol/gossip.md.
    Usage: gossipd -config-file FILE [-dev] [agent flags]. SIGTERM/SIGINT
    exit 0 without leaving (leave_on_terminate=false). */
#include "config.h"
#include "gossipd.h"
#include "log.h"
#include "rundir.h"
#include "signals.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "-help") == 0
            || strcmp (argv[i], "--help") == 0) {
            fprintf (stderr, "Usage: gossipd [-config-file FILE ...] [-dev] [flags]\n"
                     "Runs the LAN (and, on servers, WAN) gossip pool of a node.\n");
            config_print_flags_usage ();
            return 0;
        }
    signals_install ();
    config_t config;
    char err[CONFIG_ERROR_MAX];
    if (config_load_args (&config, argc - 1, argv + 1, err, sizeof err) != 0) {
        fprintf (stderr, "gossipd: %s\n", err);
        return 1;
    }
    if (config.validate_only)
        return 0;
    log_level_t level = LOG_LEVEL_INFO;
    log_level_parse (config.log_level, &level);
    log_init ("gossipd", level);
    if (rundir_prepare (config.data_dir) != 0) {
        log_error ("cannot prepare run dir data_dir=%s error=\"%s\"", config.data_dir,
                   strerror (errno));
        return 1;
    }
    gossipd_t *gossipd = gossipd_new (&config);
    int rc = gossipd ? gossipd_run (gossipd) : 1;
    gossipd_destroy (&gossipd);
    //  A -dev run without -data-dir made its own temporary data dir.
    if (config.data_dir_temporary) {
        zdir_t *dir = zdir_new (config.data_dir, NULL);
        if (dir)
            zdir_remove (dir, true);
        zdir_destroy (&dir);
    }
    return rc;
}
