"""The suite shape of the 0.2 world, the Python edition of the suite every SDK implements
alike (see host/tests/suite_structure.rs and test-packages/suite-shape): fixtures with a
config, a user skip, a comment, docs, a timetrap that fires and one cancelled. Every call
appends to /scratch/order.log, so the last case can check the order.
SUITE_INIT=fail|skip and SUITE_END=fail make the fixtures fail or skip."""

import os
import time

from host_test import ensure_eq, fail
from host_test.suite import Suite, break_here, case, comment, end, end_case, init, init_case, skip, timetrap  # noqa: F401 (Suite: the export)


def note(line):
    with open("/scratch/order.log", "a") as log:
        log.write(line + "\n")


@init
def setup(ctx, config):
    note("init")
    mode = os.environ.get("SUITE_INIT")
    if mode == "fail":
        fail("init was told to fail")
    if mode == "skip":
        skip("init was told to skip")
    return {**config, "init": "done"}


@end
def teardown(ctx, config):
    note("end")
    ensure_eq(config.get("init"), "done", "end sees init's config")
    if os.environ.get("SUITE_END") == "fail":
        fail("end was told to fail")


@init_case
def setup_case(name, ctx, config):
    note(f"init_case {name}")
    if name == "init_case_fails_here":
        fail(f"init-case refuses {name}")
    return {**config, "case": name}


@end_case
def teardown_case(name, ctx, config):
    note(f"end_case {name}")
    ensure_eq(config.get("case"), name, "end-case sees init-case's config")


@case(doc="init's and init-case's config reach the case")
def config_passes_through(ctx, config):
    note("case config_passes_through")
    ensure_eq(config.get("init"), "done")
    ensure_eq(config.get("case"), "config_passes_through")
    ensure_eq(config.get("package"), "python-suite-shape")


@case
def skips_itself(ctx, config):
    """skips itself with a reason"""
    note("case skips_itself")
    skip("not on this platform")


@case(doc="leaves a comment for the report")
def leaves_a_comment(ctx, config):
    note("case leaves_a_comment")
    comment("first comment")
    paused = break_here("look at first.dev")
    comment("the answer is 42, after a break" if paused else "the answer is 42")


@case
def init_case_fails_here(ctx, config):
    note("case init_case_fails_here")
    fail("never runs: its init-case fails")


@case(doc="a timetrap of 500 ms stops a case that sleeps 5 s")
def timetrap_fires(ctx, config):
    note("case timetrap_fires")
    timetrap.set(0.5)
    time.sleep(5)
    fail("the timetrap did not fire")


@case(doc="a cancelled timetrap lets the case sleep past it")
def cancelled_timetrap_does_not_fire(ctx, config):
    note("case cancelled_timetrap_does_not_fire")
    ensure_eq(timetrap.scale_factor(), 1.0)
    timetrap.set(0.3)
    timetrap.cancel()
    time.sleep(0.4)


EXPECTED = """init
init_case config_passes_through
case config_passes_through
end_case config_passes_through
init_case skips_itself
case skips_itself
end_case skips_itself
init_case leaves_a_comment
case leaves_a_comment
end_case leaves_a_comment
init_case init_case_fails_here
init_case timetrap_fires
case timetrap_fires
end_case timetrap_fires
init_case cancelled_timetrap_does_not_fire
case cancelled_timetrap_does_not_fire
end_case cancelled_timetrap_does_not_fire
init_case order_is_kept
case order_is_kept
"""


@case(doc="fixtures and cases ran in suite order")
def order_is_kept(ctx, config):
    note("case order_is_kept")
    with open("/scratch/order.log") as log:
        ensure_eq(log.read(), EXPECTED, "the order of calls")
