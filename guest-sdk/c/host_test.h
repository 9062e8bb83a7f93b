/*
 * host_test.h — write `host` test packages in C.
 *
 * A test package is a WebAssembly component of the `tester` world (0.1, wit/tester.wit)
 * or of the `suite-tester` world (0.2, wit/v0.2/tester.wit: fixtures, a config, skips,
 * comments, docs, timetraps). This header gives it:
 *
 *   TEST_CASE(name) { ... }      0.1: a named case; cases run in declaration order
 *   HT_SUITE(cases, .init = ..., .end = ..., .init_case = ..., .end_case = ...)
 *                                0.2: the suite, cases listed with HT_CASE(fn, "doc")
 *   ht_config_get, ht_config_set 0.2: the config the fixtures pass on
 *   SKIP(fmt, ...), ht_comment(fmt, ...), ht_break_here(fmt, ...),
 *   ht_timetrap_set / _cancel / _scale_factor
 *                                0.2: a user skip, a comment for the report, a pause for
 *                                a person (test_server's break/1), timetraps
 *   FAIL(fmt, ...)               end the case: a failure at this file and line
 *   ASSERT(cond), ASSERT_MSG(cond, fmt, ...), ASSERT_EQ_INT(a, b), ASSERT_NE_INT(a, b),
 *   ASSERT_EQ_STR(a, b), ASSERT_OK(call)
 *                                end the case unless the check holds
 *   TRY(call)                    call a helper that may FAIL; end the case if it did
 *   PANIC(fmt, ...)              report a failure, then trap (for code that cannot return)
 *   ht_info / ht_debug / ht_warn / ht_error / ht_trace
 *                                leveled logs into the host's report
 *   ht_node_count, ht_node_name, ht_nodes, ht_node_get, ht_ports, ht_port_of, ht_address_of
 *                                the test's nodes and their named ports
 *   ht_wait_for, ht_cursor, ht_read_events
 *                                the nodes' recorded events
 *   ht_terminate, ht_kill, ht_stop, ht_resume, ht_start, ht_restart, ht_status_of,
 *   ht_memory_of, ht_output, ht_wait_for_line, ht_add_node
 *                                process control of the nodes, nodes made from a template
 *   ht_tcp_connect, ht_tcp_send, ht_tcp_recv_line, ht_tcp_request, ht_tcp_set_timeout,
 *   ht_tcp_close
 *                                TCP to the nodes (wasi:sockets; only the test's nodes)
 *   ht_timeout_scale, ht_scaled_ms, ht_sleep_ms, ht_timeout_secs
 *                                time as the host scales it
 *
 * Checks end a case by `return`ing from the function they are written in (C has no
 * exceptions). In a case that is the end of the case. In a helper function (which must
 * return void), the failure is recorded and the helper returns; call the helper with
 * TRY(helper(...)) so the case ends too. Only the first failure (or skip) of a case is
 * reported. In 0.2 the fixtures are void functions too, and end the same way.
 *
 * Every string and array the SDK hands out (node infos, events, errors, ht_format, config
 * values) stays valid until the running case (0.2: the running call — a fixture, or the
 * case) ends, and is freed by the SDK then: never free them.
 *
 * A crash (a trap: `__builtin_trap()`, an integer division by zero, an out-of-bounds
 * memory access, a stack overflow) is reported by the host as a trap, with the innermost
 * source location from the DWARF line tables (the SDK's build.sh compiles with
 * -gline-tables-only) and the wasm backtrace. PANIC(...) and the C library's assert()
 * report their message and location through `outcome.report-failure` before trapping,
 * so the report shows `panicked: ...` / `assertion failed: ...` at the right line.
 *
 * Build a package with guest-sdk/c/build.sh (see its header, or the README).
 */
#ifndef HOST_TEST_H
#define HOST_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The contract the package is built for: build.sh passes -DHT_CONTRACT=1 (0.1, world
 * `tester`) or -DHT_CONTRACT=2 (0.2, world `suite-tester`); 0 when compiled otherwise. */
