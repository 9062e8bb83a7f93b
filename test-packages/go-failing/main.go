// Failures of a Go test package, on purpose, for host's tests: each marked line is where
// the host must report a failure.
package main

import (
	"strings"

	"hosttest"
)

func init() {
	hosttest.Case("fails_with_message", func(t *hosttest.T) {
		nodes := len(hosttest.Nodes())
		t.Fatalf("the answer is %d but %d nodes were given", 42, nodes) // MARK: fail
	})

	hosttest.Case("assertion_fails_in_a_helper", func(t *hosttest.T) {
		expectPort(t, 0) // MARK: helper
	})

	hosttest.Case("panics", func(t *hosttest.T) {
		values := strings.Fields("")
		if len(values) == 0 {
			panic("values must not be empty") // MARK: panic
		}
	})

	hosttest.Case("index_out_of_range", func(t *hosttest.T) {
		names := t.NodeNames()
		t.Logf("%d nodes", len(names))
		_ = names[len(names)+1] // MARK: index
	})

	hosttest.Case("passes", func(t *hosttest.T) {
		t.Equal(1+1, 2)
	})
}

// expectPort fails at its caller's line: it is a helper.
func expectPort(t *hosttest.T, want int) {
	t.Helper()
	t.Equal(hosttest.Nodes()[0].Port, want, "port of the first node")
}

func main() {}
