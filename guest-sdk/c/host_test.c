/*
 * host_test.c — the C SDK of `host` test packages, for either contract: the failure (and
 * skip) machinery, per-call memory, and thin wrappers over the host's imports (log, nodes,
 * events, control, timing, outcome) and wasi:sockets TCP over the wit-bindgen C bindings.
 * The exported `suite` is suite_v0_1.c (0.1, wit/tester.wit) or suite_v0_2.c (0.2,
 * wit/v0.2/tester.wit).
 *
 * build.sh generates the bindings (`c_guest.h`, world `c-guest` = the contract's world
 * plus the wasi:sockets TCP imports) next to the build and compiles this file, the
 * contract's suite file and the package together.
 */
#include "host_test_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Per-call memory: everything handed out to the package lives until its call ends.    */

static void **owned;
static size_t owned_len, owned_cap;

void *ht_alloc(size_t size) {
    void *block = malloc(size ? size : 1);
    if (block == NULL) {
        PANIC("out of memory (%zu bytes)", size);
    }
    if (owned_len == owned_cap) {
        size_t cap = owned_cap ? owned_cap * 2 : 64;
        void **grown = realloc(owned, cap * sizeof *owned);
        if (grown == NULL) {
            PANIC("out of memory (%zu bytes)", cap * sizeof *owned);
        }
        owned = grown;
        owned_cap = cap;
    }
    owned[owned_len++] = block;
    return block;
}

static void release_owned(void) {
    for (size_t i = 0; i < owned_len; i++) {
        free(owned[i]);
    }
    owned_len = 0;
}

/* A NUL-terminated copy (in the call's memory) of `len` bytes. */
static const char *copy_n(const uint8_t *text, size_t len) {
    char *copy = ht_alloc(len + 1);
    if (len) {
        memcpy(copy, text, len);
    }
    copy[len] = '\0';
    return copy;
}

static const char *copy_wit(const c_guest_string_t *text) {
    return copy_n(text->ptr, text->len);
}

/* A borrowed view of a C string for an import call (imports do not take ownership). */
static c_guest_string_t view(const char *text) {
    c_guest_string_t s = {(uint8_t *)text, text ? strlen(text) : 0};
    return s;
}

const char *ht_internal_copy_n(const uint8_t *bytes, size_t len) {
    return copy_n(bytes, len);
}

c_guest_string_t ht_internal_owned_wit_n(const uint8_t *bytes, size_t len) {
    c_guest_string_t s = {NULL, 0};
    if (bytes && len) {
        c_guest_string_dup_n(&s, (const char *)bytes, len);
    }
    return s;
}

c_guest_string_t ht_internal_owned_wit(const char *text) {
    return ht_internal_owned_wit_n((const uint8_t *)text, text ? strlen(text) : 0);
}

const char *ht_vformat(const char *fmt, va_list args) {
    va_list copy;
    va_copy(copy, args);
    int len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len < 0) {
        return fmt;
    }
    char *text = ht_alloc((size_t)len + 1);
    vsnprintf(text, (size_t)len + 1, fmt, args);
    return text;
}

const char *ht_format(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    const char *text = ht_vformat(fmt, args);
    va_end(args);
    return text;
}

/* A malloc'ed printf (outlives the call: failures, skips, panics). */
static char *vformat_malloc(const char *fmt, va_list args) {
    va_list copy;
    va_copy(copy, args);
    int len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len < 0) {
        return strdup(fmt);
    }
    char *text = malloc((size_t)len + 1);
    if (text != NULL) {
        vsnprintf(text, (size_t)len + 1, fmt, args);
    }
    return text;
}

/* ------------------------------------------------------------------------------------ */
/* The running call and how it stopped                                                  */

/* Lines reach the call's output as they are written, even if the package traps later. */
__attribute__((constructor)) static void line_buffered_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
}

/* What the running request and call are. */
static const char *current_case = "";
static char **request_nodes;
static size_t request_node_count;
static uint64_t request_timeout_secs;

/* The first failure or skip of the running call. */
static ht_call_stop stop;

static void close_connections(void);

const char *ht_case_name(void) {
    return current_case;
}

bool ht_failed(void) {
    return stop.kind == HT_STOP_FAIL;
}

bool ht_stopped(void) {
    return stop.kind != HT_STOP_NONE;
}

void ht_vfail_at(const char *file, unsigned line, unsigned column, const char *fmt, va_list args) {
    if (stop.kind != HT_STOP_NONE) {
        return;
    }
    stop.kind = HT_STOP_FAIL;
    stop.file = strdup(file ? file : "");
    stop.line = line;
    stop.column = column;
    stop.message = vformat_malloc(fmt, args);
}

void ht_fail_at(const char *file, unsigned line, unsigned column, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    ht_vfail_at(file, line, column, fmt, args);
    va_end(args);
}

