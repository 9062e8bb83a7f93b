"""Failures on purpose, for host's tests: each on a line marked `# MARK: …`."""

import json

from host_test import Suite, case, ensure_eq, fail  # noqa: F401 (Suite: the export componentize-py calls)


@case
def fails_with_message(ctx):
    fail(f"the answer is 42 but {len(ctx.node_names)} nodes were given")  # MARK: fail


@case
def raises_value_error():
    raise ValueError("no frobnicator configured")  # MARK: raise


@case
def bare_assert_fails(ctx):
    nodes = ctx.nodes()
    assert len(nodes) == 7  # MARK: assert


@case
def ensure_eq_shows_both_sides():
    ensure_eq(1 + 1, 3)  # MARK: ensure_eq


@case
def exception_inside_the_standard_library():
    json.loads("{not json")  # MARK: stdlib
