// Package hosttest writes `host` test packages in Go.
//
// A test package is a WebAssembly component of the `tester` world (wit/tester.wit). With
// this package it is a Go `main` package that declares named cases in init():
//
//	package main
//
//	import "hosttest"
//
//	func init() {
//		hosttest.Case("nodes_are_there", func(t *hosttest.T) {
//			nodes := hosttest.Nodes()
//			t.Assert(len(nodes) > 0, "no nodes")
//			t.Logf("first node listens on %s", nodes[0].Address)
//		})
//	}
//
//	func main() {} // required by Go, never called
//
// The host calls `list-cases`, then `handle` once per case. In a case:
//
//   - t.Fatal/Fatalf/FailNow end the case with a failure at the caller's file and line;
//     t.Error/Errorf/Fail record one and let the case go on (as in package testing);
//   - t.Assert, t.Equal, t.NotEqual, t.NoError, t.Contains end the case when their check
//     does not hold;
//   - a panic becomes a failure `panicked: VALUE` at the panicking line of the package's
//     own code (reported through `outcome.report-failure`, then the panic goes on and the
//     package traps, as a Rust package does);
//   - t.Logf/Log (and hosttest.Log) write into the host's report.
//
// Nodes are driven through the host (Go's wasip1 port has no sockets): Nodes, LookupNode,
// and a Node handle for event waits and process control.
//
// A package of the 0.2 world (wit/v0.2/tester.wit, world `suite-tester`) registers a
// Suite instead: fixtures (Init, End, InitCase, EndCase) passing a Config, cases with
// docs, t.Skip, Comment and Timetrap. See Suite.
//
// Build with build.sh in this directory (see README.md); `host run` does it for a package
// directory with a host-package.toml.
package hosttest

import (
	"fmt"
	"strings"
	"time"

	"hosttest/internal/dispatch"
	_ "hosttest/internal/wit/exports/wit_exports" // the component's exports
)

func init() {
	dispatch.ListCases = listCases
	dispatch.Handle = handle
	dispatch.Suite.ListCases = suiteListCases
	dispatch.Suite.Init = suiteInit
	dispatch.Suite.InitCase = suiteInitCase
	dispatch.Suite.RunCase = suiteRunCase
	dispatch.Suite.EndCase = suiteEndCase
	dispatch.Suite.End = suiteEnd
}

// A registered case.
type testCase struct {
	name string
	fn   func(t *T)
}

var cases []testCase

// Case declares a named case of a 0.1 package (world `tester`); cases are listed and run
// in the order they are declared. Call it from init() (or a package-level
// `var _ = hosttest.Case(...)`). It panics on an empty or duplicate name, and in a
// package that registers a 0.2 suite (Register).
func Case(name string, fn func(t *T)) struct{} {
	if name == "" {
		panic("hosttest.Case: empty case name")
	}
	if fn == nil {
		panic(fmt.Sprintf("hosttest.Case(%q): nil function", name))
	}
	if registered != nil {
		panic(mixedAPIs)
	}
	for _, c := range cases {
		if c.name == name {
			panic(fmt.Sprintf("hosttest.Case: case %q declared twice", name))
		}
	}
	cases = append(cases, testCase{name: name, fn: fn})
	return struct{}{}
}

// T is the state of the running case (or 0.2 fixture), as *testing.T is for a Go test.
type T struct {
	name       string
	nodeNames  []string
	timeout    time.Duration
	helpers    map[string]bool
	failure    *Failure
	inSuite    bool    // a call of a 0.2 suite, which may skip
	skipReason *string // set by t.Skip
}

// Failure is where and why a case failed (the `fail-response` of the contract, less the
// case name). Column is 0: Go records no columns.
type Failure struct {
	File    string
	Line    int
	Column  int
	Message string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", f.File, f.Line, f.Column, f.Message)
}

// fatal is the panic value t.FailNow uses to end a case; the runner recovers it.
type fatal struct{}

// Name is the running case's name.
func (t *T) Name() string { return t.name }

// NodeNames are the names of the test's nodes, in tests.toml order (the request's
// `input-node-names`).
func (t *T) NodeNames() []string { return append([]string(nil), t.nodeNames...) }

