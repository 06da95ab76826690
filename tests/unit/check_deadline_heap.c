/*  Unit tests of deadline_heap: ordering, ties, growth, clear, empty. */
#include <check.h>
#include <stdlib.h>
#include "deadline_heap.h"

START_TEST (test_order_and_growth)
{
    deadline_heap_t *heap = deadline_heap_new ();
    ck_assert_ptr_nonnull (heap);
    ck_assert (!deadline_heap_peek (heap, NULL, NULL));
    deadline_heap_pop (heap);                   //  empty: no-op
    srand (7);
    for (uint64_t id = 1; id <= 5000; id++)     //  past the first growth
        ck_assert_int_eq (deadline_heap_push (heap, rand () % 1000, id), 0);
    ck_assert_uint_eq (deadline_heap_size (heap), 5000);
    int64_t last = -1, deadline;
    uint64_t id;
    size_t popped = 0;
    while (deadline_heap_peek (heap, &deadline, &id)) {
        ck_assert (deadline >= last);
        ck_assert (id >= 1 && id <= 5000);
        last = deadline;
        deadline_heap_pop (heap);
        popped++;
    }
    ck_assert_uint_eq (popped, 5000);
    deadline_heap_push (heap, 5, 1);
    deadline_heap_push (heap, 5, 2);
    deadline_heap_push (heap, 1, 3);
    ck_assert (deadline_heap_peek (heap, &deadline, &id));
    ck_assert_int_eq (deadline, 1);
    ck_assert_uint_eq (id, 3);
    deadline_heap_clear (heap);
    ck_assert_uint_eq (deadline_heap_size (heap), 0);
    ck_assert (!deadline_heap_peek (heap, &deadline, &id));
    deadline_heap_destroy (&heap);
    ck_assert_ptr_null (heap);
    deadline_heap_destroy (&heap);              //  idempotent
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("deadline_heap");
    TCase *tc = tcase_create ("heap");
    tcase_set_timeout (tc, 10);
    tcase_add_test (tc, test_order_and_growth);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
