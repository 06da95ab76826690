/*  Unit tests of catalogd's watch set: parked blocking reads woken only by
    changes of the tables they read, expired by deadline in order. */
#include <check.h>
#include "../../catalogd/watch.h"
#include "../../catalogd/store.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int woken[16];
    int count;
    catalog_watch_t *watch;
    bool repark;
} s_log_t;

static void
s_note (void *arg, void *item)
{
    s_log_t *log = (s_log_t *) arg;
    log->woken[log->count++] = *(int *) item;
    //  A callback may park again (a re-run query whose index did not move).
    if (log->repark)
        catalog_watch_park (log->watch, item, CATALOG_TABLE_SERVICES, 1000);
}

static bool
s_woke (s_log_t *log, int id)
{
    for (int i = 0; i < log->count; i++)
        if (log->woken[i] == id)
            return true;
    return false;
}

START_TEST (test_fire_by_table)
{
    catalog_watch_t *watch = catalog_watch_new ();
    int nodes = 1, services = 2, health = 3;
    catalog_watch_park (watch, &nodes, CATALOG_TABLE_NODES, 100);
    catalog_watch_park (watch, &services,
                        CATALOG_TABLE_NODES | CATALOG_TABLE_SERVICES, 100);
    catalog_watch_park (watch, &health, CATALOG_TABLES_ALL, 100);
    ck_assert_uint_eq (catalog_watch_size (watch), 3);
    s_log_t log = { { 0 }, 0, watch, false };
    //  A checks-only change wakes only the reader of checks.
    ck_assert_uint_eq (catalog_watch_fire (watch, CATALOG_TABLE_CHECKS, s_note, &log), 1);
    ck_assert (s_woke (&log, 3));
    ck_assert (!s_woke (&log, 2));
    ck_assert_uint_eq (catalog_watch_size (watch), 2);
    //  A services change wakes the service reader (once, though it also
    //  reads nodes), not the nodes-only reader.
    log.count = 0;
    ck_assert_uint_eq (catalog_watch_fire (watch,
                                           CATALOG_TABLE_SERVICES | CATALOG_TABLE_CHECKS,
                                           s_note, &log), 1);
    ck_assert_int_eq (log.count, 1);
    ck_assert (s_woke (&log, 2));
    //  Nothing parked on the table: nothing happens.
    log.count = 0;
    ck_assert_uint_eq (catalog_watch_fire (watch, CATALOG_TABLE_SERVICES, s_note, &log), 0);
    ck_assert_uint_eq (catalog_watch_fire (watch, CATALOG_TABLE_NODES, s_note, &log), 1);
    ck_assert (s_woke (&log, 1));
    ck_assert_uint_eq (catalog_watch_size (watch), 0);
    ck_assert_int_eq (catalog_watch_next_deadline (watch), -1);
    catalog_watch_destroy (&watch);
    ck_assert_ptr_null (watch);
}
END_TEST

START_TEST (test_expire_in_order)
{
    catalog_watch_t *watch = catalog_watch_new ();
    int ids[8];
    int64_t deadlines[8] = { 50, 10, 70, 30, 20, 80, 60, 40 };
    for (int i = 0; i < 8; i++) {
        ids[i] = i;
        catalog_watch_park (watch, &ids[i], CATALOG_TABLE_NODES, deadlines[i]);
    }
    ck_assert_int_eq (catalog_watch_next_deadline (watch), 10);
    s_log_t log = { { 0 }, 0, watch, false };
    ck_assert_uint_eq (catalog_watch_expire (watch, 5, s_note, &log), 0);
    ck_assert_uint_eq (catalog_watch_expire (watch, 30, s_note, &log), 3);
    ck_assert_int_eq (log.woken[0], 1);     //  deadline 10
    ck_assert_int_eq (log.woken[1], 4);     //  20
    ck_assert_int_eq (log.woken[2], 3);     //  30
    ck_assert_int_eq (catalog_watch_next_deadline (watch), 40);
    ck_assert_uint_eq (catalog_watch_size (watch), 5);
    //  Expired items left every table list too.
    log.count = 0;
    ck_assert_uint_eq (catalog_watch_fire (watch, CATALOG_TABLE_NODES, s_note, &log), 5);
    ck_assert (!s_woke (&log, 1));
    catalog_watch_destroy (&watch);
}
END_TEST

