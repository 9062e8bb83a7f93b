/*
 * kvnode cases in C: the line protocol over wasi:sockets TCP, the nodes' events, and
 * process control. Runs against a test of two or more kvnode nodes (the first node
 * replicates its writes to the others: kvnode's default `--peers`).
 */
#include <string.h>

#include "host_test.h"

/* The reply of one request to `node`, on a fresh connection. */
static void request(const ht_node *node, const char *line, const char **reply) {
    ht_tcp *conn;
    ASSERT_OK(ht_tcp_connect(node->address, &conn));
    ASSERT_OK(ht_tcp_request(conn, line, reply));
    ht_tcp_close(conn);
}

static const ht_node *node_at(size_t index) {
    return index < ht_node_count() ? ht_node_get(ht_node_name(index)) : NULL;
}

/* Every node announced itself on its own port, runs, and answers PING. */
TEST_CASE(nodes_are_ready) {
    const ht_node *nodes;
    size_t count = ht_nodes(&nodes);
    ASSERT_EQ_INT(count, ht_node_count());
    ASSERT_MSG(count >= 2, "this package needs two nodes, the test has %zu", count);
    for (size_t i = 0; i < count; i++) {
        const ht_node *node = &nodes[i];
        ASSERT_EQ_STR(node->name, ht_node_name(i));
        ASSERT(node->port > 0);
        ht_event ready;
        ASSERT_OK(ht_wait_for(node->name, "ready", &ready, .filters = {ht_format("port == %u", node->port)}));
        ASSERT(strstr(ready.value, node->name) != NULL);
        ht_status status;
        ASSERT_OK(ht_status_of(node->name, &status));
        ASSERT_EQ_INT(status.kind, HT_RUNNING);
        const char *reply;
        TRY(request(node, "PING", &reply));
        ASSERT_EQ_STR(reply, "PONG");
        ht_info("%s is ready on %s (pid %u)", node->name, node->address, status.pid);
    }
}

/* A write is read back, emits a `set` event, and reaches the other node. */
TEST_CASE(set_get_and_replicate) {
    const ht_node *first = node_at(0), *second = node_at(1);
    ASSERT(first != NULL && second != NULL);
    ht_tcp *conn;
    ASSERT_OK(ht_tcp_connect(first->address, &conn));
    const char *reply;
    ASSERT_OK(ht_tcp_request(conn, "SET greeting hello-from-c", &reply));
    ASSERT_EQ_STR(reply, "OK");
    ASSERT_OK(ht_tcp_request(conn, "GET greeting", &reply));
    ASSERT_EQ_STR(reply, "VALUE hello-from-c");
    ASSERT_OK(ht_tcp_request(conn, "GET never-written", &reply));
    ASSERT_EQ_STR(reply, "NOTFOUND");

    ht_event set;
    ASSERT_OK(ht_wait_for(first->name, "set", &set, .filters = {"key == greeting", "value == hello-from-c"},
                          .timeout_ms = ht_scaled_ms(5000)));
    ASSERT(strstr(set.value, "\"writes\"") != NULL);
    ASSERT_OK(ht_wait_for(second->name, "replicated", NULL, .filters = {"key == greeting"}));
    TRY(request(second, "GET greeting", &reply));
    ASSERT_EQ_STR(reply, "VALUE hello-from-c");
}

/* A restarted node comes back with a new process, announces itself again and still has
 * its data (kvnode persists writes in its home). */
TEST_CASE(restart_keeps_data) {
    const ht_node *node = node_at(0);
    ASSERT(node != NULL);
    const char *reply;
    TRY(request(node, "SET survivor 42", &reply));
    ASSERT_EQ_STR(reply, "OK");

    ht_status before, after;
    ASSERT_OK(ht_status_of(node->name, &before));
    ASSERT_EQ_INT(before.kind, HT_RUNNING);
    uint64_t cursor;
    ASSERT_OK(ht_cursor(node->name, &cursor));
    ASSERT_OK(ht_restart(node->name));
    ht_event ready;
    ASSERT_OK(ht_wait_for(node->name, "ready", &ready, .start = HT_SINCE(cursor), .filters = {"keys >= 1"}));
    ASSERT(ready.seq >= cursor);
    ASSERT_OK(ht_status_of(node->name, &after));
    ASSERT_EQ_INT(after.kind, HT_RUNNING);
    ASSERT_NE_INT(after.pid, before.pid);

    const ht_node *again = ht_node_get(node->name);
    ASSERT(again != NULL);
    TRY(request(again, "GET survivor", &reply));
    ASSERT_EQ_STR(reply, "VALUE 42");
}

/* Stop freezes the second node until resume; terminate ends it by SIGTERM; start brings
 * it back on the same port. */
