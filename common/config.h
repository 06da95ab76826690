/*  config: one JSON file per node with Consul's key names, plus Consul's
    agent flags. Every daemon of a node reads the same file through the one
    key table in config.c; docs/configuration.md lists every key.
    A config_t is a plain read-only record once loaded. */
#ifndef MRD_CONFIG_H
#define MRD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_NAME_MAX   64
#define CONFIG_ADDR_MAX   64
#define CONFIG_PATH_MAX   200
#define CONFIG_JOIN_MAX   16
#define CONFIG_JOIN_ADDR_MAX 264        //  a 253-byte host name, ":65535", NUL
#define CONFIG_ERROR_MAX  512

//  SWIM timers of one gossip pool (Consul's gossip_lan / gossip_wan keys).
typedef struct {
    int gossip_nodes;
    int64_t gossip_interval_ms;
    int64_t probe_interval_ms;
    int64_t probe_timeout_ms;
    int suspicion_mult;
    int retransmit_mult;
    int64_t push_pull_interval_ms;
} config_gossip_t;

typedef struct {
    char datacenter[CONFIG_NAME_MAX];
    char primary_datacenter[CONFIG_NAME_MAX];
    char node_name[CONFIG_NAME_MAX * 2];
    char node_id[40];                   //  UUID; generated and kept in data_dir
    bool server;
    int bootstrap_expect;
    bool dev;
    char data_dir[CONFIG_PATH_MAX];
    char bind_addr[CONFIG_ADDR_MAX];
    char advertise_addr[CONFIG_ADDR_MAX];       //  defaults to bind_addr
    char advertise_addr_wan[CONFIG_ADDR_MAX];   //  defaults to advertise_addr
    char client_addr[CONFIG_ADDR_MAX];
    struct {
        int http;       //  8500
        int serf_lan;   //  8301
        int serf_wan;   //  8302, -1 disables the WAN pool
        int server;     //  8300
        int raft;       //  8303 (Meridian: libraft's transport)
    } ports;
    char retry_join[CONFIG_JOIN_MAX][CONFIG_JOIN_ADDR_MAX];
    int retry_join_count;
    char retry_join_wan[CONFIG_JOIN_MAX][CONFIG_JOIN_ADDR_MAX];
    int retry_join_wan_count;
    int64_t retry_interval_ms;          //  30s
    int64_t retry_interval_wan_ms;      //  30s
    char encrypt[64];                   //  base64 gossip key, "" = none
    bool connect_enabled;
    char log_level[16];                 //  info
    int raft_multiplier;                //  performance.raft_multiplier, 1..10
    int64_t reconnect_timeout_ms;       //  72h
    int64_t reconnect_timeout_wan_ms;   //  72h
    config_gossip_t gossip_lan;
    config_gossip_t gossip_wan;
    //  Not config keys: where the values came from.
    char config_file[CONFIG_PATH_MAX];
    bool validate_only;                 //  -t
    bool data_dir_temporary;            //  -dev made a temp data dir
} config_t;

//  Fills cfg with the defaults (Consul's), as if from an empty file.
void config_defaults (config_t *cfg);

//  Parses Consul agent flags from argv (argv[0] excluded by the caller:
//  pass argc-1, argv+1), loading every -config-file in order with later
//  flags overriding file values, then applies -dev, derived defaults and
//  validation. Flags take "-flag value" or "-flag=value" (also "--flag").
//  Returns 0, or -1 with a message naming the file or flag, the key and the
//  reason in err (e.g. "meridian.json: ports.http: must be 1..65535").
int config_load_args (config_t *cfg, int argc, char **argv,
                      char *err, size_t err_size);

//  Loads one JSON config file over cfg (no validation). Returns 0/-1.
int config_load_file (config_t *cfg, const char *path,
                      char *err, size_t err_size);

//  Final checks and derived values (advertise defaults, dev settings).
int config_finish (config_t *cfg, char *err, size_t err_size);

//  Writes cfg as a JSON config file (mode 0600) that config_load_file reads
//  back to the same values. Used by the agent to hand its effective config
//  to the daemons it starts. Returns 0/-1.
int config_write_file (const config_t *cfg, const char *path);

//  True when name is an acceptable datacenter name (RFC 1035 label:
//  [a-z0-9_-], 1..63, as Consul checks).
bool config_dc_name_valid (const char *name);

//  True when text is an address join can use: "ip", "ip:port",
//  "[ipv6]:port", a bare IPv6 address, "host" or "host:port"
//  (docs/protocol/gossip.md, "Join addresses").
bool config_join_addr_valid (const char *text);
//  Splits "host", "host:port", "[host]:port", "[host]" or a bare IPv6
//  address (two colons or more) into host and port (default_port when
//  none); bracketed tells whether the host was in brackets. Returns -1 for
//  an empty or too long host, bad brackets, or a bad or zero port.
int config_addr_split (const char *text, uint16_t default_port, char *host,
                       size_t host_size, uint16_t *port, bool *bracketed);
//  Parses a port: 1 to 5 decimal digits, 1-65535, nothing else. Returns 0/-1.
int config_port_parse (const char *text, uint16_t *port);
//  True when the len bytes at name are a host name: dot-separated labels of
//  letters, digits, '-' (not first or last) and '_' (container names), 1-63
//  long, 253 in all, an optional final dot, and nothing inet_aton reads as
//  an IPv4 address ("10.1", "0x7f000001"), as getaddrinfo would.
bool config_host_name_valid (const char *name, size_t len);

//  SIGHUP: re-reads the configuration from the same flags (argc/argv as
//  given to config_load_args), validating only so nothing is created, and
//  applies what can change at run time: the log level. Returns 0/-1
//  (logged).
int config_reload_log_level (int argc, char **argv);

//  Prints the usage of the shared agent flags.
void config_print_flags_usage (void);

#endif