START_TEST (test_cancel_and_drain)
{
    catalog_watch_t *watch = catalog_watch_new ();
    int a = 1, b = 2, c = 3;
    catalog_waiter_t *wa = catalog_watch_park (watch, &a, CATALOG_TABLE_NODES, 30);
    catalog_watch_park (watch, &b, CATALOG_TABLE_CHECKS, 10);
    catalog_watch_park (watch, &c, CATALOG_TABLE_NODES, 20);
    catalog_watch_cancel (watch, &wa);
    ck_assert_ptr_null (wa);
    catalog_watch_cancel (watch, &wa);      //  idempotent
    ck_assert_uint_eq (catalog_watch_size (watch), 2);
    s_log_t log = { { 0 }, 0, watch, false };
    ck_assert_uint_eq (catalog_watch_fire (watch, CATALOG_TABLE_NODES, s_note, &log), 1);
    ck_assert_int_eq (log.woken[0], 3);
    ck_assert_uint_eq (catalog_watch_drain (watch, s_note, &log), 1);
    ck_assert_int_eq (log.woken[1], 2);
    ck_assert_uint_eq (catalog_watch_size (watch), 0);
    ck_assert_uint_eq (catalog_watch_drain (watch, s_note, &log), 0);
    //  Destroying with items parked drops them.
    catalog_watch_park (watch, &a, CATALOG_TABLE_NODES, 30);
    catalog_watch_destroy (&watch);
}
END_TEST

START_TEST (test_repark_from_callback)
{
    catalog_watch_t *watch = catalog_watch_new ();
    int a = 1;
    catalog_watch_park (watch, &a, CATALOG_TABLE_SERVICES, 1000);
    s_log_t log = { { 0 }, 0, watch, true };
    //  Woken and parked again inside the callback: one wake per fire.
    ck_assert_uint_eq (catalog_watch_fire (watch, CATALOG_TABLE_SERVICES, s_note, &log), 1);
    ck_assert_uint_eq (catalog_watch_size (watch), 1);
    ck_assert_uint_eq (catalog_watch_fire (watch, CATALOG_TABLE_SERVICES, s_note, &log), 1);
    ck_assert_int_eq (log.count, 2);
    //  An item parked again by an expiry callback waits for the next call.
    ck_assert_uint_eq (catalog_watch_expire (watch, 1000, s_note, &log), 1);
    ck_assert_uint_eq (catalog_watch_size (watch), 1);
    log.repark = false;
    catalog_watch_drain (watch, s_note, &log);
    catalog_watch_destroy (&watch);
}
END_TEST

START_TEST (test_many)
{
    //  Thousands of waiters: heap order holds under mixed removals.
    catalog_watch_t *watch = catalog_watch_new ();
    enum { N = 5000 };
    int *ids = (int *) malloc (N * sizeof *ids);
    catalog_waiter_t **waiters = (catalog_waiter_t **) calloc (N, sizeof *waiters);
    for (int i = 0; i < N; i++) {
        ids[i] = i;
        int64_t deadline = (int64_t) ((i * 7919) % N);
        waiters[i] = catalog_watch_park (watch, &ids[i],
                                         i % 2 ? CATALOG_TABLE_NODES
                                               : CATALOG_TABLE_CHECKS, deadline);
    }
    for (int i = 0; i < N; i += 3)
        catalog_watch_cancel (watch, &waiters[i]);
    int64_t last = -1;
    while (catalog_watch_size (watch)) {
        int64_t next = catalog_watch_next_deadline (watch);
        ck_assert_int_ge (next, last);
        last = next;
        s_log_t log = { { 0 }, 0, watch, false };
        //  At most a few items share a deadline here.
        ck_assert_uint_ge (catalog_watch_expire (watch, next, s_note, &log), 1);
    }
    free (waiters);
    free (ids);
    catalog_watch_destroy (&watch);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("catalog_watch");
    TCase *tables = tcase_create ("tables");
    tcase_set_timeout (tables, 10);
    tcase_add_test (tables, test_fire_by_table);
    tcase_add_test (tables, test_repark_from_callback);
    suite_add_tcase (suite, tables);
    TCase *deadlines = tcase_create ("deadlines");
    tcase_set_timeout (deadlines, 20);
    tcase_add_test (deadlines, test_expire_in_order);
    tcase_add_test (deadlines, test_cancel_and_drain);
    tcase_add_test (deadlines, test_many);
    suite_add_tcase (suite, deadlines);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