// Timeout is the time the host gives this request (already multiplied by the run's
// timeout scale). A 0.2 call has no request timeout (the host bounds each call, and a
// case sets its own limit with Timetrap): there it is the largest Duration.
func (t *T) Timeout() time.Duration { return t.timeout }

// Failed reports whether the case has failed so far.
func (t *T) Failed() bool { return t.failure != nil }

// Helper marks the calling function as a helper: failures inside it are reported at the
// line that called it, as with testing.T.Helper.
func (t *T) Helper() {
	if name := callerFunction(2); name != "" {
		t.helpers[name] = true
	}
}

// Fail marks the case as failed at the caller's line and lets it go on.
func (t *T) Fail() { t.record("failed") }

// FailNow marks the case as failed at the caller's line and ends it.
func (t *T) FailNow() {
	t.record("failed")
	panic(fatal{})
}

// Error records a failure with a message built as fmt.Sprintln does, and lets the case go on.
func (t *T) Error(args ...any) { t.record(sprintln(args...)) }

// Errorf records a failure with a formatted message, and lets the case go on.
func (t *T) Errorf(format string, args ...any) { t.record(fmt.Sprintf(format, args...)) }

// Fatal ends the case with a failure at the caller's line (message as fmt.Sprintln builds it).
func (t *T) Fatal(args ...any) {
	t.record(sprintln(args...))
	panic(fatal{})
}

// Fatalf ends the case with a failure at the caller's line and a formatted message.
func (t *T) Fatalf(format string, args ...any) {
	t.record(fmt.Sprintf(format, args...))
	panic(fatal{})
}

// Log writes an info line into the host's report (message as fmt.Sprintln builds it).
func (t *T) Log(args ...any) { Log(Info, sprintln(args...)) }

// Logf writes a formatted info line into the host's report.
func (t *T) Logf(format string, args ...any) { Log(Info, fmt.Sprintf(format, args...)) }

// Assert ends the case unless cond holds; the message is formatted from format and args.
func (t *T) Assert(cond bool, format string, args ...any) {
	if !cond {
		t.record(fmt.Sprintf(format, args...))
		panic(fatal{})
	}
}

// Equal ends the case unless got and want are deeply equal. An optional message
// (format string and arguments) comes first in the failure.
func (t *T) Equal(got, want any, msgAndArgs ...any) {
	if !equal(got, want) {
		t.record(prefixed(msgAndArgs, "got "+show(got)+", want "+show(want)))
		panic(fatal{})
	}
}

// NotEqual ends the case if got and want are deeply equal.
func (t *T) NotEqual(got, unwanted any, msgAndArgs ...any) {
	if equal(got, unwanted) {
		t.record(prefixed(msgAndArgs, "both are "+show(got)))
		panic(fatal{})
	}
}

// NoError ends the case if err is not nil, with the error as message.
func (t *T) NoError(err error, msgAndArgs ...any) {
	if err != nil {
		t.record(prefixed(msgAndArgs, err.Error()))
		panic(fatal{})
	}
}

// Contains ends the case unless s contains substr.
func (t *T) Contains(s, substr string, msgAndArgs ...any) {
	if !strings.Contains(s, substr) {
		t.record(prefixed(msgAndArgs, fmt.Sprintf("%q does not contain %q", s, substr)))
		panic(fatal{})
	}
}

// record keeps the first failure's location; later messages are added to it.
func (t *T) record(message string) {
	if t.failure != nil {
		t.failure.Message += "\n" + message
		return
	}
	file, line := t.callerLocation()
	t.failure = &Failure{File: file, Line: line, Column: 0, Message: message}
}

func sprintln(args ...any) string {
	return strings.TrimSuffix(fmt.Sprintln(args...), "\n")
}

// prefixed puts an optional user message (format string and arguments) before detail.
func prefixed(msgAndArgs []any, detail string) string {
	if len(msgAndArgs) == 0 {
		return detail
	}
	var message string
	if format, ok := msgAndArgs[0].(string); ok {
		message = fmt.Sprintf(format, msgAndArgs[1:]...)
	} else {
		message = sprintln(msgAndArgs...)
	}
	return message + ": " + detail
}