void ht_m_out_of_n_at(const char *file, unsigned line, unsigned column, int m, int n, ht_try_fn try_fn,
                      void *context) {
    if (stop.kind != HT_STOP_NONE) {
        return;
    }
    if (m > n) {
        ht_fail_at(file, line, column, "m_out_of_n(%d, %d): more successes asked for than tries", m, n);
        return;
    }
    int succeeded = 0, tried = 0, last_try = 0;
    char *last = NULL;
    /* Go on while the tries left can still make up the successes missing. */
    while (succeeded < m && n - tried >= m - succeeded) {
        tried++;
        try_fn(tried, context);
        if (stop.kind == HT_STOP_SKIP) {
            free(last); /* a skip is not a failed try: it stays, and ends the case */
            return;
        }
        if (stop.kind == HT_STOP_FAIL) {
            /* The try failed, not the case: its failure becomes the last error. */
            free(last);
            last = strdup(stop.message ? stop.message : "");
            last_try = tried;
            free(stop.file);
            free(stop.message);
            stop = (ht_call_stop){0};
            if (last == NULL) {
                last = strdup("");
            }
            continue;
        }
        succeeded++;
    }
    if (succeeded < m) {
        if (last != NULL) {
            ht_fail_at(file, line, column, "m_out_of_n(%d, %d): %d of %d tries succeeded, %d needed; last error (try %d): %s",
                       m, n, succeeded, tried, m, last_try, last);
        } else {
            ht_fail_at(file, line, column, "m_out_of_n(%d, %d): %d of %d tries succeeded, %d needed", m, n, succeeded, tried, m);
        }
    }
    free(last);
}

void ht_do_times(int n, ht_try_fn try_fn, void *context) {
    for (int attempt = 1; attempt <= n && stop.kind == HT_STOP_NONE; attempt++) {
        try_fn(attempt, context);
    }
}

void ht_vskip(const char *fmt, va_list args) {
    if (stop.kind != HT_STOP_NONE) {
        return;
    }
    stop.kind = HT_STOP_SKIP;
    stop.message = vformat_malloc(fmt, args);
}

void ht_skip(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    ht_vskip(fmt, args);
    va_end(args);
}

static void clear_stop(void) {
    free(stop.file);
    free(stop.message);
    memset(&stop, 0, sizeof stop);
}

void ht_internal_begin_call(const char *name) {
    current_case = name ? name : "";
    clear_stop();
}

void ht_internal_end_call(void) {
    fflush(NULL);
    close_connections();
    release_owned();
}

const ht_call_stop *ht_internal_stop(void) {
    return &stop;
}

void ht_internal_reset_call(void) {
    current_case = "";
    clear_stop();
}

void ht_internal_clear_nodes(void) {
    for (size_t i = 0; i < request_node_count; i++) {
        free(request_nodes[i]);
    }
    free(request_nodes);
    request_nodes = NULL;
    request_node_count = 0;
    request_timeout_secs = 0;
}

void ht_internal_set_nodes(const c_guest_string_t *names, size_t count, uint64_t timeout_secs) {
    ht_internal_clear_nodes();
    request_nodes = calloc(count + 1, sizeof *request_nodes);
    if (request_nodes == NULL) {
        PANIC("out of memory (%zu node names)", count);
    }
    for (size_t i = 0; i < count; i++) {
        request_nodes[i] = strndup((const char *)names[i].ptr, names[i].len);
    }
    request_node_count = count;
    request_timeout_secs = timeout_secs;
}

/* Tell the host where and why, then trap: the report shows this, not a bare trap. */
__attribute__((noreturn)) static void report_and_trap(const char *file, unsigned line, unsigned column,
                                                      const char *message) {
    fprintf(stderr, "%s:%u:%u: %s\n", file, line, column, message);
    fflush(NULL);
    host_test_outcome_fail_response_t report = {
        .test = view(current_case),
        .file = view(file),
        .line = line,
        .column = column,
        .message = view(message),
    };
    host_test_outcome_report_failure(&report);
    __builtin_trap();
}

void ht_panic_at(const char *file, unsigned line, unsigned column, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    char *text = vformat_malloc(fmt, args);
    va_end(args);
    size_t len = strlen(text ? text : "") + sizeof "panicked: ";
    char *message = malloc(len);
    if (message != NULL) {
        snprintf(message, len, "panicked: %s", text ? text : "");
    }
    report_and_trap(file, line, column, message ? message : "panicked");
}

/* The C library's assert() lands here (wasi-libc's musl signature): report it like a panic. */
__attribute__((noreturn)) void __assert_fail(const char *expr, const char *file, int line, const char *function) {
    const char *fmt = "assertion failed: %s (in %s)";
    size_t len = strlen(fmt) + strlen(expr) + strlen(function) + 1;
    char *message = malloc(len);
    if (message != NULL) {
        snprintf(message, len, fmt, expr, function);
    }
    report_and_trap(file, line > 0 ? (unsigned)line : 0, 0, message ? message : "assertion failed");
}

