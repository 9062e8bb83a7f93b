package hosttest

import (
	"fmt"
	"math"
	"slices"
	"time"

	"hosttest/internal/dispatch"
	"hosttest/internal/wit/imports/host_test_0_1_0_protocol"
)

// The calls of 0.2's `suite` export (set in dispatch.Suite). The host drives the order
// and does the accounting; these only map each call to the registered Suite.

// theSuite is the registered suite; a 0.2 component without one cannot go on.
func theSuite() *Suite {
	if registered == nil {
		if len(cases) > 0 {
			panic("hosttest: this component is of the 0.2 world `suite-tester`, but the package declares 0.1 cases (hosttest.Case): build it for the world `tester`, or register a suite (hosttest.Register)")
		}
		panic("hosttest: this component is of the 0.2 world `suite-tester`, but the package registers no suite (hosttest.Register)")
	}
	return registered
}

func suiteListCases() []dispatch.CaseInfo {
	suite := theSuite()
	infos := make([]dispatch.CaseInfo, len(suite.Cases))
	for i, c := range suite.Cases {
		infos[i] = dispatch.CaseInfo{Name: c.Name, Doc: c.Doc}
	}
	return infos
}

func suiteInit(pairs []dispatch.Pair) ([]dispatch.Pair, *dispatch.Stop) {
	fixture := theSuite().Init
	if fixture == nil {
		return pairs, nil
	}
	return callReturningConfig("init", pairs, fixture)
}

func suiteInitCase(name string, pairs []dispatch.Pair) ([]dispatch.Pair, *dispatch.Stop) {
	fixture := theSuite().InitCase
	if fixture == nil {
		return pairs, nil
	}
	return callReturningConfig(name, pairs, fixture)
}

func suiteRunCase(name string, pairs []dispatch.Pair) *dispatch.Stop {
	suite := theSuite()
	index := slices.IndexFunc(suite.Cases, func(c SuiteCase) bool { return c.Name == name })
	if index < 0 { // the host asks only for listed names: a last line of defence
		return &dispatch.Stop{Fail: &host_test_0_1_0_protocol.FailResponse{Test: name, File: "<request>", Message: fmt.Sprintf("no case named %q", name)}}
	}
	return callReturningNothing(name, pairs, suite.Cases[index].Run)
}

func suiteEndCase(name string, pairs []dispatch.Pair) *dispatch.Stop {
	fixture := theSuite().EndCase
	if fixture == nil {
		return nil
	}
	return callReturningNothing(name, pairs, fixture)
}

func suiteEnd(pairs []dispatch.Pair) *dispatch.Stop {
	fixture := theSuite().End
	if fixture == nil {
		return nil
	}
	return callReturningNothing("end", pairs, fixture)
}

// callReturningConfig runs an Init or InitCase fixture: its config, or why it stopped.
func callReturningConfig(name string, pairs []dispatch.Pair, fixture func(*T, Config) Config) ([]dispatch.Pair, *dispatch.Stop) {
	var out Config
	stop := call(name, func(t *T) { out = fixture(t, configOf(pairs)) })
	if stop != nil {
		return nil, stop
	}
	return pairsOf(out, pairs), nil
}

// callReturningNothing runs a case, an EndCase or an End: why it stopped, if it did.
func callReturningNothing(name string, pairs []dispatch.Pair, fn func(*T, Config)) *dispatch.Stop {
	return call(name, func(t *T) { fn(t, configOf(pairs)) })
}

// call runs fn as the 0.2 call `name` (a case, or "init" / "end"): a failure, a skip,
// or nil. A panic is reported and traps, as in a 0.1 case (runCase).
func call(name string, fn func(*T)) *dispatch.Stop {
	all := Nodes()
	nodeNames := make([]string, len(all))
	for i, node := range all {
		nodeNames[i] = node.Name
	}
	t := &T{
		name:      name,
		nodeNames: nodeNames,
		timeout:   time.Duration(math.MaxInt64),
		helpers:   map[string]bool{},
		inSuite:   true,
	}
	runCase(t, fn)
	switch {
	case t.failure != nil: // a failure stays one, even after a skip
		f := t.failure
		return &dispatch.Stop{Fail: &host_test_0_1_0_protocol.FailResponse{
			Test:    name,
			File:    f.File,
			Line:    uint32(f.Line),
			Column:  uint32(f.Column),
			Message: f.Message,
		}}
	case t.skipReason != nil:
		return &dispatch.Stop{Skip: *t.skipReason}
	}
	return nil
}

// configOf is the config the host sent, as a map (a later pair wins).
func configOf(pairs []dispatch.Pair) Config {
	config := make(Config, len(pairs))
	for _, pair := range pairs {
		config[pair.Key] = pair.Value
	}
	return config
}

// pairsOf is config as the host takes it: the keys the call got, in that order (those
// still in config), then the new ones sorted, so the order never depends on Go's map.
func pairsOf(config Config, came []dispatch.Pair) []dispatch.Pair {
	out := make([]dispatch.Pair, 0, len(config))
	done := make(map[string]bool, len(config))
	for _, pair := range came {
		if value, ok := config[pair.Key]; ok && !done[pair.Key] {
			out = append(out, dispatch.Pair{Key: pair.Key, Value: value})
			done[pair.Key] = true
		}
	}
	var added []string
	for key := range config {
		if !done[key] {
			added = append(added, key)
		}
	}
	slices.Sort(added)
	for _, key := range added {
		out = append(out, dispatch.Pair{Key: key, Value: config[key]})
	}
	return out
}
