"""Write `host` event handlers and hooks in Python (componentize-py).

A handler is a WebAssembly component of the `event-handler` world
(`wit/handler/handler.wit`). Decorate one class with `@handler`; it is made once, with
the handler's arguments, and then gets every event of the run:

    # app.py
    from host_handler import Handler, Hooks, handler  # Handler, Hooks: the exports componentize-py calls

    @handler
    class Durations:
        def __init__(self, args):
            self.csv = open("/data/durations.csv", "w")   # the granted directory

        def handle(self, event):
            if isinstance(event.kind, types.EventKind_CaseFinished):
                case = event.kind.value
                self.csv.write(f"{case.id.case},{case.duration_secs}\\n")

        def terminate(self):              # optional
            self.csv.close()

        def post_case(self, case, outcome):        # optional hook: a reason turns a failure into a skip
            return None

        def on_failure(self, case, failure, nodes):  # optional hook: diagnostics for the failure
            return None

An exception from `__init__` or `handle` stops the handler (reported; the run goes on).
Build: `componentize-py -d wit/handler -w host:handler/event-handler@0.1.0 componentize app
-p . -p guest-sdk/python -o handler.wasm`.
"""

from __future__ import annotations

from typing import Any, List, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import types

__all__ = ["DIR", "Handler", "Hooks", "handler", "types"]

#: Where the handler's granted directory is mounted.
DIR = "/data"

_class: Any = None
_instance: Any = None


def handler(cls: Any) -> Any:
    """Make `cls` the component's handler (one per component)."""
    global _class
    _class = cls
    return cls


def _running() -> Any:
    if _instance is None:
        raise Err("not initialised")
    return _instance


class Handler(exports.Handler):
    """The `handler` export: hands each call to the `@handler` class's instance."""

    def init(self, args: List[str]) -> None:
        global _instance
        if _class is None:
            raise Err("no @handler class in the app module")
        try:
            _instance = _class(list(args))
        except Err:
            raise
        except Exception as error:  # noqa: BLE001 — any failure stops the handler, with its message
            raise Err(f"{type(error).__name__}: {error}")

    def handle(self, event: types.Event) -> None:
        running = _running()
        try:
            running.handle(event)
        except Err:
            raise
        except Exception as error:  # noqa: BLE001
            raise Err(f"{type(error).__name__}: {error}")

    def terminate(self) -> None:
        if _instance is not None and hasattr(_instance, "terminate"):
            _instance.terminate()


class Hooks(exports.Hooks):
    """The `hooks` export: the `@handler` class's `post_case` and `on_failure`, if any."""

    def post_case(self, id: types.CaseId, outcome: types.Outcome) -> Optional[str]:
        if _instance is None or not hasattr(_instance, "post_case"):
            return None
        return _instance.post_case(id, outcome)

    def on_failure(self, id: types.CaseId, failure: types.Failure, nodes: List[types.NodeLog]) -> Optional[str]:
        if _instance is None or not hasattr(_instance, "on_failure"):
            return None
        return _instance.on_failure(id, failure, nodes)