#ifndef HT_CONTRACT
#define HT_CONTRACT 0
#endif

/* 0.2's calls are a compile error in a 0.1 package, with what to do instead. */
#if HT_CONTRACT == 1 && defined(__has_attribute)
#if __has_attribute(unavailable)
#define HT_0_2_ONLY \
    __attribute__((unavailable("a 0.2 call: build the package with --wit {wit}/v0.2 --world suite-tester")))
#endif
#endif
#ifndef HT_0_2_ONLY
#define HT_0_2_ONLY
#endif

/* ------------------------------------------------------------------------------------ */
/* Cases                                                                                */

typedef void (*ht_case_fn)(void);

/* Register a case (what TEST_CASE expands to; called by a constructor before any request). */
void ht_register_case(const char *name, ht_case_fn run);

/* Declare a named case of a 0.1 package: `TEST_CASE(answers_ping) { ... }`. Cases are
 * listed and run in declaration order (several .c files: in the order build.sh is given
 * them). A 0.2 package lists its cases in HT_SUITE instead. */
#define TEST_CASE(name)                                                               \
    _Static_assert(HT_CONTRACT != 2, "TEST_CASE is 0.1's: a 0.2 package lists its "   \
                                     "cases in HT_SUITE (see host_test.h)");          \
    static void name(void);                                                           \
    __attribute__((constructor)) static void ht_register_case__##name(void) {        \
        ht_register_case(#name, name);                                                \
    }                                                                                 \
    static void name(void)

/* The running case's name (empty outside a case; in 0.2 "init" and "end" in those). */
const char *ht_case_name(void);

/* ------------------------------------------------------------------------------------ */
/* Failures                                                                             */

