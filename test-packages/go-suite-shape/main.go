// The suite shape of the 0.2 world (wit/v0.2/tester.wit), the Go edition of the suite
// every SDK implements alike (see host/tests/suite_structure.rs and
// test-packages/suite-shape): fixtures with a config, a user skip, a comment, docs, a
// timetrap that fires and one cancelled. Every call appends to /scratch/order.log, so
// the last case can check the order. SUITE_INIT=fail|skip and SUITE_END=fail make the
// fixtures fail or skip.
package main

import (
	"os"
	"time"

	"hosttest"
)

var _ = hosttest.Register(hosttest.Suite{
	Init:     setup,
	End:      teardown,
	InitCase: setupCase,
	EndCase:  teardownCase,
	Cases: []hosttest.SuiteCase{
		{Name: "config_passes_through", Doc: "init's and init-case's config reach the case", Run: configPassesThrough},
		{Name: "skips_itself", Doc: "skips itself with a reason", Run: skipsItself},
		{Name: "leaves_a_comment", Doc: "leaves a comment for the report", Run: leavesAComment},
		{Name: "init_case_fails_here", Run: initCaseFailsHere},
		{Name: "timetrap_fires", Doc: "a timetrap of 500 ms stops a case that sleeps 5 s", Run: timetrapFires},
		{Name: "cancelled_timetrap_does_not_fire", Doc: "a cancelled timetrap lets the case sleep past it", Run: cancelledTimetrapDoesNotFire},
		{Name: "order_is_kept", Doc: "fixtures and cases ran in suite order", Run: orderIsKept},
	},
})

func main() {} // Go wants it; a reactor never calls it

// note appends line to /scratch/order.log.
func note(t *hosttest.T, line string) {
	t.Helper()
	log, err := os.OpenFile("/scratch/order.log", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	t.NoError(err, "scratch is writable")
	defer log.Close()
	_, err = log.WriteString(line + "\n")
	t.NoError(err, "scratch is writable")
}

func setup(t *hosttest.T, config hosttest.Config) hosttest.Config {
	note(t, "init")
	switch os.Getenv("SUITE_INIT") {
	case "fail":
		t.Fatal("init was told to fail")
	case "skip":
		t.Skip("init was told to skip")
	}
	config["init"] = "done"
	return config
}

func teardown(t *hosttest.T, config hosttest.Config) {
	note(t, "end")
	t.Equal(config["init"], "done", "end sees init's config")
	if os.Getenv("SUITE_END") == "fail" {
		t.Fatal("end was told to fail")
	}
}

func setupCase(t *hosttest.T, config hosttest.Config) hosttest.Config {
	name := t.Name()
	note(t, "init_case "+name)
	if name == "init_case_fails_here" {
		t.Fatalf("init-case refuses %s", name)
	}
	config["case"] = name
	return config
}

func teardownCase(t *hosttest.T, config hosttest.Config) {
	note(t, "end_case "+t.Name())
	t.Equal(config["case"], t.Name(), "end-case sees init-case's config")
}

func configPassesThrough(t *hosttest.T, config hosttest.Config) {
	note(t, "case config_passes_through")
	t.Equal(config["init"], "done")
	t.Equal(config["case"], "config_passes_through")
	t.Equal(config["package"], "go-suite-shape")
}

func skipsItself(t *hosttest.T, config hosttest.Config) {
	note(t, "case skips_itself")
	t.Skip("not on this platform")
}

func leavesAComment(t *hosttest.T, config hosttest.Config) {
	note(t, "case leaves_a_comment")
	hosttest.Comment("first comment")
	if hosttest.BreakHere("look at first.dev") {
		hosttest.Comment("the answer is 42, after a break")
	} else {
		hosttest.Comment("the answer is 42")
	}
}

func initCaseFailsHere(t *hosttest.T, config hosttest.Config) {
	note(t, "case init_case_fails_here")
	t.Fatal("never runs: its init-case fails")
}

func timetrapFires(t *hosttest.T, config hosttest.Config) {
	note(t, "case timetrap_fires")
	hosttest.Timetrap.Set(500 * time.Millisecond)
	time.Sleep(5 * time.Second)
	t.Fatal("the timetrap did not fire")
}

func cancelledTimetrapDoesNotFire(t *hosttest.T, config hosttest.Config) {
	note(t, "case cancelled_timetrap_does_not_fire")
	t.Equal(hosttest.Timetrap.ScaleFactor(), 1.0)
	hosttest.Timetrap.Set(300 * time.Millisecond)
	hosttest.Timetrap.Cancel()
	time.Sleep(400 * time.Millisecond)
}

const expectedOrder = `init
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
`

func orderIsKept(t *hosttest.T, config hosttest.Config) {
	note(t, "case order_is_kept")
	log, err := os.ReadFile("/scratch/order.log")
	t.NoError(err)
	t.Equal(string(log), expectedOrder, "the order of calls")
}
