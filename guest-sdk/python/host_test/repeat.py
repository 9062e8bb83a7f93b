"""test_server's repeat helpers, for steps that may need several tries (a leader not yet
elected, a connection refused while a node restarts).

    from host_test.repeat import do_times, m_out_of_n

    m_out_of_n(3, 5, lambda attempt: write_and_read(ctx))   # 3 successes in at most 5 tries

A try fails by raising: `fail()`, a failed `ensure`, or any other exception; `skip()`
(0.2) is not a failed try and skips at once.
"""

from __future__ import annotations

import sys
from typing import Callable

from ._failure import Failure

__all__ = ["do_times", "m_out_of_n"]


def do_times(n: int, fn: Callable[[int], object]) -> None:
    """test_server's `do_times/2`: call `fn(attempt)` for attempts 1..n; the first exception
    ends it and propagates as it is."""
    for attempt in range(1, n + 1):
        fn(attempt)


def m_out_of_n(m: int, n: int, fn: Callable[[int], object]) -> None:
    """test_server's `m_out_of_n/3`: call `fn(attempt)` (from 1) until it has returned
    without raising `m` times, at most `n` times. Fewer than `m` successes — known as soon
    as the tries left cannot make up for them — fail the case at the caller's line, with
    the counts and the last error."""
    if m > n:
        raise Failure.here(f"m_out_of_n({m}, {n}): more successes asked for than tries")
    succeeded = tried = 0
    last = ""
    # Go on while the tries left can still make up the successes missing.
    while succeeded < m and n - tried >= m - succeeded:
        tried += 1
        try:
            fn(tried)
        except Exception as error:  # noqa: BLE001 (a try fails by raising anything)
            skip = getattr(sys.modules.get("host_test.suite"), "Skip", None)
            if skip is not None and isinstance(error, skip):
                raise  # a skip is not a failed try
            message = error.message if isinstance(error, Failure) else f"{type(error).__name__}: {error}"
            last = f"; last error (try {tried}): {message}"
        else:
            succeeded += 1
    if succeeded < m:
        raise Failure.here(f"m_out_of_n({m}, {n}): {succeeded} of {tried} tries succeeded, {m} needed{last}")
