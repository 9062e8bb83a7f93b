"""Named cases and the exported `suite` interface (`list-cases`, `handle`)."""

from __future__ import annotations

import inspect
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Callable, List, Optional

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import nodes as _nodes
from wit_world.imports import outcome as _outcome
from wit_world.imports import protocol as _protocol
from wit_world.imports import timing as _timing

from ._failure import Failure, exception_location, exception_message, remember_sources
from .node import Node


@dataclass
class Case:
    """One named case: `run` takes the `Context` when it declares a parameter."""

    name: str
    run: Callable
    takes_context: bool


_CASES: List[Case] = []
_current_case: str = ""


def case(function: Optional[Callable] = None, *, name: Optional[str] = None):
    """Declare a case. Its name is the function's name unless given; cases run in
    declaration order. The function takes the `Context`, or nothing:

        @case
        def ping_answers(ctx): ...

        @case(name="values keep spaces")
        def spaces(): ...
    """
    if isinstance(function, str):
        name, function = function, None

    def register(run: Callable) -> Callable:
        case_name = name or run.__name__
        if any(existing.name == case_name for existing in _CASES):
            raise ValueError(f"two cases are named {case_name!r}")
        if inspect.iscoroutinefunction(run):
            raise TypeError(f"case {case_name!r} is `async def`; cases are plain functions")
        parameters = [
            p for p in inspect.signature(run).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
        if len(parameters) > 1:
            raise TypeError(f"case {case_name!r} takes {len(parameters)} arguments; a case takes the context or nothing")
        _CASES.append(Case(case_name, run, bool(parameters)))
        remember_sources()
        return run

    return register(function) if function is not None else register


def cases() -> List[str]:
    """The names of the declared cases, in order."""
    return [c.name for c in _CASES]


def current_case() -> str:
    """The name of the case running now ("" outside a case)."""
    return _current_case


class Context:
    """The running request: the test's nodes and the time the host gives the package."""

    def __init__(self, node_names: List[str], timeout: float):
        #: Names of the test's nodes, in tests.toml order.
        self.node_names: List[str] = list(node_names)
        #: Seconds this request has (the host has already applied its timeout scale).
        self.timeout: float = float(timeout)
        self._started = time.monotonic()

    def remaining(self) -> float:
        """Seconds left of the request's budget."""
        return max(0.0, self.timeout - (time.monotonic() - self._started))

    def nodes(self) -> List[_nodes.NodeInfo]:
        """Every node of the test (`name`, `host`, `port`, `address`, `home`), in tests.toml order."""
        return _nodes.all()

    def node(self, name: Optional[str] = None) -> _nodes.NodeInfo:
        """The node called `name` (default: the first node); a failure at the caller's
        line when the test has no such node."""
        if name is None:
            if not self.node_names:
                raise Failure.here("this test has no nodes")
            name = self.node_names[0]
        info = _nodes.get(name)
        if info is None:
            raise Failure.here(f"no node named {name!r} in this test (nodes: {', '.join(self.node_names)})")
        return info

    def control(self, name: Optional[str] = None) -> Node:
        """A handle to drive and observe the node called `name` (default: the first node)."""
        if name is None:
            if not self.node_names:
                raise Failure.here("this test has no nodes")
            name = self.node_names[0]
        return Node(name)

    def timeout_scale(self) -> float:
        """The factor the host multiplied every timeout by (`--timeout-scale`, 1.0 by default)."""
        return _timing.timeout_scale()

    def scaled(self, seconds: float) -> float:
        """`seconds` times the run's timeout scale: use it for the package's own waits."""
        return seconds * _timing.timeout_scale()

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` times the run's timeout scale."""
        time.sleep(self.scaled(seconds))


def _fail_response(test: str, failure: Failure) -> _protocol.FailResponse:
    return _protocol.FailResponse(
        test=test, file=failure.file, line=max(0, int(failure.line)), column=max(0, int(failure.column)), message=failure.message
    )


def run_case(c: Case, context: Context) -> Optional[Failure]:
    """Run one case; the failure it ended with, if any."""
    global _current_case
    _current_case = c.name
    try:
        if c.takes_context:
            c.run(context)
        else:
            c.run()
        return None
    except Failure as failure:
        return failure
    except BaseException as error:  # an uncaught exception, SystemExit included, fails the case
        file, line, column = exception_location(error)
        # The traceback without this function's frame, into the case's captured output.
        traceback.print_exception(type(error), error, error.__traceback__.tb_next, file=sys.stderr)
        return Failure(exception_message(error, file, line), file, line, column)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        _current_case = ""


def handle(request: _protocol.Request) -> _protocol.Response:
    """Run the cases `request` names (all when it names none), in order, stopping at the
    first failure."""
    run = request.value
    context = Context(run.input_node_names, run.test_timeout)
    if run.test_names:
        selected = []
        for name in run.test_names:
            found = next((c for c in _CASES if c.name == name), None)
            if found is None:
                known = ", ".join(cases())
                failure = Failure(f"no case named {name!r} (cases: {known})", "<request>", 0, 0)
                return _protocol.Response_Run(Err(_fail_response(name, failure)))
            selected.append(found)
    else:
        selected = list(_CASES)
    for c in selected:
        failure = run_case(c, context)
        if failure is not None:
            return _protocol.Response_Run(Err(_fail_response(c.name, failure)))
    return _protocol.Response_Run(Ok(None))


class Suite(exports.Suite):
    """The `suite` export. componentize-py looks for a class named `Suite` in the app
    module: `from host_test import Suite` there is all it takes."""

    def list_cases(self) -> List[str]:
        return cases()

    def handle(self, req: _protocol.Request) -> _protocol.Response:
        try:
            return handle(req)
        except BaseException as error:
            # A bug in the SDK itself: tell the host what and where before trapping.
            file, line, column = exception_location(error)
            traceback.print_exception(error, file=sys.stderr)
            _outcome.report_failure(
                _protocol.FailResponse(
                    test=_current_case, file=file, line=line, column=column,
                    message="host_test internal error: " + exception_message(error, file, line),
                )
            )
            raise
