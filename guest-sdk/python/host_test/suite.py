"""Packages of the 0.2 world (`wit/v0.2/tester.wit`): fixtures with a config, skips with
a reason, comments, docs and timetraps — Erlang test_server's suite shape. The host calls
`init` once, then `init_case`, the case and `end_case` for each case, then `end`; this
module only maps those calls to the package's functions.

    # app.py
    from host_test.suite import Suite, case, init, skip, comment  # Suite: the export

    @init
    def setup(ctx, config):
        return {**config, "key": "value"}

    @case(doc="reads back what it wrote")
    def reads_back(ctx, config): ...

Build with `-d {wit}/v0.2 -d ../../guest-sdk/python/wit-v0.2 -w
host:python-sdk/suite-tester-net@0.2.0` (see `test-packages/python-suite-shape`).
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import annotate as _annotate
from wit_world.imports import breaks as _breaks
from wit_world.imports import timetrap as _timetrap
from wit_world.imports import types as _types

from . import _runner
from ._failure import Failure, exception_location, exception_message, remember_sources

__all__ = ["Config", "Skip", "Suite", "break_here", "case", "comment", "end", "end_case", "init", "init_case", "skip", "timetrap"]

#: test_server's Config, as a dict (the host passes `test` and `package`).
Config = Dict[str, str]


class Skip(Exception):
    """Raised by `skip(reason)`: a user skip of the case (or, from `init`, the package)."""


def skip(reason: str) -> None:
    """Skip the running case (from `init`: every case) with `reason`."""
    raise Skip(reason)


def comment(text: str) -> None:
    """Leave a comment on the running case, shown in every report; the last one wins."""
    _annotate.comment(text)


def break_here(comment: str) -> bool:
    """Pause the running case until the person running the host says to go on
    (test_server's `break/1`): the host shows `comment` with the test's nodes and how to
    go on, cancels the timetrap and stops the case's time meanwhile. True once told to go
    on; False at once when nobody can be asked (no terminal and no `--continue-file`, as
    in CI), and the case's output says the break was skipped."""
    return _breaks.break_here(comment)


class timetrap:
    """test_server's timetraps from inside a case; the outer limits still bound everything."""

    @staticmethod
    def set(seconds: float) -> None:
        """The case fails if it runs longer than `seconds` (times the scale factor) from now."""
        _timetrap.set(max(0, int(seconds * 1000)))

    @staticmethod
    def cancel() -> None:
        """Remove the timetrap; the outer limits stay."""
        _timetrap.cancel()

    @staticmethod
    def scale_factor() -> float:
        """The factor every timeout of the run is multiplied by."""
        return _timetrap.scale_factor()


@dataclass
class _Case:
    name: str
    doc: str
    run: Callable


_CASES: List[_Case] = []
_FIXTURES: Dict[str, Callable] = {}


def case(function: Optional[Callable] = None, *, name: Optional[str] = None, doc: str = ""):
    """Declare a case `fn(ctx, config)`, with an optional one-line `doc` (default: the
    first line of its docstring). Cases run in declaration order."""

    def register(run: Callable) -> Callable:
        case_name = name or run.__name__
        if any(existing.name == case_name for existing in _CASES):
            raise ValueError(f"two cases are named {case_name!r}")
        text = doc or (run.__doc__ or "").strip().split("\n")[0]
        _CASES.append(_Case(case_name, text, run))
        remember_sources()
        return run

    return register(function) if function is not None else register


def _fixture(kind: str) -> Callable:
    def register(function: Callable) -> Callable:
        _FIXTURES[kind] = function
        remember_sources()
        return function

    return register


#: `@init def f(ctx, config) -> config`: once before the cases.
init = _fixture("init")
#: `@end def f(ctx, config)`: once after the cases, also after a failure.
end = _fixture("end")
#: `@init_case def f(name, ctx, config) -> config`: before each case.
init_case = _fixture("init_case")
#: `@end_case def f(name, ctx, config)`: after each case, whatever its outcome.
end_case = _fixture("end_case")


def _context() -> _runner.Context:
    from wit_world.imports import nodes as _nodes

    return _runner.Context([node.name for node in _nodes.all()], float("inf"))


def _call(name: str, function: Callable, *args):
    """Call `function`; its result, or `Err(Stop)` raised as componentize-py expects."""
    _runner._current_case = name
    try:
        return function(*args)
    except Skip as skipped:
        raise Err(_types.Stop_Skip(str(skipped)))
    except Failure as failure:
        raise Err(_types.Stop_Fail(_runner._fail_response(name, failure)))
    except BaseException as error:  # an uncaught exception fails the call
        file, line, column = exception_location(error)
        traceback.print_exception(type(error), error, error.__traceback__.tb_next, file=sys.stderr)
        failure = Failure(exception_message(error, file, line), file, line, column)
        raise Err(_types.Stop_Fail(_runner._fail_response(name, failure)))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        _runner._current_case = ""


def _pairs(config) -> List[Tuple[str, str]]:
    return [(str(k), str(v)) for k, v in dict(config).items()]


class Suite(exports.Suite):
    """The 0.2 `suite` export. componentize-py looks for a class named `Suite` in the app
    module: `from host_test.suite import Suite` there is all it takes."""

    def list_cases(self) -> List[_types.CaseInfo]:
        return [_types.CaseInfo(name=c.name, doc=c.doc) for c in _CASES]

    def init(self, config: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
        function = _FIXTURES.get("init", lambda ctx, config: config)
        return _pairs(_call("init", function, _context(), dict(config)))

    def init_case(self, name: str, config: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
        function = _FIXTURES.get("init_case", lambda name, ctx, config: config)
        return _pairs(_call(name, function, name, _context(), dict(config)))

    def run_case(self, name: str, config: List[Tuple[str, str]]) -> None:
        found = next((c for c in _CASES if c.name == name), None)
        if found is None:  # the host asks only for listed names: a last line of defence
            failure = Failure(f"no case named {name!r}", "<request>", 0, 0)
            raise Err(_types.Stop_Fail(_runner._fail_response(name, failure)))
        _call(name, found.run, _context(), dict(config))

    def end_case(self, name: str, config: List[Tuple[str, str]]) -> None:
        function = _FIXTURES.get("end_case", lambda name, ctx, config: None)
        _call(name, function, name, _context(), dict(config))

    def end(self, config: List[Tuple[str, str]]) -> None:
        function = _FIXTURES.get("end", lambda ctx, config: None)
        _call("end", function, _context(), dict(config))
