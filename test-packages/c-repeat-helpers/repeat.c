/*
 * test_server's repeat helpers (M_OUT_OF_N, DO_TIMES), checked by counting tries;
 * repeat-helpers is the same package in Rust. The last case fails on purpose:
 * host/tests/suite_structure.rs checks its message and line.
 */
#include <string.h>

#include "host_test.h"

/* The attempts a case saw, in order. */
typedef struct tries {
    int seen[16];
    int count;
} tries;

static void keep(tries *t, int attempt) {
    if (t->count < 16) {
        t->seen[t->count++] = attempt;
    }
}

static void refuse_1_and_3(int attempt, void *context) {
    keep(context, attempt);
    if (attempt == 1) {
        FAIL("try %d refused", attempt);
    }
    ASSERT_MSG(attempt != 3, "try %d refused", attempt); /* a failing check fails the try */
}

static void succeed(int attempt, void *context) {
    keep(context, attempt);
}

static void refuse_1_and_2(int attempt, void *context) {
    (void)context;
    if (attempt <= 2) {
        FAIL("try %d refused", attempt);
    }
}

static void check_tries(const tries *t, const int *want, int count) {
    ASSERT_EQ_INT(t->count, count);
    for (int i = 0; i < count; i++) {
        ASSERT_EQ_INT(t->seen[i], want[i]);
    }
}

TEST_CASE(three_of_five_pass_after_two_failures) {
    tries t = {0};
    M_OUT_OF_N(3, 5, refuse_1_and_3, &t);
    TRY(check_tries(&t, (int[]){1, 2, 3, 4, 5}, 5));
}

TEST_CASE(stops_once_enough_succeeded) {
    tries t = {0};
    M_OUT_OF_N(2, 10, succeed, &t);
    TRY(check_tries(&t, (int[]){1, 2}, 2));
}

TEST_CASE(do_times_runs_every_try) {
    tries t = {0};
    DO_TIMES(4, succeed, &t);
    TRY(check_tries(&t, (int[]){1, 2, 3, 4}, 4));
}

/* C has no exceptions to catch: a failed try stops DO_TIMES and its failure stays the case's,
 * where it happened (the failing test checks the line and that try 4 never ran). */
static void refuse_3_of_5(int attempt, void *context) {
    if (attempt == 4) {
        PANIC("try 4 ran after try 3 failed"); /* a panic's report would win over try 3's failure */
    }
    keep(context, attempt);
    if (attempt == 3) {
        FAIL("try %d refused", attempt); /* the first failure */
    }
}

TEST_CASE(do_times_fails_at_the_first_error) {
    tries t = {0};
    DO_TIMES(5, refuse_3_of_5, &t);
    FAIL("DO_TIMES did not fail");
}

TEST_CASE(too_few_successes_fail_at_the_call) {
    /* Tries 1 and 2 fail: 2 tries left cannot make 3 successes, so it stops there. */
    M_OUT_OF_N(3, 4, refuse_1_and_2, NULL); /* the failing call */
    FAIL("M_OUT_OF_N did not fail");
}
