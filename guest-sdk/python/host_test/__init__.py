"""Write `host` test packages in Python (componentize-py).

A test package is a WebAssembly component of the `tester` world (`wit/tester.wit`). This
package gives it:

- `@case`: declares a named case (the function's name, in declaration order);
- `fail(message)`, `ensure(cond, message)`, `ensure_eq(left, right)`, `ensure_ne`: end
  the case with a failure at the caller's file, line and column;
- any other exception escaping a case (a plain `assert`, a `KeyError`, …) fails the case
  with its message (`ValueError: …`) at the innermost line of the package's own code,
  and its traceback in the case's output;
- `Context` (the case's argument): the test's nodes and time budget; `Node` drives a node
  (named ports, event waits, stop/resume/terminate/kill/start/restart, status, memory,
  output); `node(name)` is the node called `name`, `add_node(template, name)` makes one
  from a template node of tests.toml;
- `trace`/`debug`/`info`/`warn`/`error`: leveled logs in the host's report;
- `host_test.net`: TCP connections to the nodes over `wasi:sockets`;
- `host_test.network`: partitions, cuts and byte faults between the nodes
  (`network_faults = true` in tests.toml);
- `Suite`: the `suite` export, which componentize-py looks up in the app module.

    # app.py
    from host_test import Suite, case, ensure_eq  # Suite: the export componentize-py calls

    @case
    def nodes_are_there(ctx):
        ensure_eq(len(ctx.nodes()), 2)
"""

from __future__ import annotations

from typing import Any, Optional

from wit_world.imports import log as _log
from wit_world.imports.log import Level
from wit_world.imports.nodes import NodeInfo

from ._failure import Failure, call_arguments
from ._runner import Case, Context, Suite, case, cases, current_case
from .node import Event, Exited, NamedPort, NodeError, Node, Running, Stopped, add_node, node, parse_condition

# Reported as `host_test.NodeError: timeout: …`, the name a package imports it by.
NodeError.__module__ = __name__

__all__ = [
    "Case", "Context", "Event", "Exited", "Failure", "Level", "NamedPort", "Node", "NodeError",
    "NodeInfo", "Running", "Stopped", "Suite", "add_node", "case", "cases", "current_case", "debug", "ensure",
    "ensure_eq", "ensure_ne", "error", "fail", "info", "log", "node", "parse_condition", "trace", "warn",
]


def fail(message: str = "explicit fail()") -> None:
    """End the running case with a failure at this line."""
    raise Failure.here(message)


def ensure(condition: Any, message: Optional[str] = None) -> None:
    """Fail the case at this line unless `condition` is true."""
    if not condition:
        expression = (call_arguments() or ["the condition"])[0]
        text = f"{message} (condition failed: {expression})" if message else f"condition failed: {expression}"
        raise Failure.here(text)


def ensure_eq(left: Any, right: Any, message: Optional[str] = None) -> None:
    """Fail the case at this line unless `left == right`, showing both values."""
    if not left == right:
        if message is None:
            arguments = call_arguments()
            message = f"{arguments[0]} == {arguments[1]}" if len(arguments) >= 2 else None
        prefix = f"{message}: " if message else ""
        raise Failure.here(f"{prefix}left {left!r} != right {right!r}")


def ensure_ne(left: Any, right: Any, message: Optional[str] = None) -> None:
    """Fail the case at this line if `left == right`."""
    if left == right:
        if message is None:
            arguments = call_arguments()
            message = f"{arguments[0]} != {arguments[1]}" if len(arguments) >= 2 else None
        prefix = f"{message}: " if message else ""
        raise Failure.here(f"{prefix}both sides are {left!r}")


def log(level: Level, message: str, *args: Any) -> None:
    """Record `message` (`%`-formatted with `args`, as `logging` does) at `level` for the running case."""
    _log.log(level, message % args if args else message)


def trace(message: str, *args: Any) -> None:
    log(Level.TRACE, message, *args)


def debug(message: str, *args: Any) -> None:
    log(Level.DEBUG, message, *args)


def info(message: str, *args: Any) -> None:
    log(Level.INFO, message, *args)


def warn(message: str, *args: Any) -> None:
    log(Level.WARN, message, *args)


def error(message: str, *args: Any) -> None:
    log(Level.ERROR, message, *args)
