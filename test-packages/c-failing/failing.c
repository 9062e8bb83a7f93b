/*
 * Cases that fail on purpose, in the ways the host must report precisely. Used by the
 * host's integration tests (host/tests/lang_c.rs), not by the root suite. The tests find
 * the expected lines by the `// MARK:` comments, so keep each marker on its failing line.
 */
#include <assert.h>
#include <stdio.h>

#include "host_test.h"

TEST_CASE(passes) {
    ASSERT_EQ_INT(1 + 1, 2);
}

TEST_CASE(fails_with_message) {
    FAIL("the answer is %d but %zu nodes were given", 42, ht_node_count()); // MARK: fail
}

TEST_CASE(assert_fails) {
    int nodes = (int)ht_node_count();
    ASSERT(nodes > 5); // MARK: assert
}

TEST_CASE(unequal_values) {
    ASSERT_EQ_INT(1 + 1, 3); // MARK: assert_eq
}

/* A helper that fails ends the case through TRY. */
static void check_name(const char *name) {
    ASSERT_EQ_STR(name, "second.dev"); // MARK: helper
}

TEST_CASE(helper_fails) {
    TRY(check_name(ht_node_name(0)));
    FAIL("not reached");
}

TEST_CASE(panics) {
    PANIC("values must not be empty"); // MARK: panic
}

TEST_CASE(libc_assert) {
    int values = 0;
    assert(values > 0); // MARK: libc_assert
}

static volatile int zero = 0;

TEST_CASE(traps) {
    printf("dividing %d by %d\n", 7, zero);
    int quotient = 7 / zero; // MARK: trap
    ht_info("quotient %d", quotient);
}