/* Where a check is: clang gives the line and column of the check's closing parenthesis. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_COLUMN)
#define HT_COLUMN ((unsigned)__builtin_COLUMN())
#endif
#endif
#ifndef HT_COLUMN
#define HT_COLUMN 0u
#endif

/* Record a failure of the running case at file:line:column (the first one wins). */
void ht_fail_at(const char *file, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ht_vfail_at(const char *file, unsigned line, unsigned column, const char *fmt, va_list args);

/* Whether the running case has failed (a helper called FAIL or a check failed). */
bool ht_failed(void);
/* Whether the running case has failed or skipped itself (what TRY checks). */
bool ht_stopped(void);

/* Report a failure through `outcome.report-failure`, flush stdout/stderr and trap. */
__attribute__((noreturn)) void ht_panic_at(const char *file, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* End the running case (or the void helper) with a failure at this line. */
#define FAIL(...)                                                                     \
    do {                                                                              \
        ht_fail_at(__FILE__, __LINE__, HT_COLUMN, __VA_ARGS__);                       \
        return;                                                                       \
    } while (0)

/* Fail unless `cond` holds: `condition failed: cond`. */
#define ASSERT(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) {                                                                \
            ht_fail_at(__FILE__, __LINE__, HT_COLUMN, "condition failed: %s", #cond); \
            return;                                                                   \
        }                                                                             \
    } while (0)

/* Fail unless `cond` holds, with a message: `MESSAGE (condition failed: cond)`. */
#define ASSERT_MSG(cond, ...)                                                         \
    do {                                                                              \
        if (!(cond)) {                                                                \
            ht_fail_at(__FILE__, __LINE__, HT_COLUMN, "%s (condition failed: %s)",    \
                       ht_format(__VA_ARGS__), #cond);                                \
            return;                                                                   \
        }                                                                             \
    } while (0)

/* Fail unless the integers are equal: `a == b: left 2 != right 3`. */
#define ASSERT_EQ_INT(a, b)                                                           \
    do {                                                                              \
        long long ht_left_ = (long long)(a), ht_right_ = (long long)(b);              \
        if (ht_left_ != ht_right_) {                                                  \
            ht_fail_at(__FILE__, __LINE__, HT_COLUMN, "%s == %s: left %lld != right %lld", \
                       #a, #b, ht_left_, ht_right_);                                  \
            return;                                                                   \
        }                                                                             \
    } while (0)

/* Fail if the integers are equal: `a != b: both sides are 2`. */
#define ASSERT_NE_INT(a, b)                                                           \
    do {                                                                              \
        long long ht_left_ = (long long)(a), ht_right_ = (long long)(b);              \
        if (ht_left_ == ht_right_) {                                                  \
            ht_fail_at(__FILE__, __LINE__, HT_COLUMN, "%s != %s: both sides are %lld", \
                       #a, #b, ht_left_);                                             \
            return;                                                                   \
        }                                                                             \
    } while (0)

/* Fail unless the strings are equal (NULL equals only NULL): `a == b: left "x" != right "y"`. */
#define ASSERT_EQ_STR(a, b)                                                           \
    do {                                                                              \
        const char *ht_left_ = (a), *ht_right_ = (b);                                 \
        if (!ht_str_eq(ht_left_, ht_right_)) {                                        \
            ht_fail_at(__FILE__, __LINE__, HT_COLUMN, "%s == %s: left %s != right %s", \
                       #a, #b, ht_quote(ht_left_), ht_quote(ht_right_));              \
            return;                                                                   \
        }                                                                             \
    } while (0)

/* Fail if `call` (an SDK call returning `const ht_error *`) returned an error:
 * `ht_restart("first.dev"): timeout: ...`. */
#define ASSERT_OK(call)                                                               \
    do {                                                                              \
        const ht_error *ht_error_ = (call);                                           \
        if (ht_error_ != NULL) {                                                      \
            ht_fail_at(__FILE__, __LINE__, HT_COLUMN, "%s: %s", #call,                \
                       ht_error_text(ht_error_));                                     \
            return;                                                                   \
        }                                                                             \
    } while (0)

/* Run a void helper that may FAIL (or SKIP); end the running function too if it did. */
#define TRY(call)                                                                     \
    do {                                                                              \
        call;                                                                         \
        if (ht_stopped()) return;                                                     \
    } while (0)

/* ------------------------------------------------------------------------------------ */
/* Steps that need tries (test_server's m_out_of_n/3 and do_times/2)                     */

/* One try: `attempt` counts from 1, `context` is the caller's. A try fails by FAIL or a
 * failing check inside it — which fails the try, not the case — and SKIP (0.2) skips. */
typedef void (*ht_try_fn)(int attempt, void *context);

/* Call `try_fn` until it has succeeded `m` times, at most `n` times; fewer successes —
 * known as soon as the tries left cannot make up for them — fail the running case at
 * this line: `m_out_of_n(3, 4): 0 of 2 tries succeeded, 3 needed; last error (try 2): …`.
 * Ends the running function when it fails (or a try skips). */
#define M_OUT_OF_N(m, n, try_fn, context)                                             \
    do {                                                                              \
        ht_m_out_of_n_at(__FILE__, __LINE__, HT_COLUMN, (m), (n), (try_fn), (context)); \
        if (ht_stopped()) return;                                                     \
    } while (0)
void ht_m_out_of_n_at(const char *file, unsigned line, unsigned column, int m, int n, ht_try_fn try_fn,
                      void *context);

/* Call `try_fn` for attempts 1..n; the first failure (or skip) stops it and ends the
 * running function, reported where it happened. */
#define DO_TIMES(n, try_fn, context) TRY(ht_do_times((n), (try_fn), (context)))
void ht_do_times(int n, ht_try_fn try_fn, void *context);

/* For code that cannot return: report `panicked: MESSAGE` at this line, then trap. */
#define PANIC(...) ht_panic_at(__FILE__, __LINE__, HT_COLUMN, __VA_ARGS__)

/* Helpers of the macros. */
bool ht_str_eq(const char *a, const char *b);
const char *ht_quote(const char *text); /* "text" with C escapes, or NULL */

/* ------------------------------------------------------------------------------------ */
/* Strings                                                                              */

/* printf into a string that lives until the case ends. */
const char *ht_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *ht_vformat(const char *fmt, va_list args);

/* malloc that the SDK frees when the case ends. */
void *ht_alloc(size_t size);

/* ------------------------------------------------------------------------------------ */
/* Logs                                                                                 */

typedef enum ht_level { HT_TRACE = 0, HT_DEBUG = 1, HT_INFO = 2, HT_WARN = 3, HT_ERROR = 4 } ht_level;

void ht_log(ht_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ht_trace(...) ht_log(HT_TRACE, __VA_ARGS__)
#define ht_debug(...) ht_log(HT_DEBUG, __VA_ARGS__)
#define ht_info(...) ht_log(HT_INFO, __VA_ARGS__)
#define ht_warn(...) ht_log(HT_WARN, __VA_ARGS__)
#define ht_error(...) ht_log(HT_ERROR, __VA_ARGS__)

/* ------------------------------------------------------------------------------------ */
/* Nodes                                                                                */

typedef struct ht_node {
    const char *name;    /* fake_node_name in tests.toml */
    const char *host;    /* e.g. 127.0.0.1 */
    uint16_t port;
    const char *address; /* host:port, for ht_tcp_connect */
    const char *home;    /* on the host machine, not visible in the sandbox */
} ht_node;

/* The names of the test's nodes (from the request), in tests.toml order. */
size_t ht_node_count(void);
const char *ht_node_name(size_t index);
/* Every node of the test; returns how many, `*nodes` points at them. */
size_t ht_nodes(const ht_node **nodes);
/* The node called `name`, or NULL when the test has no such node. */
const ht_node *ht_node_get(const char *name);

/* Why a node call did not do what it was asked (wit: node-error). */
typedef enum ht_error_kind {
    HT_UNKNOWN_NODE = 0,
    HT_NOT_RUNNING = 1,
    HT_TIMEOUT = 2,
    HT_TERMINATED = 3,
    HT_INVALID = 4,
    HT_FAILED = 5,
    HT_IO = 6, /* TCP: connection refused, closed, ... (not a node-error of the host) */
} ht_error_kind;

typedef struct ht_error {
    ht_error_kind kind;
    const char *message;
} ht_error;

/* `timeout: waited 300 ms for ...`: the kind's name and the message. */
const char *ht_error_text(const ht_error *error);
const char *ht_error_kind_name(ht_error_kind kind);

/* One named port of a node (`ports = ["client", "peer"]` in tests.toml). */
typedef struct ht_named_port {
    const char *name;    /* as tests.toml declares it */
    uint16_t port;       /* picked by the host, per node and test */
    const char *address; /* host:port */
} ht_named_port;

/* The node's named ports, in tests.toml order (none when it declares none). */
const ht_error *ht_ports(const char *node, const ht_named_port **ports, size_t *count);
/* The port number / `host:port` of the node's port called `port`; HT_INVALID when it has
 * no such port: ASSERT_OK(ht_address_of("e1", "client", &address)). */
const ht_error *ht_port_of(const char *node, const char *port, uint16_t *out);
const ht_error *ht_address_of(const char *node, const char *port, const char **out);

/* ------------------------------------------------------------------------------------ */
/* Events                                                                               */

typedef struct ht_event {
    const char *node;
    uint64_t seq;         /* from 0 at the node's first start */
    const char *name;     /* ready, set, ... */
    const char *value;    /* JSON text */
    const char **section; /* Tezt's section, when given */
    size_t section_len;
    uint64_t time_ms;     /* when the host read it, ms since the Unix epoch */
} ht_event;

typedef enum ht_position_kind { HT_BEGINNING = 0, HT_NOW = 1, HT_SEQ = 2 } ht_position_kind;
typedef struct ht_position {
    ht_position_kind kind;
    uint64_t seq;
} ht_position;
#define HT_FROM_BEGINNING ((ht_position){HT_BEGINNING, 0})
#define HT_FROM_NOW ((ht_position){HT_NOW, 0})
#define HT_SINCE(n) ((ht_position){HT_SEQ, (n)})

#define HT_MAX_FILTERS 8
/* Options of ht_wait_for; every field may be left out. */
typedef struct ht_wait_opts {
    int reserved_;
    /* Conditions on the value, all must hold: "writes >= 3", "key == greeting",
     * "port == 4242" (a bare word compares as a JSON string). */
    const char *filters[HT_MAX_FILTERS];
    ht_position start;   /* default: the node's first event (past events count) */
    uint64_t timeout_ms; /* default: 10 000 (cut at the case's deadline anyway) */
} ht_wait_opts;

/* The first event `name` of `node` meeting the options; NULL on success, `*out` filled:
 *   ht_wait_for("first.dev", "set", &ev, .filters = {"writes >= 3"}, .timeout_ms = 5000); */
#define ht_wait_for(node, name, out, ...) \
    ht_wait_for_opts((node), (name), (out), (ht_wait_opts){.reserved_ = 0, __VA_ARGS__})
const ht_error *ht_wait_for_opts(const char *node, const char *name, ht_event *out, ht_wait_opts opts);

/* The sequence number the node's next event will get. */
const ht_error *ht_cursor(const char *node, uint64_t *out);
/* Up to `max` recorded events at or after `start`, without waiting. */
const ht_error *ht_read_events(const char *node, ht_position start, uint32_t max, const ht_event **events,
                               size_t *count);

/* ------------------------------------------------------------------------------------ */
/* Control                                                                              */

typedef struct ht_exit_status {
    bool has_code;
    int32_t code;
    bool has_signal;
    int32_t signal;
    const char *description; /* exited with code 0, killed by signal 9 (SIGKILL) */
} ht_exit_status;

typedef enum ht_status_kind { HT_RUNNING = 0, HT_STOPPED = 1, HT_EXITED = 2 } ht_status_kind;
typedef struct ht_status {
    ht_status_kind kind;
    uint32_t pid;        /* running, stopped */
    ht_exit_status exit; /* exited */
} ht_status;

typedef struct ht_memory {
    uint64_t peak_rss_bytes;
    uint64_t rss_bytes;
} ht_memory;

typedef enum ht_output_source { HT_STDOUT = 0, HT_STDERR = 1 } ht_output_source;
typedef struct ht_output_line {
    uint64_t seq;
    ht_output_source source;
    const char *text;
} ht_output_line;

/* Every call returns NULL on success; `out` arguments may be NULL. */
const ht_error *ht_terminate(const char *node, uint64_t grace_ms, ht_exit_status *out);
const ht_error *ht_kill(const char *node, ht_exit_status *out);
const ht_error *ht_stop(const char *node);
const ht_error *ht_resume(const char *node);
const ht_error *ht_start(const char *node);
const ht_error *ht_restart(const char *node);
const ht_error *ht_status_of(const char *node, ht_status *out);
const ht_error *ht_memory_of(const char *node, ht_memory *out);
const ht_error *ht_output(const char *node, uint64_t from, uint32_t max, const ht_output_line **lines,
                          size_t *count);
const ht_error *ht_wait_for_line(const char *node, const char *pattern, uint64_t from, uint64_t timeout_ms,
                                 ht_output_line *out);

/* Create the node `name` from the template node `template_node` of tests.toml
 * (`template = true`); `*out` (may be NULL) gets its name and address. It is not started
 * yet: its ports are known (ht_address_of), so they can be announced first; ht_start boots
 * it and waits until it is ready; the host stops it at the test's end. `extra_args`
 * (appended to the template's) and `env` ("NAME=VALUE", set on top of the template's) are
 * NULL-terminated arrays, or NULL; both may use placeholders ("{port.peer}"):
 *   ASSERT_OK(ht_add_node("member", "e4", NULL, (const char *[]){"GOMAXPROCS=1", NULL}, NULL)); */
const ht_error *ht_add_node(const char *template_node, const char *name, const char *const *extra_args,
                            const char *const *env, ht_node *out);

/* ------------------------------------------------------------------------------------ */
/* TCP to the test's nodes (wasi:sockets; the sandbox refuses any other address)       */

typedef struct ht_tcp ht_tcp;

/* Connect to "a.b.c.d:port" (a node's `address`); `*out` is closed when the case ends. */
const ht_error *ht_tcp_connect(const char *address, ht_tcp **out);
/* Write all of `data` (`len` bytes). */
const ht_error *ht_tcp_send(ht_tcp *conn, const void *data, size_t len);
/* How long ht_tcp_recv_line waits for bytes before an HT_TIMEOUT error (0, the default:
 * as long as the case may run; the host's timetrap ends it then). Not scaled: pass
 * ht_scaled_ms(ms) for a scaled wait. */
void ht_tcp_set_timeout(ht_tcp *conn, uint64_t ms);
/* Read one line, without its "\n" (or "\r\n"), into a string that lives until the case ends. */
const ht_error *ht_tcp_recv_line(ht_tcp *conn, const char **line);
/* Send `request` and a "\n", read the reply line: ht_tcp_request(c, "GET k", &reply). */
const ht_error *ht_tcp_request(ht_tcp *conn, const char *request, const char **reply);
void ht_tcp_close(ht_tcp *conn);

/* ------------------------------------------------------------------------------------ */
/* Time                                                                                 */

/* The factor every timeout of this run was multiplied by (1.0 by default). */
double ht_timeout_scale(void);
/* `ms` multiplied by the timeout scale. */
uint64_t ht_scaled_ms(uint64_t ms);
/* Sleep `ms` milliseconds, scaled. */
void ht_sleep_ms(uint64_t ms);
/* Seconds the running request has (already scaled by the host). 0.2 has no request
 * budget (the host bounds each call; a case sets its own limit with ht_timetrap_set):
 * UINT64_MAX there. */
uint64_t ht_timeout_secs(void);

/* ------------------------------------------------------------------------------------ */
/* 0.2: the suite shape (wit/v0.2/tester.wit)                                           */
/*
 * The host calls the fixtures and cases in suite order: `init` once, then for each case
 * `init_case`, the case and `end_case` (in one fresh instance per case), then `end`
 * once (also after a failure). Every fixture may be left out (NULL).
 *
 *   static void init(ht_config *config) { ht_config_set(config, "key", "k1"); }
 *   static void reads_back(const ht_config *config) {
 *       ASSERT_EQ_STR(ht_config_get(config, "key"), "k1");
 *   }
 *   static void needs_five_nodes(const ht_config *config) {
 *       if (ht_node_count() < 5) SKIP("needs five nodes, has %zu", ht_node_count());
 *   }
 *   static const ht_suite_case cases[] = {
 *       HT_CASE(reads_back, "a write is read back"),
 *       HT_CASE(needs_five_nodes),
 *   };
 *   HT_SUITE(cases, .init = init);
 *
 * FAIL, the ASSERTs, TRY and PANIC work in cases and fixtures as in 0.1; SKIP(...) ends
 * the function with a user skip (from `init`: every case is skipped with that reason).
 */

/* test_server's Config: key/value pairs, in order. The host passes `test` and `package`
 * to `init`; what `init` leaves in it goes to every `init_case` and to `end`, and what
 * `init_case` leaves to its case and `end_case`. State passes between calls only here. */
typedef struct ht_config ht_config;

/* The value of `key` (the last one, should the host have sent it twice), or NULL. It
 * lives until the running call ends. */
const char *ht_config_get(const ht_config *config, const char *key) HT_0_2_ONLY;
/* Set `key` to `value` (copied), replacing any earlier value; the key moves to the end.
 * A NULL `value` removes the key. */
void ht_config_set(ht_config *config, const char *key, const char *value) HT_0_2_ONLY;
/* How many pairs the config has, and the key and value of pair `index` (NULL past the end). */
size_t ht_config_len(const ht_config *config) HT_0_2_ONLY;
const char *ht_config_key(const ht_config *config, size_t index) HT_0_2_ONLY;
const char *ht_config_value(const ht_config *config, size_t index) HT_0_2_ONLY;

/* One case of a 0.2 suite: its name, its function and a one-line doc ("" for none). */
typedef void (*ht_suite_case_fn)(const ht_config *config);
typedef struct ht_suite_case {
    const char *name;
    ht_suite_case_fn run;
    const char *doc;
} ht_suite_case;

/* A case named after its function, with an optional doc (a string literal):
 * HT_CASE(reads_back, "a write is read back") or HT_CASE(reads_back). */
#define HT_CASE(fn, ...) {#fn, (fn), "" __VA_ARGS__}

/* A 0.2 package: its cases, in order, and its fixtures (each may be NULL). */
typedef struct ht_suite {
    const ht_suite_case *cases;
    size_t case_count;
    /* Once before the cases (`init_per_suite`); may add to the config. */
    void (*init)(ht_config *config);
    /* Once after the cases (`end_per_suite`), also after failures. */
    void (*end)(const ht_config *config);
    /* Before case `name` (`init_per_testcase`); may add to the config. */
    void (*init_case)(const char *name, ht_config *config);
    /* After case `name`, whatever its outcome (`end_per_testcase`). */
    void (*end_case)(const char *name, const ht_config *config);
} ht_suite;

/* The package's suite (what HT_SUITE defines). */
extern const ht_suite ht_suite_definition;

/* Define the package's suite, once: HT_SUITE(cases, .init = init, .end_case = end_case)
 * with `cases` an array of HT_CASE. (A 0.2 package without it does not link: "undefined
 * symbol: ht_suite_definition".) */
#define HT_SUITE(case_array, ...)                                                     \
    _Static_assert(HT_CONTRACT != 1, "HT_SUITE is 0.2's: build the package with "     \
                                     "--wit {wit}/v0.2 --world suite-tester");        \
    _Static_assert(sizeof(case_array) >= sizeof(ht_suite_case) &&                     \
                       sizeof(case_array) % sizeof(ht_suite_case) == 0,               \
                   "HT_SUITE takes an array of HT_CASE entries");                     \
    const ht_suite ht_suite_definition = {                                            \
        .cases = (case_array),                                                        \
        .case_count = sizeof(case_array) / sizeof(ht_suite_case),                     \
        __VA_ARGS__}

/* End the running case (or fixture, or void helper) with a user skip and its reason:
 * SKIP("needs %d nodes", 5). From `init`, every case of the package is skipped. */
#define SKIP(...)                                                                     \
    do {                                                                              \
        ht_skip(__VA_ARGS__);                                                         \
        return;                                                                       \
    } while (0)
/* Record a skip of the running call (the first failure or skip wins); SKIP returns too. */
void ht_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2))) HT_0_2_ONLY;
void ht_vskip(const char *fmt, va_list args) HT_0_2_ONLY;

/* Leave a comment on the running case, shown with it in every report (test_server's
 * comment/1); the last one wins. printf-style. */
void ht_comment(const char *fmt, ...) __attribute__((format(printf, 1, 2))) HT_0_2_ONLY;

/* Pause the running case until the person running the host says to go on (test_server's
 * break/1): the host shows the comment with the test's nodes and how to go on, cancels
 * the timetrap and stops the case's time meanwhile. Returns true once told to go on;
 * false at once when nobody can be asked (no terminal and no --continue-file, as in CI),
 * and the case's output says the break was skipped. printf-style. */
bool ht_break_here(const char *fmt, ...) __attribute__((format(printf, 1, 2))) HT_0_2_ONLY;

/* test_server's timetraps: from now on, the running case fails if it takes longer than
 * `ms` milliseconds times the scale factor ("its timetrap of 0.200s fired"); replaces an
 * earlier timetrap. The outer limits (the test's timeout, case_timeout) still hold. */
void ht_timetrap_set(uint64_t ms) HT_0_2_ONLY;
/* Remove the timetrap; the outer limits stay. */
void ht_timetrap_cancel(void) HT_0_2_ONLY;
/* The factor every timeout of the run is multiplied by (--timeout-scale). */
double ht_timetrap_scale_factor(void) HT_0_2_ONLY;

#ifdef __cplusplus
}
#endif

#endif /* HOST_TEST_H */
