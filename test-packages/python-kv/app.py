"""kvnode from Python: real TCP to the nodes (host_test.net over wasi:sockets), the
nodes' events, and a restart through the control interface."""

import time

from host_test import NodeError, Suite, add_node, case, ensure, ensure_eq, info, net, node  # noqa: F401 (Suite: the export componentize-py calls)


def unique(prefix):
    """A key no earlier case or run has written (nodes keep their data across cases)."""
    return f"{prefix}-{time.time_ns()}"


@case
def every_node_answers_ping(ctx):
    for node in ctx.nodes():
        with net.connect(node.address) as conn:
            ensure_eq(conn.request("PING"), "PONG", f"PING to {node.name}")


@case
def missing_key_is_absent(ctx):
    with net.connect(ctx.node().address) as conn:
        ensure_eq(conn.request(f"GET {unique('never-written')}"), "NOTFOUND")


@case
def write_on_first_read_on_every_node(ctx):
    first, *others = ctx.node_names
    ensure(others, "this case needs two nodes or more")
    key, value = unique("greeting"), "hello from python"
    cursors = {name: ctx.control(name).cursor() for name in ctx.node_names}
    with net.connect(ctx.node(first).address) as conn:
        ensure_eq(conn.request(f"SET {key} {value}"), "OK")
    # The write is synchronous: every peer has it, and said so on its event pipe.
    event = ctx.control(first).wait_for("set", f"key == {key}", start=cursors[first])
    ensure_eq(event.data["value"], value)
    for name in others:
        replicated = ctx.control(name).wait_for("replicated", f"key == {key}", start=cursors[name], timeout=5)
        info("%s replicated %s (write #%d)", name, key, replicated.data["writes"])
        with net.connect(ctx.node(name).address) as conn:
            ensure_eq(conn.request(f"GET {key}"), f"VALUE {value}", f"GET on {name}")


@case
def data_survives_a_restart(ctx):
    node = ctx.control()
    key = unique("durable")
    with net.connect(node.address) as conn:
        ensure_eq(conn.request(f"SET {key} kept"), "OK")
    before = node.cursor()
    node.restart()
    ready = node.wait_for("ready", start=before)
    ensure(ready.data["keys"] >= 1, f"restarted with {ready.data['keys']} keys")
    with net.connect(node.address) as conn:
        ensure_eq(conn.request(f"GET {key}"), "VALUE kept")


@case
def the_sandbox_refuses_other_addresses(ctx):
    try:
        net.connect("127.0.0.1:1", timeout=5)
    except ConnectionError as error:
        info("refused as expected: %s", error)
    else:
        ensure(False, "connected to 127.0.0.1:1, which is not a node of this test")


@case
def named_ports_and_templates_are_checked(ctx):
    first = node(ctx.node_names[0])
    ensure_eq(first.address, ctx.node(first.name).address)  # still the first port's `host:port`
    ensure_eq(first.ports(), [])  # kvnode nodes declare no `ports = [...]` in tests.toml
    for call in (lambda: first.port("client"), lambda: first.address_of("client")):
        try:
            call()
        except NodeError as error:
            ensure_eq(error.kind, "invalid", str(error))
        else:
            ensure(False, "a port the node does not declare has no number")
    try:
        add_node("no-such-template", "extra.dev", ["--verbose"], {"KV_MODE": "x"})
    except NodeError as error:
        info("add_node refused as expected: %s", error)
    else:
        ensure(False, "a node was added from a template tests.toml does not have")