bool ht_str_eq(const char *a, const char *b) {
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

const char *ht_quote(const char *text) {
    if (text == NULL) {
        return "NULL";
    }
    size_t len = strlen(text);
    char *quoted = ht_alloc(len * 4 + 3);
    char *out = quoted;
    *out++ = '"';
    for (const unsigned char *in = (const unsigned char *)text; *in; in++) {
        switch (*in) {
        case '"': out += sprintf(out, "\\\""); break;
        case '\\': out += sprintf(out, "\\\\"); break;
        case '\n': out += sprintf(out, "\\n"); break;
        case '\r': out += sprintf(out, "\\r"); break;
        case '\t': out += sprintf(out, "\\t"); break;
        default:
            if (*in < 0x20 || *in == 0x7f) {
                out += sprintf(out, "\\x%02x", *in);
            } else {
                *out++ = (char)*in;
            }
        }
    }
    *out++ = '"';
    *out = '\0';
    return quoted;
}

/* ------------------------------------------------------------------------------------ */
/* Logs                                                                                 */

void ht_log(ht_level level, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    char *text = vformat_malloc(fmt, args);
    va_end(args);
    c_guest_string_t message = view(text ? text : "");
    host_test_log_log((host_test_log_level_t)level, &message);
    free(text);
}

/* ------------------------------------------------------------------------------------ */
/* Nodes                                                                                */

size_t ht_node_count(void) {
    return request_node_count;
}

const char *ht_node_name(size_t index) {
    return index < request_node_count ? request_nodes[index] : NULL;
}

static void copy_node(ht_node *out, const host_test_nodes_node_info_t *info) {
    out->name = copy_wit(&info->name);
    out->host = copy_wit(&info->host);
    out->port = info->port;
    out->address = copy_wit(&info->address);
    out->home = copy_wit(&info->home);
}

size_t ht_nodes(const ht_node **nodes) {
    host_test_nodes_list_node_info_t all;
    host_test_nodes_all(&all);
    ht_node *copy = ht_alloc(all.len * sizeof *copy);
    for (size_t i = 0; i < all.len; i++) {
        copy_node(&copy[i], &all.ptr[i]);
    }
    size_t count = all.len;
    host_test_nodes_list_node_info_free(&all);
    if (nodes) {
        *nodes = copy;
    }
    return count;
}

const ht_node *ht_node_get(const char *name) {
    c_guest_string_t wanted = view(name);
    host_test_nodes_node_info_t info;
    if (!host_test_nodes_get(&wanted, &info)) {
        return NULL;
    }
    ht_node *node = ht_alloc(sizeof *node);
    copy_node(node, &info);
    host_test_nodes_node_info_free(&info);
    return node;
}

static const char *const ERROR_KINDS[] = {"unknown-node", "not-running", "timeout", "terminated",
                                          "invalid",      "failed",      "io"};

const char *ht_error_kind_name(ht_error_kind kind) {
    return (unsigned)kind < sizeof ERROR_KINDS / sizeof *ERROR_KINDS ? ERROR_KINDS[kind] : "error";
}

const char *ht_error_text(const ht_error *error) {
    if (error == NULL) {
        return "ok";
    }
    return ht_format("%s: %s", ht_error_kind_name(error->kind), error->message);
}

static const ht_error *new_error(ht_error_kind kind, const char *message) {
    ht_error *error = ht_alloc(sizeof *error);
    error->kind = kind;
    error->message = message;
    return error;
}

/* Take a node-error from the host (and free it). */
static const ht_error *node_error(host_test_nodes_node_error_t *err) {
    /* Every case of the variant carries a string, at the same place. */
    const ht_error *error = new_error((ht_error_kind)err->tag, copy_wit(&err->val.failed));
    host_test_nodes_node_error_free(err);
    return error;
}

const ht_error *ht_ports(const char *node, const ht_named_port **ports, size_t *count) {
    c_guest_string_t name = view(node);
    host_test_nodes_list_named_port_t list;
    host_test_nodes_node_error_t err;
    if (!host_test_nodes_ports(&name, &list, &err)) {
        return node_error(&err);
    }
    ht_named_port *copy = ht_alloc(list.len * sizeof *copy);
    for (size_t i = 0; i < list.len; i++) {
        copy[i].name = copy_wit(&list.ptr[i].name);
        copy[i].port = list.ptr[i].port;
        copy[i].address = copy_wit(&list.ptr[i].address);
    }
    if (ports) *ports = copy;
    if (count) *count = list.len;
    host_test_nodes_list_named_port_free(&list);
    return NULL;
}

static const ht_error *named_port(const char *node, const char *port, const ht_named_port **out) {
    const ht_named_port *ports = NULL;
    size_t count = 0;
    const ht_error *error = ht_ports(node, &ports, &count);
    if (error) {
        return error;
    }
    const char *known = count ? "" : "none declared";
    for (size_t i = 0; i < count; i++) {
        if (port && strcmp(ports[i].name, port) == 0) {
            *out = &ports[i];
            return NULL;
        }
        known = ht_format("%s%s%s", known, i ? ", " : "", ports[i].name);
    }
    return new_error(HT_INVALID, ht_format("node %s has no port named %s (its ports: %s)", node, ht_quote(port), known));
}

const ht_error *ht_port_of(const char *node, const char *port, uint16_t *out) {
    const ht_named_port *found = NULL;
    const ht_error *error = named_port(node, port, &found);
    if (error == NULL && out) *out = found->port;
    return error;
}

const ht_error *ht_address_of(const char *node, const char *port, const char **out) {
    const ht_named_port *found = NULL;
    const ht_error *error = named_port(node, port, &found);
    if (error == NULL && out) *out = found->address;
    return error;
}

/* ------------------------------------------------------------------------------------ */
/* Events                                                                               */

static void copy_event(ht_event *out, const host_test_events_event_t *event) {
    out->node = copy_wit(&event->node);
    out->seq = event->seq;
    out->name = copy_wit(&event->name);
    out->value = copy_wit(&event->value);
    out->section_len = event->section.len;
    const char **section = ht_alloc((event->section.len + 1) * sizeof *section);
    for (size_t i = 0; i < event->section.len; i++) {
        section[i] = copy_wit(&event->section.ptr[i]);
    }
    section[event->section.len] = NULL;
    out->section = section;
    out->time_ms = event->time_ms;
}

static host_test_events_position_t wit_position(ht_position start) {
    host_test_events_position_t position;
    memset(&position, 0, sizeof position);
    switch (start.kind) {
    case HT_NOW: position.tag = HOST_TEST_EVENTS_POSITION_NOW; break;
    case HT_SEQ:
        position.tag = HOST_TEST_EVENTS_POSITION_SEQ;
        position.val.seq = start.seq;
        break;
    default: position.tag = HOST_TEST_EVENTS_POSITION_BEGINNING; break;
    }
    return position;
}

static char *trim(char *text) {
    while (*text == ' ' || *text == '\t') text++;
    char *end = text + strlen(text);
    while (end > text && (end[-1] == ' ' || end[-1] == '\t')) *--end = '\0';
    return text;
}

/* "writes >= 3" -> {path "writes", ge, "3"}; a bare word compares as a JSON string. */
static const char *parse_condition(const char *expression, host_test_events_condition_t *out) {
    static const struct {
        const char *text;
        host_test_events_comparison_t op;
    } OPERATORS[] = {
        {"==", HOST_TEST_EVENTS_COMPARISON_EQ}, {"!=", HOST_TEST_EVENTS_COMPARISON_NE},
        {"<=", HOST_TEST_EVENTS_COMPARISON_LE}, {">=", HOST_TEST_EVENTS_COMPARISON_GE},
        {"<", HOST_TEST_EVENTS_COMPARISON_LT},  {">", HOST_TEST_EVENTS_COMPARISON_GT},
    };
    const char *best = NULL;
    size_t best_len = 0;
    host_test_events_comparison_t op = HOST_TEST_EVENTS_COMPARISON_EQ;
    for (size_t i = 0; i < sizeof OPERATORS / sizeof *OPERATORS; i++) {
        const char *at = strstr(expression, OPERATORS[i].text);
        size_t len = strlen(OPERATORS[i].text);
        if (at && (best == NULL || at < best || (at == best && len > best_len))) {
            best = at;
            best_len = len;
            op = OPERATORS[i].op;
        }
    }
    if (best == NULL) {
        return ht_format("filter %s: no comparison (==, !=, <, <=, >, >=)", ht_quote(expression));
    }
    char *path = (char *)copy_n((const uint8_t *)expression, (size_t)(best - expression));
    char *raw = trim((char *)copy_n((const uint8_t *)best + best_len, strlen(best + best_len)));
    bool json = raw[0] == '"' || raw[0] == '{' || raw[0] == '[' || raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') ||
                !strcmp(raw, "true") || !strcmp(raw, "false") || !strcmp(raw, "null");
    const char *value = raw;
    if (!json) {
        char *quoted = ht_alloc(strlen(raw) * 2 + 3);
        char *q = quoted;
        *q++ = '"';
        for (const char *c = raw; *c; c++) {
            if (*c == '"' || *c == '\\') *q++ = '\\';
            *q++ = *c;
        }
        *q++ = '"';
        *q = '\0';
        value = quoted;
    }
    out->path = view(trim(path));
    out->op = op;
    out->value = view(value);
    return NULL;
}

const ht_error *ht_wait_for_opts(const char *node, const char *name, ht_event *out, ht_wait_opts opts) {
    host_test_events_condition_t conditions[HT_MAX_FILTERS];
    size_t count = 0;
    for (size_t i = 0; i < HT_MAX_FILTERS && opts.filters[i] != NULL; i++) {
        const char *problem = parse_condition(opts.filters[i], &conditions[count]);
        if (problem) {
            return new_error(HT_INVALID, problem);
        }
        count++;
    }
    host_test_events_list_condition_t list = {conditions, count};
    host_test_events_position_t start = wit_position(opts.start);
    c_guest_string_t node_name = view(node), event_name = view(name);
    host_test_events_event_t event;
    host_test_events_node_error_t err;
    uint64_t timeout = opts.timeout_ms ? opts.timeout_ms : 10000;
    if (!host_test_events_wait_for(&node_name, &event_name, &list, &start, timeout, &event, &err)) {
        return node_error(&err);
    }
    if (out) {
        copy_event(out, &event);
    }
    host_test_events_event_free(&event);
    return NULL;
}

const ht_error *ht_cursor(const char *node, uint64_t *out) {
    c_guest_string_t name = view(node);
    uint64_t seq = 0;
    host_test_events_node_error_t err;
    if (!host_test_events_cursor(&name, &seq, &err)) {
        return node_error(&err);
    }
    if (out) *out = seq;
    return NULL;
}

const ht_error *ht_read_events(const char *node, ht_position start, uint32_t max, const ht_event **events,
                               size_t *count) {
    c_guest_string_t name = view(node);
    host_test_events_position_t position = wit_position(start);
    host_test_events_list_event_t list;
    host_test_events_node_error_t err;
    if (!host_test_events_read(&name, &position, max, &list, &err)) {
        return node_error(&err);
    }
    ht_event *copy = ht_alloc(list.len * sizeof *copy);
    for (size_t i = 0; i < list.len; i++) {
        copy_event(&copy[i], &list.ptr[i]);
    }
    if (events) *events = copy;
    if (count) *count = list.len;
    host_test_events_list_event_free(&list);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Control                                                                              */

static void copy_exit(ht_exit_status *out, const host_test_control_exit_status_t *status) {
    out->has_code = status->code.is_some;
    out->code = status->code.val;
    out->has_signal = status->signal.is_some;
    out->signal = status->signal.val;
    out->description = copy_wit(&status->description);
}

const ht_error *ht_terminate(const char *node, uint64_t grace_ms, ht_exit_status *out) {
    c_guest_string_t name = view(node);
    host_test_control_exit_status_t status;
    host_test_control_node_error_t err;
    if (!host_test_control_terminate(&name, grace_ms, &status, &err)) {
        return node_error(&err);
    }
    if (out) copy_exit(out, &status);
    host_test_control_exit_status_free(&status);
    return NULL;
}

const ht_error *ht_kill(const char *node, ht_exit_status *out) {
    c_guest_string_t name = view(node);
    host_test_control_exit_status_t status;
    host_test_control_node_error_t err;
    if (!host_test_control_kill(&name, &status, &err)) {
        return node_error(&err);
    }
    if (out) copy_exit(out, &status);
    host_test_control_exit_status_free(&status);
    return NULL;
}

#define HT_SIMPLE_CONTROL(fn, import)                                                 \
    const ht_error *fn(const char *node) {                                            \
        c_guest_string_t name = view(node);                                           \
        host_test_control_node_error_t err;                                           \
        return import(&name, &err) ? NULL : node_error(&err);                         \
    }
HT_SIMPLE_CONTROL(ht_stop, host_test_control_stop)
HT_SIMPLE_CONTROL(ht_resume, host_test_control_resume)
HT_SIMPLE_CONTROL(ht_start, host_test_control_start)
HT_SIMPLE_CONTROL(ht_restart, host_test_control_restart)

const ht_error *ht_status_of(const char *node, ht_status *out) {
    c_guest_string_t name = view(node);
    host_test_control_node_status_t status;
    host_test_control_node_error_t err;
    if (!host_test_control_status(&name, &status, &err)) {
        return node_error(&err);
    }
    if (out) {
        memset(out, 0, sizeof *out);
        out->kind = (ht_status_kind)status.tag;
        switch (status.tag) {
        case HOST_TEST_CONTROL_NODE_STATUS_RUNNING: out->pid = status.val.running; break;
        case HOST_TEST_CONTROL_NODE_STATUS_STOPPED: out->pid = status.val.stopped; break;
        default: copy_exit(&out->exit, &status.val.exited); break;
        }
    }
    host_test_control_node_status_free(&status);
    return NULL;
}

const ht_error *ht_memory_of(const char *node, ht_memory *out) {
    c_guest_string_t name = view(node);
    host_test_control_memory_usage_t usage;
    host_test_control_node_error_t err;
    if (!host_test_control_memory(&name, &usage, &err)) {
        return node_error(&err);
    }
    if (out) {
        out->peak_rss_bytes = usage.peak_rss_bytes;
        out->rss_bytes = usage.rss_bytes;
    }
    return NULL;
}

static size_t null_terminated_len(const char *const *items) {
    size_t len = 0;
    while (items && items[len]) len++;
    return len;
}

const ht_error *ht_add_node(const char *template_node, const char *name, const char *const *extra_args,
                            const char *const *env, ht_node *out) {
    size_t arg_count = null_terminated_len(extra_args), env_count = null_terminated_len(env);
    c_guest_string_t *args = ht_alloc(arg_count * sizeof *args);
    for (size_t i = 0; i < arg_count; i++) {
        args[i] = view(extra_args[i]);
    }
    c_guest_tuple2_string_string_t *pairs = ht_alloc(env_count * sizeof *pairs);
    for (size_t i = 0; i < env_count; i++) {
        const char *equals = strchr(env[i], '=');
        if (equals == NULL) {
            return new_error(HT_INVALID, ht_format("env entry %s: expected NAME=VALUE", ht_quote(env[i])));
        }
        pairs[i].f0 = view(copy_n((const uint8_t *)env[i], (size_t)(equals - env[i])));
        pairs[i].f1 = view(equals + 1);
    }
    host_test_control_new_node_t node = {view(name), {args, arg_count}, {pairs, env_count}};
    c_guest_string_t template_name = view(template_node);
    host_test_control_node_info_t info;
    host_test_control_node_error_t err;
    if (!host_test_control_add_node(&template_name, &node, &info, &err)) {
        return node_error(&err);
    }
    if (out) copy_node(out, &info);
    host_test_nodes_node_info_free(&info);
    return NULL;
}

static void copy_line(ht_output_line *out, const host_test_control_output_line_t *line) {
    out->seq = line->seq;
    out->source = (ht_output_source)line->source;
    out->text = copy_wit(&line->text);
}

const ht_error *ht_output(const char *node, uint64_t from, uint32_t max, const ht_output_line **lines,
                          size_t *count) {
    c_guest_string_t name = view(node);
    host_test_control_list_output_line_t list;
    host_test_control_node_error_t err;
    if (!host_test_control_output(&name, from, max, &list, &err)) {
        return node_error(&err);
    }
    ht_output_line *copy = ht_alloc(list.len * sizeof *copy);
    for (size_t i = 0; i < list.len; i++) {
        copy_line(&copy[i], &list.ptr[i]);
    }
    if (lines) *lines = copy;
    if (count) *count = list.len;
    host_test_control_list_output_line_free(&list);
    return NULL;
}

const ht_error *ht_wait_for_line(const char *node, const char *pattern, uint64_t from, uint64_t timeout_ms,
                                 ht_output_line *out) {
    c_guest_string_t name = view(node), regex = view(pattern);
    host_test_control_output_line_t line;
    host_test_control_node_error_t err;
    if (!host_test_control_wait_for_line(&name, &regex, from, timeout_ms, &line, &err)) {
        return node_error(&err);
    }
    if (out) copy_line(out, &line);
    host_test_control_output_line_free(&line);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Time                                                                                 */

double ht_timeout_scale(void) {
    return host_test_timing_timeout_scale();
}

uint64_t ht_scaled_ms(uint64_t ms) {
    return (uint64_t)((double)ms * ht_timeout_scale());
}

void ht_sleep_ms(uint64_t ms) {
    wasi_io_poll_own_pollable_t timer = wasi_clocks_monotonic_clock_subscribe_duration(ht_scaled_ms(ms) * 1000000ull);
    wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(timer));
    wasi_io_poll_pollable_drop_own(timer);
}

uint64_t ht_timeout_secs(void) {
    return request_timeout_secs;
}

/* ------------------------------------------------------------------------------------ */
/* TCP over wasi:sockets                                                                */

struct ht_tcp {
    const char *address;
    wasi_sockets_tcp_own_tcp_socket_t socket;
    wasi_io_streams_own_input_stream_t input;
    wasi_io_streams_own_output_stream_t output;
    bool open;
    uint64_t timeout_ms; /* 0: wait as long as the case may */
    uint8_t *buffer; /* bytes read and not yet returned */
    size_t buffered, capacity;
    ht_tcp *next;
};

static ht_tcp *connections;

static const char *const SOCKET_ERRORS[] = {
    "unknown",          "access-denied",          "not-supported",       "invalid-argument",
    "out-of-memory",    "timeout",                "concurrency-conflict", "not-in-progress",
    "would-block",      "invalid-state",          "new-socket-limit",     "address-not-bindable",
    "address-in-use",   "remote-unreachable",     "connection-refused",   "connection-reset",
    "connection-aborted", "datagram-too-large",   "name-unresolvable",    "temporary-resolver-failure",
    "permanent-resolver-failure",
};

static const ht_error *socket_error(const char *what, const char *address, wasi_sockets_network_error_code_t code) {
    const char *name = code < sizeof SOCKET_ERRORS / sizeof *SOCKET_ERRORS ? SOCKET_ERRORS[code] : "unknown";
    return new_error(HT_IO, ht_format("%s %s: %s", what, address, name));
}

static const ht_error *stream_error(const char *what, ht_tcp *conn, wasi_io_streams_stream_error_t *err) {
    if (err->tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED) {
        return new_error(HT_IO, ht_format("%s %s: connection closed", what, conn->address));
    }
    c_guest_string_t debug;
    wasi_io_error_method_error_to_debug_string(wasi_io_error_borrow_error(err->val.last_operation_failed), &debug);
    const char *text = copy_wit(&debug);
    c_guest_string_free(&debug);
    wasi_io_error_error_drop_own(err->val.last_operation_failed);
    return new_error(HT_IO, ht_format("%s %s: %s", what, conn->address, text));
}

/* "a.b.c.d:port" or "[v6]:port". */
static bool parse_address(const char *address, wasi_sockets_network_ip_socket_address_t *out) {
    memset(out, 0, sizeof *out);
    const char *colon = strrchr(address, ':');
    if (colon == NULL) return false;
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || port > 65535) return false;
    if (address[0] == '[') {
        /* IPv6: full or "::"-compressed groups. */
        const char *close = strchr(address, ']');
        if (close == NULL || close + 1 != colon) return false;
        uint16_t head[8] = {0}, tail[8] = {0};
        size_t heads = 0, tails = 0;
        bool compressed = false;
        const char *p = address + 1;
        while (p < close) {
            if (p[0] == ':' && p[1] == ':') {
                if (compressed) return false;
                compressed = true;
                p += 2;
                continue;
            }
            if (*p == ':') {
                p++;
                continue;
            }
            unsigned long group = strtoul(p, &end, 16);
            if (end == p || group > 0xffff || heads + tails >= 8) return false;
            if (compressed) tail[tails++] = (uint16_t)group;
            else head[heads++] = (uint16_t)group;
            p = end;
        }
        if (!compressed && heads != 8) return false;
        uint16_t groups[8] = {0};
        for (size_t i = 0; i < heads; i++) groups[i] = head[i];
        for (size_t i = 0; i < tails; i++) groups[8 - tails + i] = tail[i];
        out->tag = WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV6;
        out->val.ipv6.port = (uint16_t)port;
        wasi_sockets_network_ipv6_address_t *a = &out->val.ipv6.address;
        a->f0 = groups[0], a->f1 = groups[1], a->f2 = groups[2], a->f3 = groups[3];
        a->f4 = groups[4], a->f5 = groups[5], a->f6 = groups[6], a->f7 = groups[7];
        return true;
    }
    unsigned octets[4];
    char tail;
    char host[64];
    size_t host_len = (size_t)(colon - address);
    if (host_len >= sizeof host) return false;
    memcpy(host, address, host_len);
    host[host_len] = '\0';
    if (sscanf(host, "%u.%u.%u.%u%c", &octets[0], &octets[1], &octets[2], &octets[3], &tail) != 4) return false;
    for (int i = 0; i < 4; i++) {
        if (octets[i] > 255) return false;
    }
    out->tag = WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV4;
    out->val.ipv4.port = (uint16_t)port;
    out->val.ipv4.address.f0 = (uint8_t)octets[0];
    out->val.ipv4.address.f1 = (uint8_t)octets[1];
    out->val.ipv4.address.f2 = (uint8_t)octets[2];
    out->val.ipv4.address.f3 = (uint8_t)octets[3];
    return true;
}

const ht_error *ht_tcp_connect(const char *address, ht_tcp **out) {
    wasi_sockets_network_ip_socket_address_t remote;
    if (!parse_address(address, &remote)) {
        return new_error(HT_INVALID, ht_format("not an IP address and port: %s", ht_quote(address)));
    }
    wasi_sockets_network_error_code_t code;
    wasi_sockets_tcp_own_tcp_socket_t socket;
    wasi_sockets_network_ip_address_family_t family = remote.tag == WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV4
                                                          ? WASI_SOCKETS_NETWORK_IP_ADDRESS_FAMILY_IPV4
                                                          : WASI_SOCKETS_NETWORK_IP_ADDRESS_FAMILY_IPV6;
    if (!wasi_sockets_tcp_create_socket_create_tcp_socket(family, &socket, &code)) {
        return socket_error("connect", address, code);
    }
    wasi_sockets_network_own_network_t network = wasi_sockets_instance_network_instance_network();
    wasi_sockets_tcp_borrow_tcp_socket_t borrowed = wasi_sockets_tcp_borrow_tcp_socket(socket);
    if (!wasi_sockets_tcp_method_tcp_socket_start_connect(borrowed, wasi_sockets_network_borrow_network(network),
                                                          &remote, &code)) {
        wasi_sockets_network_network_drop_own(network);
        wasi_sockets_tcp_tcp_socket_drop_own(socket);
        return socket_error("connect", address, code);
    }
    wasi_io_poll_own_pollable_t ready = wasi_sockets_tcp_method_tcp_socket_subscribe(borrowed);
    wasi_sockets_tcp_tuple2_own_input_stream_own_output_stream_t streams;
    bool connected;
    for (;;) {
        connected = wasi_sockets_tcp_method_tcp_socket_finish_connect(borrowed, &streams, &code);
        if (connected || code != WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK) break;
        wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
    }
    wasi_io_poll_pollable_drop_own(ready);
    wasi_sockets_network_network_drop_own(network);
    if (!connected) {
        wasi_sockets_tcp_tcp_socket_drop_own(socket);
        return socket_error("connect", address, code);
    }
    ht_tcp *conn = calloc(1, sizeof *conn);
    conn->address = strdup(address);
    conn->socket = socket;
    conn->input = streams.f0;
    conn->output = streams.f1;
    conn->open = true;
    conn->next = connections;
    connections = conn;
    *out = conn;
    return NULL;
}

const ht_error *ht_tcp_send(ht_tcp *conn, const void *data, size_t len) {
    if (conn == NULL || !conn->open) {
        return new_error(HT_IO, "send: connection is closed");
    }
    const uint8_t *bytes = data;
    while (len > 0) {
        size_t chunk = len < 4096 ? len : 4096; /* blocking-write-and-flush takes up to 4096 bytes */
        c_guest_list_u8_t contents = {(uint8_t *)bytes, chunk};
        wasi_io_streams_stream_error_t err;
        if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
                wasi_io_streams_borrow_output_stream(conn->output), &contents, &err)) {
            return stream_error("send to", conn, &err);
        }
        bytes += chunk;
        len -= chunk;
    }
    return NULL;
}

