/*  Unit tests of config (one key table, files then flags, validation) and
    timeutil (Go durations, RFC 3339). */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "timeutil.h"

static char s_dir[64];

static void
s_setup (void)
{
    strcpy (s_dir, "/tmp/mrd-cfg-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (s_dir));
}

static void
s_teardown (void)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    ck_assert_int_eq (system (cmd), 0);
}

static const char *
s_write (const char *name, const char *text)
{
    static char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *file = fopen (path, "w");
    fputs (text, file);
    fclose (file);
    return path;
}

static int
s_load (config_t *cfg, char *err, int argc, ...)
{
    char *argv[32];
    va_list args;
    va_start (args, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg (args, char *);
    va_end (args);
    return config_load_args (cfg, argc, argv, err, CONFIG_ERROR_MAX);
}

START_TEST (test_defaults_and_file)
{
    config_t cfg;
    char err[CONFIG_ERROR_MAX] = "";
    char data[100];
    snprintf (data, sizeof data, "%s/data", s_dir);
    char text[512];
    snprintf (text, sizeof text,
              "{\"datacenter\":\"east-1\",\"node_name\":\"n1\",\"server\":true,"
              "\"bootstrap_expect\":1,\"data_dir\":\"%s\",\"bind_addr\":\"127.0.0.5\","
              "\"ports\":{\"http\":18500},\"retry_join\":[\"127.0.0.6\",\"127.0.0.7:8301\"],"
              "\"connect\":{\"enabled\":true},\"gossip_lan\":{\"probe_interval\":\"2s\"},"
              "\"encrypt\":\"pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=\"}", data);
    const char *file = s_write ("a.json", text);
    ck_assert_int_eq (s_load (&cfg, err, 2, "-config-file", file), 0);
    ck_assert_str_eq (cfg.datacenter, "east-1");
    ck_assert (cfg.server);
    ck_assert_int_eq (cfg.ports.http, 18500);
    ck_assert_int_eq (cfg.ports.serf_lan, 8301);
    ck_assert_int_eq (cfg.retry_join_count, 2);
    ck_assert_str_eq (cfg.retry_join[1], "127.0.0.7:8301");
    ck_assert_int_eq (cfg.gossip_lan.probe_interval_ms, 2000);
    ck_assert_int_eq (cfg.gossip_lan.probe_timeout_ms, 500);
    ck_assert_str_eq (cfg.advertise_addr, "127.0.0.5");
    ck_assert_str_eq (cfg.advertise_addr_wan, "127.0.0.5");
    ck_assert (cfg.connect_enabled);
    //  node_id was created once and is stable
    ck_assert_int_eq (strlen (cfg.node_id), 36);
    char first[40];
    strcpy (first, cfg.node_id);
    ck_assert_int_eq (s_load (&cfg, err, 2, "-config-file", file), 0);
    ck_assert_str_eq (cfg.node_id, first);
    //  flags override the file, in both spellings
    ck_assert_int_eq (s_load (&cfg, err, 5, "-http-port=9500", "-config-file", file,
                              "--datacenter", "west"), 0);
    ck_assert_int_eq (cfg.ports.http, 9500);
    ck_assert_str_eq (cfg.datacenter, "west");
}
END_TEST

START_TEST (test_write_read_back)
{
    config_t cfg, back;
    char err[CONFIG_ERROR_MAX];
    char data[100];
    snprintf (data, sizeof data, "%s/d2", s_dir);
    ck_assert_int_eq (s_load (&cfg, err, 9, "-server", "-bootstrap-expect", "1",
                              "-data-dir", data, "-retry-join-wan", "10.0.0.1",
                              "-bind", "127.0.0.9"), 0);
    char path[128];
    snprintf (path, sizeof path, "%s/eff.json", s_dir);
    ck_assert_int_eq (config_write_file (&cfg, path), 0);
    ck_assert_int_eq (s_load (&back, err, 2, "-config-file", path), 0);
    ck_assert_str_eq (back.node_id, cfg.node_id);
    ck_assert_str_eq (back.data_dir, cfg.data_dir);
    ck_assert (back.server);
    ck_assert_int_eq (back.retry_join_wan_count, 1);
    ck_assert_int_eq (back.gossip_wan.probe_interval_ms, 5000);
    ck_assert_int_eq (back.reconnect_timeout_ms, cfg.reconnect_timeout_ms);
}
END_TEST

START_TEST (test_dev)
{
    config_t cfg;
    char err[CONFIG_ERROR_MAX];
    ck_assert_int_eq (s_load (&cfg, err, 1, "-dev"), 0);
    ck_assert (cfg.server && cfg.dev && cfg.data_dir_temporary);
    ck_assert_int_eq (cfg.bootstrap_expect, 1);
    ck_assert_str_eq (cfg.client_addr, "127.0.0.1");
    ck_assert_int_eq (cfg.gossip_lan.probe_interval_ms, 100);
    ck_assert_int_eq (access (cfg.data_dir, F_OK), 0);
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf %s", cfg.data_dir);
    ck_assert_int_eq (system (cmd), 0);
}
END_TEST

START_TEST (test_errors_name_file_key_reason)
{
    config_t cfg;
    char err[CONFIG_ERROR_MAX];
    struct { const char *text; const char *expect; } cases[] = {
        { "{\"ports\":{\"http\":70000},\"data_dir\":\"/tmp/x\"}", "ports.http: must be 1..65535" },
        { "{\"ports\":{\"htp\":1}}", "ports.htp: unknown configuration key" },
        { "{\"bogus\":1}", "bogus: unknown configuration key" },
        { "{\"server\":\"yes\"}", "server: must be true or false" },
        { "{\"datacenter\":5}", "datacenter: must be a string" },
        { "{\"bind_addr\":\"not-an-ip\"}", "bind_addr: \"not-an-ip\" is not an IP address" },
        { "{\"retry_join\":\"x\"}", "retry_join: must be a list of strings" },
        { "{\"gossip_lan\":{\"probe_interval\":\"fast\"}}", "gossip_lan.probe_interval: \"fast\" is not a duration" },
        { "{\"ports\":5}", "ports: must be an object" },
        { "[1]", "top level must be a JSON object" },
        { "{\"datacenter\":", "invalid JSON near line 1" },
        { "", "empty file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *file = s_write ("bad.json", cases[i].text);
        ck_assert_int_eq (s_load (&cfg, err, 2, "-config-file", file), -1);
        ck_assert_msg (strstr (err, cases[i].expect) && strstr (err, "bad.json"),
                       "case %zu: got \"%s\"", i, err);
    }
    const char *ok = s_write ("ok.json", "{\"data_dir\":\"/tmp/mrd-never\"}");
    struct { const char *flag, *value, *expect; } flags[] = {
        { "-datacenter", "DC1", "datacenter: \"DC1\" must be 1..63" },
        { "-bootstrap-expect", "x", "flag -bootstrap-expect: \"x\" is not an integer" },
        { "-encrypt", "short", "encrypt: must be base64" },
        { "-log-level", "loud", "log_level" },
        { "-nosuchflag", "1", "unknown flag -nosuchflag" },
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        ck_assert_int_eq (s_load (&cfg, err, 5, "-t", "-config-file", ok, flags[i].flag, flags[i].value), -1);
        ck_assert_msg (strstr (err, flags[i].expect), "flag case %zu: got \"%s\"", i, err);
    }
    ck_assert_int_eq (s_load (&cfg, err, 2, "-bootstrap-expect", "3"), -1);
    ck_assert_ptr_nonnull (strstr (err, "only a server"));
    ck_assert_int_eq (s_load (&cfg, err, 0), -1);
    ck_assert_ptr_nonnull (strstr (err, "data_dir: must be set"));
    ck_assert_int_eq (s_load (&cfg, err, 4, "-t", "-dev", "-retry-join", "consul..example"), -1);
    ck_assert_ptr_nonnull (strstr (err, "retry_join: \"consul..example\" must be ip"));
    const char *good[] = { "10.0.0.1", "10.0.0.1:8301", "::1", "[::1]:8302", "fe80::1",
                           "host", "consul.example:8301", "dc1_server_1", "consul.example.",
                           "a-b.c" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg (config_join_addr_valid (good[i]), "rejected %s", good[i]);
    const char *bad[] = { "", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:70000", "[::1]x",
                          "10.0.0.1:80a", "1.2.3.4.5", "10.1", "-host", "host-", "a..b",
                          "[host]:80", "ho st", "host:", "host:0", "a.-b", ".", "host:+80",
                          "host: 80", "host:000080", "0x7f000001", "127.1", "10.0.0.1:+1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (!config_join_addr_valid (bad[i]), "accepted %s", bad[i]);
    //  Host names up to 253 bytes, in labels of at most 63.
    char name[300];
    snprintf (name, sizeof name, "%.63s.%.63s.%.63s.%.61s:8301",
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
              "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
              "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
              "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    ck_assert_uint_eq (strlen (name), 253 + 5);
    ck_assert (config_join_addr_valid (name));
    ck_assert_int_eq (s_load (&cfg, err, 4, "-t", "-dev", "-retry-join", name), 0);
    memmove (name + 1, name, strlen (name) + 1);
    name[0] = 'x';
    ck_assert (!config_join_addr_valid (name));
    ck_assert (!config_dc_name_valid (""));
    ck_assert (config_dc_name_valid ("dc_2-a"));
}
END_TEST

START_TEST (test_durations)
{
    int64_t ms;
    ck_assert_int_eq (duration_parse_ms ("5m", &ms), 0);
    ck_assert_int_eq (ms, 300000);
    ck_assert_int_eq (duration_parse_ms ("1h30m", &ms), 0);
    ck_assert_int_eq (ms, 5400000);
    ck_assert_int_eq (duration_parse_ms ("1.5s", &ms), 0);
    ck_assert_int_eq (ms, 1500);
    ck_assert_int_eq (duration_parse_ms ("250ms", &ms), 0);
    ck_assert_int_eq (ms, 250);
    ck_assert_int_eq (duration_parse_ms ("0", &ms), 0);
    ck_assert_int_eq (ms, 0);
    ck_assert_int_eq (duration_parse_ms ("1500us", &ms), 0);
    ck_assert_int_eq (ms, 1);
    const char *bad[] = { "", "10", "-1s", "s", "1x", "1.s5", "..1s", "1s ", "99999999999h" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (duration_parse_ms (bad[i], &ms) == -1, "accepted \"%s\"", bad[i]);
    char buf[32];
    duration_format (72 * 3600000LL, buf, sizeof buf);
    ck_assert_str_eq (buf, "72h0m0s");
    duration_format (90000, buf, sizeof buf);
    ck_assert_str_eq (buf, "1m30s");
    duration_format (1500, buf, sizeof buf);
    ck_assert_str_eq (buf, "1.5s");
    duration_format (500, buf, sizeof buf);
    ck_assert_str_eq (buf, "500ms");
    duration_format (0, buf, sizeof buf);
    ck_assert_str_eq (buf, "0s");
    time_format_rfc3339 (1527283163000LL, buf, sizeof buf);
    ck_assert_str_eq (buf, "2018-05-25T21:19:23Z");
    time_format_rfc3339 (1527283163120LL, buf, sizeof buf);
    ck_assert_str_eq (buf, "2018-05-25T21:19:23.12Z");
    ck_assert (time_mono_ms () > 0 && time_mono_us () > 0 && time_wall_ms () > 1500000000000LL);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("config");
    TCase *tc = tcase_create ("load");
    tcase_add_checked_fixture (tc, s_setup, s_teardown);
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_defaults_and_file);
    tcase_add_test (tc, test_write_read_back);
    tcase_add_test (tc, test_dev);
    tcase_add_test (tc, test_errors_name_file_key_reason);
    suite_add_tcase (suite, tc);
    TCase *time_tc = tcase_create ("timeutil");
    tcase_set_timeout (time_tc, 10);
    tcase_add_test (time_tc, test_durations);
    suite_add_tcase (suite, time_tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
