// Package dispatch connects the generated export of a `suite` interface to the SDK's
// runner. The runner (package hosttest) imports the generated exports, and the exports
// call back into the runner through these variables: no import cycle.
//
// A component exports one `suite`: 0.1's (`tester` world) or 0.2's (`suite-tester`
// world). Package hosttest is the same in both builds, so it must not import what only
// one of them generates: the 0.2 calls and the 0.2 imports (`timetrap`, `annotate`) pass
// through here in plain Go types, and the 0.2 export sets the imports when it is built.
package dispatch

import "hosttest/internal/wit/imports/host_test_0_1_0_protocol"

// ListCases implements 0.1's `suite.list-cases`; set by package hosttest.
var ListCases func() []string

// Handle implements 0.1's `suite.handle`; set by package hosttest.
var Handle func(request host_test_0_1_0_protocol.Request) host_test_0_1_0_protocol.Response

// Pair is one key/value pair of a 0.2 config, in the order the host sent it.
type Pair struct {
	Key, Value string
}

// CaseInfo is one case of a 0.2 package (`types.case-info`).
type CaseInfo struct {
	Name, Doc string
}

// Stop is why a 0.2 call did not end ok (`types.stop`): Fail when it failed, otherwise a
// user skip with Skip as its reason.
type Stop struct {
	Fail *host_test_0_1_0_protocol.FailResponse
	Skip string
}

// Suite implements 0.2's `suite` interface; set by package hosttest. A nil *Stop is ok.
var Suite struct {
	ListCases func() []CaseInfo
	Init      func(config []Pair) ([]Pair, *Stop)
	InitCase  func(name string, config []Pair) ([]Pair, *Stop)
	RunCase   func(name string, config []Pair) *Stop
	EndCase   func(name string, config []Pair) *Stop
	End       func(config []Pair) *Stop
}

// SuiteImports are 0.2's own imports (`annotate`, `breaks`, `timetrap`).
type SuiteImports struct {
	Comment             func(text string)
	BreakHere           func(comment string) bool
	TimetrapSet         func(ms uint64)
	TimetrapCancel      func()
	TimetrapScaleFactor func() float64
}

// Imports is set by the 0.2 export when the component is of the `suite-tester` world;
// nil in a 0.1 component.
var Imports *SuiteImports