TEST_CASE(stop_resume_terminate_start) {
    const ht_node *node = node_at(1);
    ASSERT(node != NULL);
    ht_memory memory;
    ASSERT_OK(ht_memory_of(node->name, &memory));
    ASSERT(memory.rss_bytes > 0 && memory.peak_rss_bytes >= memory.rss_bytes);

    ht_status status;
    ht_tcp *conn;
    ASSERT_OK(ht_tcp_connect(node->address, &conn));
    ASSERT_OK(ht_stop(node->name));
    ASSERT_OK(ht_status_of(node->name, &status));
    ASSERT_EQ_INT(status.kind, HT_STOPPED);
    /* Frozen: a request gets no reply... SIGSTOP takes effect asynchronously (the kernel
     * stops the node's threads one by one), so an answer right after the stop is retried. */
    ht_tcp_set_timeout(conn, 300);
    const char *reply;
    const ht_error *error = NULL;
    for (int attempt = 0; attempt < 5 && error == NULL; attempt++) {
        error = ht_tcp_request(conn, "PING", &reply);
    }
    ASSERT_MSG(error != NULL && error->kind == HT_TIMEOUT, "a stopped node answered: %s", ht_error_text(error));
    /* ...until it resumes. */
    ASSERT_OK(ht_resume(node->name));
    ASSERT_OK(ht_status_of(node->name, &status));
    ASSERT_EQ_INT(status.kind, HT_RUNNING);
    ht_tcp_set_timeout(conn, ht_scaled_ms(5000));
    ASSERT_OK(ht_tcp_recv_line(conn, &reply));
    ASSERT_EQ_STR(reply, "PONG");
    ht_tcp_close(conn);

    ht_exit_status exit;
    ASSERT_OK(ht_terminate(node->name, ht_scaled_ms(5000), &exit));
    ASSERT_MSG(exit.has_signal && exit.signal == 15, "kvnode dies of SIGTERM: %s", exit.description);
    ASSERT_OK(ht_status_of(node->name, &status));
    ASSERT_EQ_INT(status.kind, HT_EXITED);
    ASSERT_EQ_STR(status.exit.description, exit.description);
    ASSERT(ht_stop(node->name) != NULL);

    ASSERT_OK(ht_start(node->name));
    TRY(request(node, "PING", &reply));
    ASSERT_EQ_STR(reply, "PONG");
}

/* The node's output lines and its whole event record are there to read. */
TEST_CASE(output_lines_and_event_record) {
    const ht_node *node = node_at(0); /* runtime_verbosity = 1: it prints each request */
    ASSERT(node != NULL);
    const ht_output_line *lines;
    size_t count;
    ASSERT_OK(ht_output(node->name, 0, 1000, &lines, &count));
    ASSERT(count >= 1);
    ASSERT(strstr(lines[0].text, "listening on") != NULL);
    uint64_t from = lines[count - 1].seq + 1;
    const char *reply;
    TRY(request(node, "PING", &reply));
    ht_output_line line;
    ASSERT_OK(ht_wait_for_line(node->name, "^request: PING$", from, ht_scaled_ms(5000), &line));
    ASSERT_EQ_INT(line.source, HT_STDOUT);
    ASSERT(line.seq >= from);

    const ht_event *events;
    ASSERT_OK(ht_read_events(node->name, HT_FROM_BEGINNING, 1000, &events, &count));
    ASSERT(count >= 1);
    ASSERT_EQ_STR(events[0].name, "ready");
    ASSERT_EQ_INT(events[0].seq, 0);
    for (size_t i = 1; i < count; i++) {
        ASSERT_EQ_INT(events[i].seq, events[i - 1].seq + 1);
    }
    uint64_t next;
    ASSERT_OK(ht_cursor(node->name, &next));
    ASSERT_EQ_INT(next, events[count - 1].seq + 1);
    ht_sleep_ms(10);
}

/* What the host refuses or reports as errors is an error value, not a crash. */
TEST_CASE(errors_are_values) {
    ASSERT(ht_node_get("no-such.node") == NULL);
    const ht_error *error = ht_restart("no-such.node");
    ASSERT(error != NULL);
    ASSERT_EQ_INT(error->kind, HT_UNKNOWN_NODE);
    error = ht_wait_for(ht_node_name(0), "never-emitted", NULL, .timeout_ms = 200);
    ASSERT(error != NULL);
    ASSERT_EQ_INT(error->kind, HT_TIMEOUT);
    error = ht_wait_for(ht_node_name(0), "ready", NULL, .filters = {"no comparison"});
    ASSERT(error != NULL && error->kind == HT_INVALID);
    /* The sandbox lets the package reach its nodes only. */
    const ht_node *node = node_at(0);
    ht_tcp *conn;
    error = ht_tcp_connect(ht_format("%s:1", node->host), &conn);
    ASSERT(error != NULL);
    ASSERT_EQ_INT(error->kind, HT_IO);
    ht_debug("refused as expected: %s", ht_error_text(error));
}

/* Named ports: kvnode nodes declare none, so asking for one is an error value; so is a
 * node made from a template tests.toml does not have. */
TEST_CASE(named_ports_and_templates_are_checked) {
    const ht_named_port *ports;
    size_t count = 99;
    ASSERT_OK(ht_ports(ht_node_name(0), &ports, &count));
    ASSERT_EQ_INT(count, 0);
    uint16_t port;
    const ht_error *error = ht_port_of(ht_node_name(0), "client", &port);
    ASSERT(error != NULL && error->kind == HT_INVALID);
    const char *address;
    error = ht_address_of(ht_node_name(0), "client", &address);
    ASSERT(error != NULL && error->kind == HT_INVALID);
    error = ht_ports("no-such.node", NULL, NULL);
    ASSERT(error != NULL && error->kind == HT_UNKNOWN_NODE);
    error = ht_add_node("no-such-template", "extra.dev", (const char *[]){"--verbose", NULL},
                        (const char *[]){"KV_MODE=x", NULL}, NULL);
    ASSERT(error != NULL);
    ht_debug("add_node refused as expected: %s", ht_error_text(error));
    error = ht_add_node("no-such-template", "extra.dev", NULL, (const char *[]){"NO_EQUALS", NULL}, NULL);
    ASSERT(error != NULL && error->kind == HT_INVALID);
}
