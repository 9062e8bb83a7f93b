"""Network faults from Python (tests.toml: `network_faults = true`), measured on kvnode
through the host's proxies: latency on every round trip, a one-way cut that holds a
replication until the link heals, and an unknown node as an error value."""

import time

from host_test import Suite, case, ensure, ensure_eq, info, net, network  # noqa: F401 (Suite: the export componentize-py calls)


@case
def latency_adds_to_every_round_trip(ctx):
    network.heal()
    with net.connect(ctx.node("a").address) as conn:
        ensure_eq(conn.request("PING"), "PONG")
        network.faults("a").latency(100, jitter_ms=20)
        started = time.monotonic()
        ensure_eq(conn.request("PING"), "PONG")
        rtt = time.monotonic() - started
    info("round trip with 100 ± 20 ms each way: %.3f s", rtt)
    # A lower bound only: a fault can make a round trip slower, never faster.
    ensure(rtt >= 0.160, f"a round trip took {rtt:.3f} s, less than 2 × (100 - 20) ms")
    network.heal()


@case
def a_cut_holds_replication_until_healed(ctx):
    network.heal()
    network.cut("a", "b")
    key = f"held-{time.time_ns()}"
    with net.connect(ctx.node("a").address) as writer:
        # kvnode answers a SET once its peers have it: a → b is cut, so not yet.
        writer.send(f"SET {key} yes\n".encode())
        time.sleep(0.5)
        with net.connect(ctx.node("b").address) as reader:
            ensure_eq(reader.request(f"GET {key}"), "NOTFOUND", "b got the write across a cut link")
        network.heal_link("a", "b")
        ensure_eq(writer.read_line(), "OK", "the SET once healed")
    with net.connect(ctx.node("b").address) as reader:
        ensure_eq(reader.request(f"GET {key}"), "VALUE yes")


@case
def unknown_nodes_are_error_values(ctx):
    try:
        network.isolate("nobody")
    except network.NetworkError as error:
        ensure_eq(error.kind, "unknown-node")
    else:
        ensure(False, "isolating an unknown node succeeded")