void ht_tcp_set_timeout(ht_tcp *conn, uint64_t ms) {
    if (conn != NULL) conn->timeout_ms = ms;
}

/* Whether `input` has bytes (or its end) within `ms` milliseconds. */
static bool readable_within(wasi_io_streams_own_input_stream_t input, uint64_t ms) {
    wasi_io_poll_own_pollable_t pollables[2] = {
        wasi_io_streams_method_input_stream_subscribe(wasi_io_streams_borrow_input_stream(input)),
        wasi_clocks_monotonic_clock_subscribe_duration(ms * 1000000ull),
    };
    wasi_io_poll_borrow_pollable_t borrowed[2] = {wasi_io_poll_borrow_pollable(pollables[0]),
                                                  wasi_io_poll_borrow_pollable(pollables[1])};
    wasi_io_poll_list_borrow_pollable_t list = {borrowed, 2};
    c_guest_list_u32_t ready;
    wasi_io_poll_poll(&list, &ready);
    bool readable = false;
    for (size_t i = 0; i < ready.len; i++) {
        readable = readable || ready.ptr[i] == 0;
    }
    free(ready.ptr);
    wasi_io_poll_pollable_drop_own(pollables[0]);
    wasi_io_poll_pollable_drop_own(pollables[1]);
    return readable;
}

