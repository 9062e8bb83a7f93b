/*
 * host_test_internal.h — what the `suite` exports (suite_v0_1.c for the 0.1 contract,
 * suite_v0_2.c for 0.2) share with host_test.c: the running call, how it stopped, the
 * test's node names, and string conversions. Not for packages: use host_test.h.
 */
#ifndef HOST_TEST_INTERNAL_H
#define HOST_TEST_INTERNAL_H

#include "host_test.h"

#include "c_guest.h"

/* How the running call stopped: not at all, with a failure (FAIL, a check), or with a
 * skip (SKIP, 0.2 only). The first stop of a call is the one reported. */
typedef enum ht_call_stop_kind { HT_STOP_NONE = 0, HT_STOP_FAIL = 1, HT_STOP_SKIP = 2 } ht_call_stop_kind;

typedef struct ht_call_stop {
    ht_call_stop_kind kind;
    char *file;            /* failures: where (malloc'ed) */
    unsigned line, column;
    char *message;         /* the failure's message or the skip's reason (malloc'ed) */
} ht_call_stop;

/* A call named `name` (a case, or 0.2's "init" / "end") begins: `ht_case_name()` is
 * `name` (which must outlive the call), and nothing has stopped it. */
void ht_internal_begin_call(const char *name);
/* The call's code returned: stdout and stderr are flushed, its TCP connections closed and
 * everything the SDK handed out during it freed. Its stop stays readable. */
void ht_internal_end_call(void);
/* How the running (or just ended) call stopped. */
const ht_call_stop *ht_internal_stop(void);
/* No call runs: no name, no stop. */
void ht_internal_reset_call(void);

/* The test's node names (copied) and the seconds the request has, for ht_node_name and
 * ht_timeout_secs; `ht_internal_clear_nodes` forgets them. */
void ht_internal_set_nodes(const c_guest_string_t *names, size_t count, uint64_t timeout_secs);
void ht_internal_clear_nodes(void);

/* A malloc'ed copy of `text` for a value handed to the host, which frees it in the
 * export's post-return (an empty string is {NULL, 0}: post-return frees only non-empty). */
c_guest_string_t ht_internal_owned_wit(const char *text);
/* A malloc'ed copy of `len` bytes for the host, as `ht_internal_owned_wit`. */
c_guest_string_t ht_internal_owned_wit_n(const uint8_t *bytes, size_t len);
/* A NUL-terminated copy of `len` bytes that lives until the running call ends. */
const char *ht_internal_copy_n(const uint8_t *bytes, size_t len);

#endif /* HOST_TEST_INTERNAL_H */
