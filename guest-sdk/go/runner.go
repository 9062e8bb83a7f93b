package hosttest

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"hosttest/internal/wit/imports/host_test_0_1_0_outcome"
	"hosttest/internal/wit/imports/host_test_0_1_0_protocol"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// listCases implements `suite.list-cases`.
func listCases() []string {
	if registered != nil {
		panic("hosttest: the package registers a 0.2 suite (hosttest.Register), but this component is of the 0.1 world `tester`: build with WIT/v0.2 suite-tester")
	}
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.name
	}
	return names
}

// handle implements `suite.handle`: run the cases the request names (every case when it
// names none), in order, stopping at the first failure.
func handle(request host_test_0_1_0_protocol.Request) host_test_0_1_0_protocol.Response {
	run := request.Run()
	selected := cases
	if len(run.TestNames) > 0 {
		selected = nil
		for _, name := range run.TestNames {
			found := false
			for _, c := range cases {
				if c.name == name {
					selected = append(selected, c)
					found = true
					break
				}
			}
			if !found {
				message := fmt.Sprintf("no case named %q (cases: %s)", name, strings.Join(listCases(), ", "))
				return failed(host_test_0_1_0_protocol.FailResponse{Test: name, File: "<request>", Message: message})
			}
		}
	}
	for _, c := range selected {
		t := &T{
			name:      c.name,
			nodeNames: run.InputNodeNames,
			timeout:   time.Duration(run.TestTimeout) * time.Second,
			helpers:   map[string]bool{},
		}
		runCase(t, c.fn)
		if f := t.failure; f != nil {
			return failed(host_test_0_1_0_protocol.FailResponse{
				Test:    c.name,
				File:    f.File,
				Line:    uint32(f.Line),
				Column:  uint32(f.Column),
				Message: f.Message,
			})
		}
	}
	return host_test_0_1_0_protocol.MakeResponseRun(witTypes.Ok[witTypes.Unit, host_test_0_1_0_protocol.FailResponse](witTypes.Unit{}))
}

func failed(response host_test_0_1_0_protocol.FailResponse) host_test_0_1_0_protocol.Response {
	return host_test_0_1_0_protocol.MakeResponseRun(witTypes.Err[witTypes.Unit](response))
}

// runCase runs one case (or 0.2 fixture). t.FailNow's and t.Skip's panics end it
// quietly. Any other panic is reported to the host (message and the panicking line of
// the package's own code) and then goes on, so the package traps with Go's own panic
// output, as a Rust package does.
func runCase(t *T, fn func(*T)) {
	defer func() {
		value := recover()
		if value == nil {
			return
		}
		switch value.(type) {
		case fatal, skipped:
			return
		}
		file, line := panicLocation()
		host_test_0_1_0_outcome.ReportFailure(host_test_0_1_0_protocol.FailResponse{
			Test:    t.name,
			File:    file,
			Line:    uint32(line),
			Column:  0,
			Message: fmt.Sprintf("panicked: %v", value),
		})
		panic(value)
	}()
	fn(t)
}

// The main module's path: with -trimpath, source files of the package are named
// `MODULE/file.go`; they are reported relative to the module (the package directory).
var mainModule = func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info.Main.Path
	}
	return ""
}()

// ownCode tells whether a function belongs to the test package itself (its main package
// or another package of its module), rather than to this SDK, the runtime or a library.
func ownCode(function string) bool {
	return strings.HasPrefix(function, "main.") ||
		(mainModule != "" && mainModule != "hosttest" && strings.HasPrefix(function, mainModule+"/"))
}

// sdkCode tells whether a function belongs to this SDK.
func sdkCode(function string) bool {
	return strings.HasPrefix(function, "hosttest.") || strings.HasPrefix(function, "hosttest/")
}

// sourceFile is a frame's file as the host can find it: relative to the package's module
// root when built with -trimpath, the path the compiler saw otherwise.
func sourceFile(file string) string {
	if mainModule != "" && strings.HasPrefix(file, mainModule+"/") {
		return strings.TrimPrefix(file, mainModule+"/")
	}
	return file
}

func frames(skip int) *runtime.Frames {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(skip+1, pcs)
	return runtime.CallersFrames(pcs[:n])
}

// callerLocation is the first frame outside this SDK and the case's helpers: the line
// that called t.Fatalf (or an assertion).
func (t *T) callerLocation() (string, int) {
	iter := frames(2)
	for {
		frame, more := iter.Next()
		if frame.Function != "" && !sdkCode(frame.Function) && !strings.HasPrefix(frame.Function, "runtime.") && !t.helpers[frame.Function] {
			return sourceFile(frame.File), frame.Line
		}
		if !more {
			return "<unknown>", 0
		}
	}
}

// panicLocation is, from inside the deferred recover, the innermost frame of the
// package's own code below the panic; failing that, the first frame outside the runtime
// and this SDK.
func panicLocation() (string, int) {
	var fallback *runtime.Frame
	iter := frames(2)
	for {
		frame, more := iter.Next()
		if ownCode(frame.Function) {
			return sourceFile(frame.File), frame.Line
		}
		if fallback == nil && frame.Function != "" && !sdkCode(frame.Function) && !strings.HasPrefix(frame.Function, "runtime.") {
			copied := frame
			fallback = &copied
		}
		if !more {
			break
		}
	}
	if fallback != nil {
		return sourceFile(fallback.File), fallback.Line
	}
	return "<unknown>", 0
}

// callerFunction is the name of the function `skip` frames above the caller.
func callerFunction(skip int) string {
	pc, _, _, ok := runtime.Caller(skip)
	if !ok {
		return ""
	}
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Name()
	}
	return ""
}

// equal is reflect.DeepEqual, except that integers compare by value whatever their types
// (so t.Equal(event.Seq, 0) works).
func equal(a, b any) bool {
	if x, ok := integer(a); ok {
		if y, ok := integer(b); ok {
			return x == y
		}
	}
	return reflect.DeepEqual(a, b)
}

// integer is v as a decimal string, when v is an integer of any type.
func integer(v any) (string, bool) {
	value := reflect.ValueOf(v)
	switch value.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(value.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(value.Uint(), 10), true
	}
	return "", false
}

// show formats a value for a failure message: strings quoted, everything else with %+v.
func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%+v", v)
}
