// test_server's repeat helpers (t.MOutOfN, hosttest.DoTimes), checked by counting tries;
// repeat-helpers is the same package in Rust. The last case fails on purpose:
// host/tests/suite_structure.rs checks its message and line.
package main

import (
	"fmt"

	"hosttest"
)

func init() {
	hosttest.Case("three_of_five_pass_after_two_failures", func(t *hosttest.T) {
		var tries []int
		t.MOutOfN(3, 5, func(n int) error {
			tries = append(tries, n)
			if n == 1 {
				return fmt.Errorf("try %d refused", n)
			}
			// A failing assertion fails the try, not the case.
			t.Assert(n != 3, "try %d refused", n)
			return nil
		})
		t.Equal(tries, []int{1, 2, 3, 4, 5})
	})

	hosttest.Case("stops_once_enough_succeeded", func(t *hosttest.T) {
		var tries []int
		t.MOutOfN(2, 10, func(n int) error {
			tries = append(tries, n)
			return nil
		})
		t.Equal(tries, []int{1, 2})
	})

	hosttest.Case("do_times_runs_every_try", func(t *hosttest.T) {
		var tries []int
		t.NoError(hosttest.DoTimes(4, func(n int) error {
			tries = append(tries, n)
			return nil
		}))
		t.Equal(tries, []int{1, 2, 3, 4})
	})

	hosttest.Case("do_times_stops_at_the_first_error", func(t *hosttest.T) {
		var tries []int
		err := hosttest.DoTimes(5, func(n int) error {
			tries = append(tries, n)
			if n == 3 {
				return fmt.Errorf("try %d refused", n)
			}
			return nil
		})
		t.Equal(fmt.Sprint(err), "try 3 refused")
		t.Equal(tries, []int{1, 2, 3})
	})

	hosttest.Case("too_few_successes_fail_at_the_call", func(t *hosttest.T) {
		// Tries 1 and 2 fail: 2 tries left cannot make 3 successes, so it stops there.
		attempt := func(n int) error {
			if n <= 2 {
				return fmt.Errorf("try %d refused", n)
			}
			return nil
		}
		t.MOutOfN(3, 4, attempt) // the failing call
		t.Fatal("MOutOfN did not fail")
	})
}

func main() {}
