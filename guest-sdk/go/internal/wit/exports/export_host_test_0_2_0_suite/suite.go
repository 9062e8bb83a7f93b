// Package export_host_test_0_2_0_suite implements the exported `suite` interface of the
// 0.2 world, `suite-tester` (wit/v0.2/tester.wit). build.sh generates the rest of
// internal/wit from the contract with `wit-bindgen go --pkg-name hosttest/internal/wit
// --generate-stubs --include-versions` and replaces the generated stubs of this package
// (wit_bindings.go) by this file. Only a component of the 0.2 world imports this
// package, so only such a component has the 0.2 imports set in dispatch.Imports.
package export_host_test_0_2_0_suite

import (
	"hosttest/internal/dispatch"
	"hosttest/internal/wit/imports/host_test_0_2_0_annotate"
	"hosttest/internal/wit/imports/host_test_0_2_0_breaks"
	"hosttest/internal/wit/imports/host_test_0_2_0_timetrap"
	"hosttest/internal/wit/imports/host_test_0_2_0_types"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

func init() {
	dispatch.Imports = &dispatch.SuiteImports{
		Comment:             host_test_0_2_0_annotate.Comment,
		BreakHere:           host_test_0_2_0_breaks.BreakHere,
		TimetrapSet:         host_test_0_2_0_timetrap.Set,
		TimetrapCancel:      host_test_0_2_0_timetrap.Cancel,
		TimetrapScaleFactor: host_test_0_2_0_timetrap.ScaleFactor,
	}
}

// config is the contract's `config`.
type config = []witTypes.Tuple2[string, string]

// ListCases returns the package's cases with their docs, in declaration order.
func ListCases() []host_test_0_2_0_types.CaseInfo {
	cases := dispatch.Suite.ListCases()
	infos := make([]host_test_0_2_0_types.CaseInfo, len(cases))
	for i, c := range cases {
		infos[i] = host_test_0_2_0_types.CaseInfo{Name: c.Name, Doc: c.Doc}
	}
	return infos
}

// Init runs the package's `init` fixture.
func Init(cfg config) witTypes.Result[config, host_test_0_2_0_types.Stop] {
	out, stop := dispatch.Suite.Init(pairs(cfg))
	return configResult(out, stop)
}

// InitCase runs the package's `init-case` fixture for case name.
func InitCase(name string, cfg config) witTypes.Result[config, host_test_0_2_0_types.Stop] {
	out, stop := dispatch.Suite.InitCase(name, pairs(cfg))
	return configResult(out, stop)
}

// RunCase runs case name.
func RunCase(name string, cfg config) witTypes.Result[witTypes.Unit, host_test_0_2_0_types.Stop] {
	return unitResult(dispatch.Suite.RunCase(name, pairs(cfg)))
}

// EndCase runs the package's `end-case` fixture for case name.
func EndCase(name string, cfg config) witTypes.Result[witTypes.Unit, host_test_0_2_0_types.Stop] {
	return unitResult(dispatch.Suite.EndCase(name, pairs(cfg)))
}

// End runs the package's `end` fixture.
func End(cfg config) witTypes.Result[witTypes.Unit, host_test_0_2_0_types.Stop] {
	return unitResult(dispatch.Suite.End(pairs(cfg)))
}

func pairs(cfg config) []dispatch.Pair {
	out := make([]dispatch.Pair, len(cfg))
	for i, pair := range cfg {
		out[i] = dispatch.Pair{Key: pair.F0, Value: pair.F1}
	}
	return out
}

func configResult(out []dispatch.Pair, stop *dispatch.Stop) witTypes.Result[config, host_test_0_2_0_types.Stop] {
	if stop != nil {
		return witTypes.Err[config](witStop(stop))
	}
	cfg := make(config, len(out))
	for i, pair := range out {
		cfg[i] = witTypes.Tuple2[string, string]{F0: pair.Key, F1: pair.Value}
	}
	return witTypes.Ok[config, host_test_0_2_0_types.Stop](cfg)
}

func unitResult(stop *dispatch.Stop) witTypes.Result[witTypes.Unit, host_test_0_2_0_types.Stop] {
	if stop != nil {
		return witTypes.Err[witTypes.Unit](witStop(stop))
	}
	return witTypes.Ok[witTypes.Unit, host_test_0_2_0_types.Stop](witTypes.Unit{})
}

func witStop(stop *dispatch.Stop) host_test_0_2_0_types.Stop {
	if stop.Fail != nil {
		return host_test_0_2_0_types.MakeStopFail(*stop.Fail)
	}
	return host_test_0_2_0_types.MakeStopSkip(stop.Skip)
}
