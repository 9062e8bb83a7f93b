//! A case that pauses itself for a person (`breaks.break-here`, test_server's `break/1`),
//! with the real binary, a real kvnode node and the `break-pause` component: the break
//! outlasts the case's timetrap, its timeout and the test's timeout, and none of them
//! fires; a continue file or Ctrl-C ends it. (That a break is skipped without a way to go
//! on, and returns true with one, is checked in all five languages by `suite_structure`.)

mod common;

use std::io::{BufRead as _, Read as _};
use std::time::Duration;

use common::{package, spawn_piped, suite};
use serde_json::Value;

/// The `pausing` test: 4 s for the test, 2 s for a case, and a case that sets a timetrap
/// of 300 ms before it breaks (seconds of margin for a loaded machine before the break).
fn pausing_suite() -> tempfile::TempDir {
    suite(&format!(
        r#"
runtime = {{ RepoPath = "{{repo}}/kvnode" }}

[[tests]]
name = "pausing"
test_package_paths = ["{}"]
timeout_secs = 4

[tests.sandbox]
case_timeout_secs = 2

[[tests.nodes]]
fake_node_name = "first.dev"
"#,
        package("break-pause")
    ))
}

/// A run stopped at its first break: the host, the events up to and including its
/// `break_started`, and the rest of its stdout.
struct AtBreak {
    child: std::process::Child,
    before: Vec<Value>,
    rest: std::io::BufReader<std::process::ChildStdout>,
}

/// Start `host run` with `args` and read its JSON events up to the first `break_started`.
#[allow(clippy::zombie_processes, reason = "the child goes to the caller, which waits for it")]
fn run_until_break(dir: &std::path::Path, args: &[&str]) -> AtBreak {
    let mut child = spawn_piped(dir, &[&["run", "--format", "json"], args].concat());
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut before = Vec::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            let status = child.wait().unwrap();
            panic!("the run ended ({status}) without a break: {stderr}");
        }
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let started = event["type"] == "break_started";
        before.push(event);
        if started {
            return AtBreak { child, before, rest: stdout };
        }
    }
}

fn events(rest: &mut std::io::BufReader<std::process::ChildStdout>) -> Vec<Value> {
    let mut text = String::new();
    rest.read_to_string(&mut text).unwrap();
    text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[test]
fn a_break_stops_the_cases_time_and_the_tests_until_told_to_go_on() {
    let dir = pausing_suite();
    let go_on = dir.path().join("go-on");
    let AtBreak { mut child, before, mut rest } = run_until_break(dir.path(), &["--continue-file", go_on.to_str().unwrap()]);
    let started = before.last().unwrap();
    assert_eq!(started["case"], "break-pause/pauses_past_its_limits", "{started}");
    assert_eq!(started["comment"], "pausing past a 300 ms timetrap", "{started}");
    assert_eq!(started["nodes"][0]["node"], "first.dev", "{started}");
    assert!(started["how_to_continue"].as_str().unwrap().contains(&format!("create the file {}", go_on.display())), "{started}");
    // Longer than the timetrap (0.3 s), the case's timeout (2 s) and the test's (4 s).
    std::thread::sleep(Duration::from_millis(4500));
    std::fs::write(&go_on, "").unwrap();
    let events = events(&mut rest);
    let status = child.wait().unwrap();
    let ended = of_type(&events, "break_ended");
    assert_eq!(ended.len(), 1, "{events:?}");
    assert_eq!(ended[0]["why"], "continue file created");
    let cases = of_type(&events, "case_finished");
    let outcomes: Vec<(&str, &str)> = cases.iter().map(|c| (c["case"].as_str().unwrap(), c["outcome"]["status"].as_str().unwrap())).collect();
    assert_eq!(outcomes, [("pauses_past_its_limits", "passed"), ("has_time_after_the_break", "passed")], "{cases:?}");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn ctrl_c_ends_a_break_and_interrupts_the_run() {
    let dir = pausing_suite();
    let never = dir.path().join("never-created");
    let AtBreak { mut child, before, mut rest } = run_until_break(dir.path(), &["--continue-file", never.to_str().unwrap()]);
    let pids: Vec<u64> = of_type(&before, "node_started").iter().filter_map(|e| e["pid"].as_u64()).collect();
    assert_eq!(pids.len(), 1, "{before:?}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let events = events(&mut rest);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{events:?}");
    let ended = of_type(&events, "break_ended");
    assert_eq!(ended.len(), 1, "{events:?}");
    assert_eq!(ended[0]["why"], "interrupted");
    let finished = of_type(&events, "run_finished");
    assert_eq!(finished.len(), 1, "{events:?}");
    assert_eq!(finished[0]["interrupted"], true);
    // The node of the run is gone with it.
    assert_eq!(of_type(&events, "node_exited").len(), 1, "{events:?}");
    assert!(!std::path::Path::new(&format!("/proc/{}", pids[0])).exists(), "node pid {} outlived the run", pids[0]);
}
