"""Drive and observe the test's nodes: named ports, event waits, process control (stop,
resume, terminate, kill, start, restart), nodes added from a template, status, memory and
output.

Every call names a node; a call the host refuses raises `NodeError` (its `kind` is the
WIT variant: `unknown-node`, `not-running`, `timeout`, `terminated`, `invalid`,
`failed`). Left uncaught, it fails the case at the package's line that made the call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Tuple, Union

from wit_world.imports import control as _control
from wit_world.imports import events as _events
from wit_world.imports import nodes as _nodes

from wit_world.imports.control import ExitStatus, MemoryUsage, OutputLine, OutputSource  # noqa: F401 (re-exported)
from wit_world.imports.nodes import NamedPort  # noqa: F401 (re-exported)

from ._wit import HostError, call

#: Seconds a wait lasts unless told otherwise (the case's deadline still bounds it).
DEFAULT_WAIT = 10.0

Start = Union[None, str, int]
"""Where a wait or a read starts: `None` or `"beginning"` (the node's first event),
`"now"` (the next event from now on), or a sequence number (from `cursor()` or an event)."""


class NodeError(HostError):
    """A node call the host refused: `kind` says why, `detail` says more."""


def _call(function, *args):
    return call(NodeError, function, *args)


@dataclass
class Event:
    """One event from a node's event pipe."""

    node: str
    seq: int
    name: str
    #: The event's value as JSON text.
    value: str
    section: List[str]
    time_ms: int

    @property
    def data(self) -> Any:
        """The event's value, parsed: `event.data["writes"]`."""
        return json.loads(self.value)

    @classmethod
    def from_wit(cls, event: _events.Event) -> "Event":
        return cls(event.node, event.seq, event.name, event.value, list(event.section), event.time_ms)


@dataclass
class Running:
    pid: int


@dataclass
class Stopped:
    pid: int


@dataclass
class Exited:
    status: ExitStatus


def _position(start: Start) -> Any:
    if start is None or start == "beginning":
        return _events.Position_Beginning()
    if start == "now":
        return _events.Position_Now()
    if isinstance(start, int) and not isinstance(start, bool) and start >= 0:
        return _events.Position_Seq(start)
    raise NodeError("invalid", f"start must be None, 'beginning', 'now' or a sequence number, not {start!r}")


_OPERATORS = [
    ("==", _events.Comparison.EQ),
    ("!=", _events.Comparison.NE),
    ("<=", _events.Comparison.LE),
    (">=", _events.Comparison.GE),
    ("<", _events.Comparison.LT),
    (">", _events.Comparison.GT),
]


def parse_condition(expression: str) -> _events.Condition:
    """`PATH OP VALUE` → a condition, OP one of `== != < <= > >=`, VALUE JSON (a bare word
    is a string): `writes >= 3`, `key == greeting`, `peer.id == "a"`."""
    found = [(expression.find(text), -len(text), text, op) for text, op in _OPERATORS if text in expression]
    if not found:
        raise NodeError("invalid", f"filter {expression!r}: no comparison (==, !=, <, <=, >, >=)")
    index, _, text, op = min(found)
    path = expression[:index].strip()
    raw = expression[index + len(text):].strip()
    looks_like_json = raw[:1] in ('"', "{", "[", "-") or raw[:1].isdigit() or raw in ("true", "false", "null")
    value = raw if looks_like_json else json.dumps(raw)
    return _events.Condition(path=path, op=op, value=value)


class Node:
    """A node of the test, by name (`host_test.node("e1")`, `ctx.control("first.dev")` or
    `Node("first.dev")`)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"Node({self.name!r})"

    @classmethod
    def add_from_template(
        cls,
        template: str,
        name: str,
        extra_args: Iterable[str] = (),
        env: Union[Mapping[str, str], Iterable[Tuple[str, str]]] = (),
    ) -> "Node":
        """Create the node `name` from the template node `template` of tests.toml
        (`template = true`). It is not started yet: its ports are known (announce them
        first if the system needs it), then `start()` boots it and waits until it is
        ready. The host stops it at the test's end. `extra_args` are appended to the
        template's arguments and `env` (a dict or pairs) set on top of its environment;
        both may use placeholders (`{port.peer}`, `{address.client:e1}`)."""
        pairs = env.items() if isinstance(env, Mapping) else env
        new = _control.NewNode(
            name=name, extra_args=[str(a) for a in extra_args], env=[(str(k), str(v)) for k, v in pairs]
        )
        return cls(_call(_control.add_node, template, new).name)

    @property
    def info(self) -> _nodes.NodeInfo:
        """`name`, `host`, `port`, `address`, `home`; `NodeError` (`unknown-node`) if the test has no such node."""
        info = _nodes.get(self.name)
        if info is None:
            raise NodeError("unknown-node", self.name)
        return info

    @property
    def address(self) -> str:
        """`host:port` of the node's first port, for `host_test.net.connect`."""
        return self.info.address

    def address_of(self, name: str) -> str:
        """`host:port` of the node's port called `name` (see `port`)."""
        return self.named_port(name).address

    def port(self, name: str) -> int:
        """The TCP port the host picked for the node's port called `name` (`ports =
        ["client", "peer"]` in tests.toml); `NodeError` (`invalid`) if it has no such port."""
        return self.named_port(name).port

    def ports(self) -> List[NamedPort]:
        """The node's named ports (`name`, `port`, `address`), in tests.toml order; empty
        when it declares none."""
        return _call(_nodes.ports, self.name)

    def named_port(self, name: str) -> NamedPort:
        """The node's port called `name` (`name`, `port`, `address`)."""
        ports = self.ports()
        for port in ports:
            if port.name == name:
                return port
        known = ", ".join(p.name for p in ports) or "none declared"
        raise NodeError("invalid", f"node {self.name} has no port named {name!r} (its ports: {known})")

    def wait_for(self, event: str, *filters: str, start: Start = None, timeout: float = DEFAULT_WAIT) -> Event:
        """The first event called `event` at or after `start` whose value meets every
        filter (`"writes >= 3"`, see `parse_condition`), waiting up to `timeout` seconds.
        Events the node emitted before the call count unless `start` says otherwise."""
        conditions = [parse_condition(f) for f in filters]
        found = _call(_events.wait_for, self.name, event, conditions, _position(start), int(timeout * 1000))
        return Event.from_wit(found)

    def cursor(self) -> int:
        """The sequence number of the node's next event: `wait_for(…, start=cursor)` then
        sees only what happens after this point."""
        return _call(_events.cursor, self.name)

    def events(self, start: Start = None, max: int = 1000) -> List[Event]:
        """Recorded events from `start`, up to `max`, without waiting."""
        return [Event.from_wit(e) for e in _call(_events.read, self.name, _position(start), max)]

    def terminate(self, grace: float = 5.0) -> ExitStatus:
        """SIGTERM, then SIGKILL after `grace` seconds; how the node exited."""
        return _call(_control.terminate, self.name, int(grace * 1000))

    def kill(self) -> ExitStatus:
        """SIGKILL now."""
        return _call(_control.kill, self.name)

    def stop(self) -> None:
        """SIGSTOP: freeze the node (its connections stay open)."""
        _call(_control.stop, self.name)

    def resume(self) -> None:
        """SIGCONT: a stopped node goes on."""
        _call(_control.resume, self.name)

    def start(self) -> None:
        """Start a node that is not running (an exited one again, same home, or one made by
        `add_node`); returns once it is ready."""
        _call(_control.start, self.name)

    def restart(self) -> None:
        """Terminate, start, wait until ready."""
        _call(_control.restart, self.name)

    def status(self) -> Union[Running, Stopped, Exited]:
        """`Running(pid)`, `Stopped(pid)` or `Exited(exit_status)`."""
        status = _call(_control.status, self.name)
        if isinstance(status, _control.NodeStatus_Running):
            return Running(status.value)
        if isinstance(status, _control.NodeStatus_Stopped):
            return Stopped(status.value)
        return Exited(status.value)

    def memory(self) -> MemoryUsage:
        """Peak and current resident memory (`peak_rss_bytes`, `rss_bytes`)."""
        return _call(_control.memory, self.name)

    def output(self, start: int = 0, max: int = 1000) -> List[OutputLine]:
        """Output lines (`seq`, `source`, `text`) with a sequence number of `start` or more."""
        return _call(_control.output, self.name, start, max)

    def wait_for_line(self, pattern: str, start: int = 0, timeout: float = DEFAULT_WAIT) -> OutputLine:
        """The first stdout/stderr line at or after `start` matching the regular expression `pattern`."""
        return _call(_control.wait_for_line, self.name, pattern, start, int(timeout * 1000))


def node(name: str) -> Node:
    """The node called `name`: `node("e1").address_of("client")`. Calls about a node the test
    does not have raise `NodeError` (`unknown-node`)."""
    return Node(name)


def add_node(
    template: str,
    name: str,
    extra_args: Iterable[str] = (),
    env: Union[Mapping[str, str], Iterable[Tuple[str, str]]] = (),
) -> Node:
    """`Node.add_from_template`: the node `name` made from the template `template` of
    tests.toml, not started yet (`start()` it)."""
    return Node.add_from_template(template, name, extra_args, env)
