"""What the SDK's modules share about the host's error variants: a refused call raises
an exception whose `kind` is the WIT variant's case (`unknown-node`, `timeout`, …)."""

from __future__ import annotations

import re
from typing import Any

from componentize_py_types import Err


class HostError(Exception):
    """A call the host refused: `kind` says why, `detail` says more."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail

    @classmethod
    def from_wit(cls, error: Any) -> "HostError":
        variant = type(error).__name__.split("_", 1)[-1]  # NodeError_UnknownNode → UnknownNode
        kind = re.sub(r"(?<!^)(?=[A-Z])", "-", variant).lower()
        return cls(kind, str(getattr(error, "value", error)))


def call(error_class, function, *args):
    """`function(*args)`, with the host's error value raised as `error_class`."""
    try:
        return function(*args)
    except Err as error:
        raise error_class.from_wit(error.value) from None
