/*  Unit tests of cli/supervisor: the restart backoff, refusing a missing
    daemon binary, and a real run: a fake daemon killed with SIGKILL is
    restarted, SIGTERM stops it cleanly and ends supervisor_run. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "signals.h"
#include "../../cli/supervisor.h"

static char s_dir [64];

static void
s_setup (void)
{
    strcpy (s_dir, "/tmp/mrd-cli-sup-XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (s_dir));
}

static void
s_teardown (void)
{
    char cmd [128];
    snprintf (cmd, sizeof (cmd), "rm -rf %s", s_dir);
    ck_assert_int_eq (system (cmd), 0);
}

START_TEST (test_backoff)
{
    ck_assert_int_eq (supervisor_backoff_next (0, 5), 100);
    ck_assert_int_eq (supervisor_backoff_next (100, 50), 200);
    ck_assert_int_eq (supervisor_backoff_next (200, 29999), 400);
    ck_assert_int_eq (supervisor_backoff_next (6400, 10), 10000);
    ck_assert_int_eq (supervisor_backoff_next (10000, 10), 10000);
    //  Up for 30 s: back to the minimum.
    ck_assert_int_eq (supervisor_backoff_next (10000, 30000), 100);
}
END_TEST

START_TEST (test_missing_binary)
{
    signals_install ();
    supervisor_t *supervisor = supervisor_new (s_dir, "/dev/null");
    ck_assert_ptr_nonnull (supervisor);
    char err [512] = "";
    ck_assert_int_eq (supervisor_add (supervisor, "gossipd", err,
                                      sizeof (err)), -1);
    ck_assert_ptr_nonnull (strstr (err, "gossipd"));
    ck_assert_ptr_nonnull (strstr (err, "No such file"));
    //  A file that is not executable is refused too.
    char path [128];
    snprintf (path, sizeof (path), "%s/httpd", s_dir);
    FILE *file = fopen (path, "w");
    fclose (file);
    ck_assert_int_eq (supervisor_add (supervisor, "httpd", err, sizeof (err)),
                      -1);
    ck_assert_int_eq (supervisor_add (supervisor, "", err, sizeof (err)), -1);
    supervisor_destroy (&supervisor);
    ck_assert_ptr_null (supervisor);
    supervisor_destroy (&supervisor);
}
END_TEST

static int
s_lines (const char *name)
{
    char path [128];
    snprintf (path, sizeof (path), "%s/%s", s_dir, name);
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    int lines = 0;
    for (int c; (c = fgetc (file)) != EOF;)
        lines += c == '\n';
    fclose (file);
    return lines;
}

//  Polls until name has at least count lines; false after 10 s.
static bool
s_wait_lines (const char *name, int count)
{
    for (int i = 0; i < 1000; i++) {
        if (s_lines (name) >= count)
            return true;
        nanosleep (&(struct timespec) { 0, 10000000 }, NULL);
    }
    return false;
}

static pid_t
s_last_pid (const char *name)
{
    char path [128];
    snprintf (path, sizeof (path), "%s/%s", s_dir, name);
    FILE *file = fopen (path, "r");
    int pid = 0, value;
    while (file && fscanf (file, "%d", &value) == 1)
        pid = value;
    if (file)
        fclose (file);
    return pid;
}

START_TEST (test_restart_and_stop)
{
    char path [128];
    snprintf (path, sizeof (path), "%s/fake", s_dir);
    FILE *file = fopen (path, "w");
    fprintf (file,
             "#!/bin/sh\n"
             "[ \"$1\" = -config-file ] && [ \"$2\" = %s/agent.json ] || exit 3\n"
             "echo $$ >> %s/started\n"
             "trap 'echo $$ >> %s/stopped; exit 0' TERM\n"
             "while :; do sleep 0.05; done\n", s_dir, s_dir, s_dir);
    fclose (file);
    chmod (path, 0755);
    signals_install ();
    char config [128];
    snprintf (config, sizeof (config), "%s/agent.json", s_dir);
    supervisor_t *supervisor = supervisor_new (s_dir, config);
    char err [512];
    ck_assert_int_eq (supervisor_add (supervisor, "fake", err, sizeof (err)),
                      0);
    //  A controller process kills the daemon once, waits for its restart,
    //  then asks the supervisor to stop.
    pid_t test_pid = getpid ();
    pid_t controller = fork ();
    ck_assert_int_ge (controller, 0);
    if (controller == 0) {
        if (!s_wait_lines ("started", 1))
            _exit (1);
        kill (s_last_pid ("started"), SIGKILL);
        if (!s_wait_lines ("started", 2))
            _exit (1);
        kill (test_pid, SIGTERM);
        _exit (0);
    }
    ck_assert_int_eq (supervisor_run (supervisor), 0);
    ck_assert_int_eq (s_lines ("started"), 2);
    ck_assert_int_eq (s_lines ("stopped"), 1);
    ck_assert_int_eq (s_last_pid ("stopped"), s_last_pid ("started"));
    //  The stopped daemon is gone.
    ck_assert_int_eq (kill (s_last_pid ("started"), 0), -1);
    supervisor_destroy (&supervisor);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_supervisor");
    TCase *tc = tcase_create ("policy");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_backoff);
    suite_add_tcase (suite, tc);
    tc = tcase_create ("children");
    tcase_add_checked_fixture (tc, s_setup, s_teardown);
    tcase_set_timeout (tc, 30);
    tcase_add_test (tc, test_missing_binary);
    tcase_add_test (tc, test_restart_and_stop);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
