"""etcd from Python, the cases of test-packages/etcd-cluster (Rust) again: three members
booted by the host, each with a client and a peer port of its own. Writes on one member
are read on the others, the leader is killed and the new one awaited from etcd's own JSON
log (an event, not a polling loop), the old leader comes back, and a fourth member is
added mid-test from the `member` template.

CPython in the component has no `socket` module: etcd's JSON gateway (`POST /v3/...`) is
reached with the SDK's `host_test.http` (HTTP/1.1 over `host_test.net`), which the sandbox
lets reach only the test's nodes."""

import base64
import json
import time

from host_test import Suite, add_node, case, ensure_eq, ensure_ne, fail, info, node  # noqa: F401 (Suite: the export)
from host_test.http import HttpError, post_json as post

MEMBERS = ["e1", "e2", "e3"]


@case
def writes_are_read_on_every_member(ctx):
    put(client("e1"), "greeting", "hello from python")
    for member in MEMBERS:
        ensure_eq(get(client(member), "greeting"), "hello from python", f"read on {member}")


@case
def a_new_leader_is_elected_when_the_leader_is_killed(ctx):
    leader, status = agreed_leader(ctx)
    info("leader: %s (%x) at term %d", leader, status.leader, status.term)
    watcher = next(m for m in MEMBERS if m != leader)
    since = node(watcher).cursor()
    node(leader).kill()
    # etcd logs "raft.node: ... elected leader ID at term N"; tests.toml names that event
    # `leader-elected`, with `leader` (hex) and `term` in its value.
    elected = node(watcher).wait_for("leader-elected", f"term > {status.term}", start=since, timeout=ctx.scaled(30))
    new_leader = elected.data["leader"]
    ensure_ne(new_leader, f"{status.leader:x}", "the killed member cannot lead")
    info("%s saw %s elected at term %s", watcher, new_leader, elected.data["term"])
    put(client(watcher), "after-failover", "written while the old leader was down")
    node(leader).start()
    # The old leader catches up: its own copy (a serializable read) gets the write.
    caught_up = eventually(ctx, lambda: get(client(leader), "after-failover", serializable=True))
    ensure_eq(caught_up, "written while the old leader was down", f"{leader} after restart")


@case
def a_member_added_mid_test_joins_the_cluster(ctx):
    e4 = add_node("member", "e4")
    peer = e4.address_of("peer")
    # Announce the member first, as `etcdctl member add` does; then start it. etcd refuses
    # while a member that just came back is not active for long enough yet.
    eventually(ctx, lambda: post(client("e1"), "/v3/cluster/member/add", {"peerURLs": [f"http://{peer}"]}))
    e4.start()
    put(client("e1"), "joined", "e4")
    ensure_eq(eventually(ctx, lambda: get(client("e4"), "joined", serializable=True)), "e4", "serializable read on e4")
    members = post(client("e4"), "/v3/cluster/member/list", {})
    ensure_eq(len(members.get("members", [])), 4, f"members after the join: {members}")


def agreed_leader(ctx, seconds=20):
    """The member that leads, and e1's status naming it, once every member names the same
    leader at the same term (an election under way first ends); for up to `seconds` (scaled)."""
    deadline = time.monotonic() + ctx.scaled(seconds)
    while True:
        statuses = [Status.of(client(m)) for m in MEMBERS]
        first = statuses[0]
        agreed = all(s.leader == first.leader and s.term == first.term for s in statuses)
        leader = next((m for m, s in zip(MEMBERS, statuses) if s.member == first.leader), None)
        if agreed and leader is not None:
            return leader, first
        if time.monotonic() >= deadline:
            fail(f"the members do not agree on a leader: {[(s.leader, s.term) for s in statuses]}")
        time.sleep(0.1)


def client(member):
    """The member's client address (`{address.client:NAME}` in tests.toml)."""
    return node(member).address_of("client")


class Status:
    """What `/v3/maintenance/status` says about a member (ids and terms come as decimal strings)."""

    def __init__(self, member, leader, term):
        self.member, self.leader, self.term = member, leader, term

    @classmethod
    def of(cls, address):
        answer = post(address, "/v3/maintenance/status", {})
        return cls(int(answer["header"]["member_id"]), int(answer["leader"]), int(answer["raftTerm"]))


def put(address, key, value):
    through_elections(lambda: post(address, "/v3/kv/put", {"key": b64(key), "value": b64(value)}))


def get(address, key, serializable=False):
    """The value of `key` on the member at `address` (None when absent); `serializable`:
    the member's own copy, without asking the leader."""
    answer = through_elections(lambda: post(address, "/v3/kv/range", {"key": b64(key), "serializable": serializable}))
    kvs = answer.get("kvs") or []
    return base64.b64decode(kvs[0]["value"]).decode() if kvs and "value" in kvs[0] else None


# What etcd answers while an election is under way (a heartbeat late on a busy machine is
# enough): the request did not fail for good, and etcd's own clients send it again.
TRANSIENT = ("etcdserver: leader changed", "etcdserver: no leader", "etcdserver: request timed out", "raft proposal dropped")


def through_elections(request, seconds=20):
    """`request()` again while etcd answers with a TRANSIENT error, for up to `seconds`;
    any other answer at once. A write sent again writes the same value: idempotent here."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return request()
        except HttpError as error:
            if not any(t in str(error) for t in TRANSIENT) or time.monotonic() >= deadline:
                raise
            info("etcd is electing a leader (%s); sending the request again", error)
            time.sleep(0.1)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def eventually(ctx, read, seconds=20):
    """`read()` until it returns something other than None without raising, for up to
    `seconds` (scaled): replication is asynchronous, and a member that just started may
    refuse a request for a moment. The last try's error, if any, is the case's failure."""
    deadline = time.monotonic() + ctx.scaled(seconds)
    while time.monotonic() < deadline:
        try:
            value = read()
        except (OSError, HttpError):  # ConnectionError and TimeoutError are OSErrors
            value = None
        if value is not None:
            return value
        time.sleep(0.1)
    return read()
