package hosttest

import (
	"fmt"
	"time"

	"hosttest/internal/dispatch"
)

// Suite is a package of the 0.2 world (`wit/v0.2/tester.wit`, world `suite-tester`):
// Erlang test_server's suite shape. The host calls Init once, then for each case
// InitCase, the case's Run and EndCase (in one fresh instance), then End, also after a
// failure. Every fixture is optional. State passes between calls only through the
// Config: what Init returns goes to every InitCase and to End, what InitCase returns to
// its case and its EndCase.
//
// In every call, t fails and logs as in a 0.1 case (t.Fatalf, t.Equal… at the caller's
// file and line) and may skip (t.Skip); t.Name() is the case's name, or "init" / "end".
// A Skip from Init skips every case of the package; a failed Init auto-skips them; a
// failed InitCase auto-skips its case; a failed EndCase is noted in the case's comment;
// a failed End counts as one failure and leaves the cases as they were.
type Suite struct {
	// Init runs once before the cases (init_per_suite); the host's config holds
	// "test" and "package". Default: the config as it came.
	Init func(t *T, config Config) Config
	// End runs once after the cases (end_per_suite), with Init's config.
	End func(t *T, config Config)
	// InitCase runs before case t.Name() (init_per_testcase), with Init's config.
	// Default: the config as it came.
	InitCase func(t *T, config Config) Config
	// EndCase runs after case t.Name() whatever its outcome (end_per_testcase), with
	// InitCase's config.
	EndCase func(t *T, config Config)
	// Cases are listed and run in this order.
	Cases []SuiteCase
}

// SuiteCase is one case of a Suite.
type SuiteCase struct {
	// Name is unique in the package.
	Name string
	// Doc is one line saying what the case checks (shown with `--verbose` and in every
	// report); may be empty.
	Doc string
	// Run is the case; config is what InitCase returned.
	Run func(t *T, config Config)
}

// Config is test_server's Config: key/value pairs from the host ("test", "package"),
// Init and InitCase. Each call gets a map of its own; the pairs go back to the host in
// the order they came, then new keys sorted.
type Config map[string]string

// The registered 0.2 suite, if any.
var registered *Suite

// Register declares the package's 0.2 suite; call it once, from init() (or a
// package-level `var _ = hosttest.Register(...)`). The component must then be built for
// the 0.2 world: build.sh DIR WIT/v0.2 suite-tester OUT. It panics on a second suite,
// on 0.1 cases (hosttest.Case) in the same package, and on an empty or duplicate case
// name or a case without Run.
func Register(suite Suite) struct{} {
	if registered != nil {
		panic("hosttest.Register: a package has one suite, and this one registers a second")
	}
	if len(cases) > 0 {
		panic(mixedAPIs)
	}
	seen := map[string]bool{}
	for i, c := range suite.Cases {
		if c.Name == "" {
			panic(fmt.Sprintf("hosttest.Register: case %d has an empty name", i))
		}
		if c.Run == nil {
			panic(fmt.Sprintf("hosttest.Register: case %q has no Run function", c.Name))
		}
		if seen[c.Name] {
			panic(fmt.Sprintf("hosttest.Register: case %q declared twice", c.Name))
		}
		seen[c.Name] = true
	}
	suite.Cases = append([]SuiteCase(nil), suite.Cases...)
	registered = &suite
	return struct{}{}
}

const mixedAPIs = "hosttest: a package declares either 0.1 cases (hosttest.Case) or a 0.2 suite (hosttest.Register), not both"

// skipped is the panic value t.Skip uses to end a call; the runner recovers it.
type skipped struct{}

// Skip ends the running call as a user skip, with a reason built as fmt.Sprintln does
// (test_server's `{skip, Reason}`). From Init it skips every case of the package. A call
// that has already failed stays failed. Only in a 0.2 suite: in a 0.1 case it fails.
func (t *T) Skip(args ...any) { t.skip(sprintln(args...)) }

// Skipf is Skip with a formatted reason.
func (t *T) Skipf(format string, args ...any) { t.skip(fmt.Sprintf(format, args...)) }

func (t *T) skip(reason string) {
	if !t.inSuite {
		t.record(fmt.Sprintf("t.Skip(%q): the 0.1 contract has no skips; a 0.2 suite (hosttest.Register) has", reason))
		panic(fatal{})
	}
	t.skipReason = &reason
	panic(skipped{})
}

// Skipped reports whether the call was skipped.
func (t *T) Skipped() bool { return t.skipReason != nil }

// Comment leaves a note on the running case, shown with it in every report
// (test_server's `comment/1`); the last one wins. Only in a 0.2 component: elsewhere it
// panics.
func Comment(text string) {
	suiteImports("hosttest.Comment").Comment(text)
}

// BreakHere pauses the running case until the person running the host says to go on
// (test_server's `break/1`): the host shows comment with the test's nodes and how to go
// on, cancels the timetrap and stops the case's time meanwhile. It returns true once told
// to go on; false at once when nobody can be asked (no terminal and no --continue-file,
// as in CI), and the case's output says the break was skipped. Only in a 0.2 component:
// elsewhere it panics.
func BreakHere(comment string) bool {
	return suiteImports("hosttest.BreakHere").BreakHere(comment)
}

// Timetraps are test_server's timetraps, set from inside a case (Timetrap); the outer
// limits (the test's timeout, case_timeout_secs) still bound everything.
type Timetraps struct{}

// Timetrap sets and cancels the running case's timetrap. Only in a 0.2 component:
// elsewhere its methods panic.
var Timetrap Timetraps

// Set makes the running call fail if it runs longer than limit (times the scale factor)
// from now; it replaces an earlier timetrap. Milliseconds count; a negative limit is 0.
func (Timetraps) Set(limit time.Duration) {
	suiteImports("hosttest.Timetrap.Set").TimetrapSet(uint64(max(limit.Milliseconds(), 0)))
}

// Cancel removes the timetrap Set made; the outer limits stay.
func (Timetraps) Cancel() {
	suiteImports("hosttest.Timetrap.Cancel").TimetrapCancel()
}

// ScaleFactor is the factor every timeout of the run is multiplied by
// (`host run --timeout-scale`).
func (Timetraps) ScaleFactor() float64 {
	return suiteImports("hosttest.Timetrap.ScaleFactor").TimetrapScaleFactor()
}

// suiteImports are the 0.2 imports, or a panic naming call when the component is of
// the 0.1 world.
func suiteImports(call string) *dispatch.SuiteImports {
	if dispatch.Imports == nil {
		panic(call + " needs the 0.2 world: register a suite (hosttest.Register) and build with WIT/v0.2 suite-tester")
	}
	return dispatch.Imports
}