const ht_error *ht_tcp_recv_line(ht_tcp *conn, const char **line) {
    if (conn == NULL || !conn->open) {
        return new_error(HT_IO, "receive: connection is closed");
    }
    for (;;) {
        uint8_t *newline = conn->buffered ? memchr(conn->buffer, '\n', conn->buffered) : NULL;
        if (newline != NULL) {
            size_t len = (size_t)(newline - conn->buffer);
            size_t text_len = len > 0 && conn->buffer[len - 1] == '\r' ? len - 1 : len;
            if (line) *line = copy_n(conn->buffer, text_len);
            conn->buffered -= len + 1;
            memmove(conn->buffer, newline + 1, conn->buffered);
            return NULL;
        }
        if (conn->timeout_ms > 0 && !readable_within(conn->input, conn->timeout_ms)) {
            return new_error(HT_TIMEOUT, ht_format("receive from %s: nothing within %llu ms", conn->address,
                                                   (unsigned long long)conn->timeout_ms));
        }
        c_guest_list_u8_t chunk;
        wasi_io_streams_stream_error_t err;
        if (!wasi_io_streams_method_input_stream_blocking_read(wasi_io_streams_borrow_input_stream(conn->input), 4096,
                                                               &chunk, &err)) {
            return stream_error("receive from", conn, &err);
        }
        if (conn->buffered + chunk.len > conn->capacity) {
            size_t capacity = (conn->buffered + chunk.len) * 2;
            uint8_t *grown = realloc(conn->buffer, capacity);
            if (grown == NULL) {
                free(chunk.ptr);
                return new_error(HT_IO, "receive: out of memory");
            }
            conn->buffer = grown;
            conn->capacity = capacity;
        }
        if (chunk.len) memcpy(conn->buffer + conn->buffered, chunk.ptr, chunk.len);
        conn->buffered += chunk.len;
        free(chunk.ptr);
    }
}

const ht_error *ht_tcp_request(ht_tcp *conn, const char *request, const char **reply) {
    const char *line = ht_format("%s\n", request);
    const ht_error *error = ht_tcp_send(conn, line, strlen(line));
    return error ? error : ht_tcp_recv_line(conn, reply);
}

void ht_tcp_close(ht_tcp *conn) {
    if (conn == NULL || !conn->open) return;
    /* The streams are children of the socket: drop them first. */
    wasi_io_streams_input_stream_drop_own(conn->input);
    wasi_io_streams_output_stream_drop_own(conn->output);
    wasi_sockets_tcp_tcp_socket_drop_own(conn->socket);
    conn->open = false;
}

static void close_connections(void) {
    while (connections != NULL) {
        ht_tcp *conn = connections;
        connections = conn->next;
        ht_tcp_close(conn);
        free((void *)conn->address);
        free(conn->buffer);
        free(conn);
    }
}
