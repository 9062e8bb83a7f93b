"""Failures and where they happened: the caller's file, line and column.

Source locations come from the code objects (`co_filename`, `co_positions`), as
componentize-py saw the files when it built the component: each `-p` directory is
mounted at `/0`, `/1`, … inside the component, so `co_filename` is `/0/app.py`. A
location is reported relative to its python-path root (`app.py`), which the host finds
next to the package (it resolves relative paths against the package directory and its
parents) and prints relative to its working directory: `test-packages/my-tests/app.py:12:5`.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Optional, Tuple

_SDK_DIR = os.path.dirname(os.path.abspath(__file__))


class Failure(Exception):
    """The failure a case ends with: `file:line:column: message`.

    Raised by `fail`, `ensure`, `ensure_eq`, `ensure_ne` and the SDK's own checks, with the
    location of the line in the package that called them. Any other exception escaping a
    case becomes a failure too, at the innermost line of the package's own code.
    """

    def __init__(self, message: str, file: str = "<unknown>", line: int = 0, column: int = 0):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    @classmethod
    def here(cls, message: str, depth: int = 0) -> "Failure":
        """A failure at the caller's caller (`depth` more frames up)."""
        frame = sys._getframe(2 + depth)
        file, line, column = frame_location(frame)
        return cls(message, file, line, column)


def _roots() -> list:
    """The python-path directories, longest first (so nested entries win)."""
    roots = [os.path.normpath(entry) for entry in sys.path if entry]
    return sorted(set(roots), key=len, reverse=True)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def shown_path(filename: str) -> str:
    """`/0/app.py` → `app.py`: the file relative to its python-path root."""
    path = os.path.normpath(filename)
    for root in _roots():
        if root != "/" and _under(path, root):
            return os.path.relpath(path, root)
    return filename


def is_sdk_file(filename: str) -> bool:
    return _under(os.path.normpath(filename), _SDK_DIR)


def is_package_file(filename: str) -> bool:
    """Whether `filename` is the test package's own code: not the SDK, not the standard
    library, not the generated bindings, not a frozen or built-in module."""
    if filename.startswith("<") or is_sdk_file(filename):
        return False
    path = os.path.normpath(filename)
    # componentize-py's own mounts: the standard library, bundled helpers, bindings.
    if path.startswith(("/python/", "/bundled/", "/world/")):
        return False
    parts = path.split("/")
    if "wit_world" in parts or "componentize_py_types.py" in parts or "site-packages" in parts:
        return False
    return True


def _positions(code: types.CodeType, lasti: int) -> Tuple[Optional[int], Optional[int]]:
    """(line, 0-based column) of the instruction at byte offset `lasti`."""
    if lasti < 0:
        return None, None
    for index, position in enumerate(code.co_positions()):
        if index == lasti // 2:
            return position[0], position[2]
    return None, None


def frame_location(frame: types.FrameType, lasti: Optional[int] = None, lineno: Optional[int] = None) -> Tuple[str, int, int]:
    """(file, 1-based line, 1-based column) of what `frame` is executing."""
    import linecache

    code = frame.f_code
    line, column = _positions(code, frame.f_lasti if lasti is None else lasti)
    if line is None:
        line = lineno if lineno is not None else frame.f_lineno
    if column is not None and line:
        # co_positions counts UTF-8 bytes; report characters when the source is known.
        text = linecache.getline(code.co_filename, line)
        if text:
            column = len(text.encode()[:column].decode(errors="replace"))
    return shown_path(code.co_filename), line or 0, (column or 0) + 1


def exception_location(error: BaseException) -> Tuple[str, int, int]:
    """The innermost frame of the package's own code in `error`'s traceback (else the
    innermost frame there is)."""
    innermost = package = None
    tb = error.__traceback__
    while tb is not None:
        innermost = tb
        if is_package_file(tb.tb_frame.f_code.co_filename):
            package = tb
        tb = tb.tb_next
    chosen = package or innermost
    if chosen is None:
        return "<unknown>", 0, 0
    return frame_location(chosen.tb_frame, chosen.tb_lasti, chosen.tb_lineno)


def exception_message(error: BaseException, file: str, line: int) -> str:
    """`ValueError: text`, as the last line of a traceback says it; a bare `assert` shows
    its condition: `AssertionError: assert len(nodes) == 2`."""
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ in ("builtins", "__main__") else f"{kind.__module__}.{kind.__qualname__}"
    text = str(error)
    if text:
        return f"{name}: {text}"
    if isinstance(error, AssertionError):
        condition = _assert_condition(error)
        if condition:
            return f"{name}: assert {condition}"
    return name


def _innermost_package_tb(error: BaseException):
    tb, last = error.__traceback__, None
    while tb is not None:
        if is_package_file(tb.tb_frame.f_code.co_filename):
            last = tb
        tb = tb.tb_next
    return last


def _assert_condition(error: BaseException) -> str:
    """The source of the failed `assert`'s condition, when the source is known."""
    import ast

    tb = _innermost_package_tb(error)
    if tb is None:
        return ""
    source = source_segment(tb.tb_frame.f_code, tb.tb_lasti)
    if not source:
        return ""
    try:
        tree = ast.parse(source.strip())
    except SyntaxError:
        return source.strip()
    statement = tree.body[0] if tree.body else None
    if isinstance(statement, ast.Assert):
        return ast.unparse(statement.test)
    return source.strip()


def source_segment(code: types.CodeType, lasti: int) -> str:
    """The source text of the instruction at `lasti` (needs the source: see `remember_sources`)."""
    import linecache

    if lasti < 0:
        return ""
    for index, (line, end_line, column, end_column) in enumerate(code.co_positions()):
        if index != lasti // 2:
            continue
        if line is None or end_line is None or column is None or end_column is None:
            return ""
        lines = [linecache.getline(code.co_filename, n) for n in range(line, end_line + 1)]
        if not all(lines):
            return ""
        if len(lines) == 1:
            return lines[0].encode()[column:end_column].decode(errors="replace")
        first = lines[0].encode()[column:].decode(errors="replace")
        last = lines[-1].encode()[:end_column].decode(errors="replace")
        return "".join([first, *lines[1:-1], last])
    return ""


def remember_sources() -> None:
    """Keep the source of every package module loaded so far in `linecache`, marked as
    not backed by a file (`mtime` None, as for sources from a loader).

    componentize-py imports the package while it builds the component, and the snapshot
    it takes keeps the heap: the sources come along, though the files themselves are not
    inside the component. So tracebacks show their lines and a bare `assert` its condition."""
    import linecache

    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename or not filename.endswith(".py") or not is_package_file(filename):
            continue
        entry = linecache.cache.get(filename)
        if entry is not None and len(entry) == 4 and entry[1] is None:
            continue
        try:
            with open(filename, encoding="utf-8") as source:
                text = source.read()
        except OSError:
            continue
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        linecache.cache[filename] = (len(text), None, lines, filename)


def call_arguments(depth: int = 0) -> list:
    """The source text of the arguments of the call the caller's caller is making
    (`ensure(len(nodes) == 2)` → `["len(nodes) == 2"]`); empty when the source is unknown."""
    import ast

    frame = sys._getframe(2 + depth)
    source = source_segment(frame.f_code, frame.f_lasti)
    if not source:
        return []
    try:
        call = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return []
    if not isinstance(call, ast.Call):
        return []
    return [ast.get_source_segment(source.strip(), argument) or "" for argument in call.args]
