"""test_server's repeat helpers (`host_test.repeat`), checked by counting tries;
`repeat-helpers` is the same package in Rust. The last case fails on purpose:
host/tests/suite_structure.rs checks its message and line."""

from host_test import Suite, case, ensure_eq, fail  # noqa: F401 (Suite: the export componentize-py calls)
from host_test.repeat import do_times, m_out_of_n


@case
def three_of_five_pass_after_two_failures(ctx):
    tries = []

    def attempt(n):
        tries.append(n)
        if n in (1, 3):
            fail(f"try {n} refused")

    m_out_of_n(3, 5, attempt)
    ensure_eq(tries, [1, 2, 3, 4, 5])


@case
def stops_once_enough_succeeded(ctx):
    tries = []
    m_out_of_n(2, 10, tries.append)
    ensure_eq(tries, [1, 2])


@case
def do_times_runs_every_try(ctx):
    tries = []
    do_times(4, tries.append)
    ensure_eq(tries, [1, 2, 3, 4])


@case
def do_times_stops_at_the_first_error(ctx):
    tries = []

    def attempt(n):
        tries.append(n)
        if n == 3:
            raise ValueError(f"try {n} refused")

    try:
        do_times(5, attempt)
    except ValueError as error:
        ensure_eq(str(error), "try 3 refused")
    ensure_eq(tries, [1, 2, 3])


@case
def too_few_successes_fail_at_the_call(ctx):
    # Tries 1 and 2 fail: 2 tries left cannot make 3 successes, so it stops there.
    def attempt(n):
        if n <= 2:
            fail(f"try {n} refused")

    m_out_of_n(3, 4, attempt)  # the failing call
    fail("m_out_of_n did not fail")
