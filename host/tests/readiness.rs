//! Readiness by event, stdout line, port and command; boot timeouts explain themselves.

mod common;

use common::{declared_cases, run_in, suite, totals};

fn kv_suite(ready: &str) -> tempfile::TempDir {
    suite(&format!(
        r#"
runtime = {{ RepoPath = "{{repo}}/kvnode" }}

[[tests]]
test_package_paths = ["{{repo}}/test-packages/kv-cases"]

[[tests.nodes]]
fake_node_name = "first.dev"
ready = {ready}
"#
    ))
}

#[test]
fn nodes_are_ready_by_port_by_stdout_line_or_by_command() {
    let cases = declared_cases("kv-cases").len();
    for ready in [
        "{ port = true }",
        r#"{ stdout = "^kvnode first\\.dev listening on" }"#,
        r#"{ command = ["python3", "-c", "import socket; socket.create_connection(('{host}', {port}))"] }"#,
        r#"{ event = "ready" }"#,
    ] {
        let dir = kv_suite(ready);
        let run = run_in(dir.path(), &["run"]);
        assert_eq!(run.code, Some(0), "ready = {ready}\n{}", run.both());
        assert_eq!(totals(&run.stdout), (cases, 0, 0), "ready = {ready}\n{}", run.both());
    }
}

#[test]
fn a_node_that_never_gets_ready_fails_at_its_boot_timeout_with_what_was_awaited() {
    let dir = suite(
        r#"
runtime = { Command = "sh", args = ["-c", "echo warming up; exec sleep 30"] }

[[tests]]
name = "slow"
test_package_paths = ["{repo}/test-packages/kv-cases"]

[[tests.nodes]]
fake_node_name = "sleepy"
ready = { stdout = "never printed" }
boot_timeout_secs = 0.5
"#,
    );
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let expected = "node sleepy: did not become ready within 0.5s (waiting for a stdout line matching /never printed/); still running";
    assert!(run.stdout.contains(expected), "missing {expected:?}\n{}", run.both());
    assert!(run.stdout.contains("warming up"), "the node's output is shown: {}", run.both());
}

fn json_events(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

fn position(events: &[serde_json::Value], kind: &str, node: &str) -> usize {
    events.iter().position(|e| e["type"] == kind && e["node"] == node).unwrap_or_else(|| panic!("no {kind} of {node}"))
}

#[test]
fn a_node_with_after_boots_once_those_nodes_are_ready_and_the_others_boot_at_once() {
    let dir = suite(
        r#"
runtime = { Command = "sh", args = ["-c", "echo up; exec sleep 30"], ready = { stdout = "^up$" } }

[[tests]]
name = "order"
test_scripts = [{ path = "/bin/sh", args = ["-c", "exit 0"] }]

[[tests.nodes]]
name = "slow"
args = ["-c", "sleep 1; echo up; exec sleep 30"]

[[tests.nodes]]
name = "accuser"
after = ["slow"]

[[tests.nodes]]
name = "eager"
"#,
    );
    let run = run_in(dir.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = json_events(&run.stdout);
    assert!(position(&events, "node_started", "accuser") > position(&events, "node_ready", "slow"), "{}", run.both());
    // Without `after`, a node does not wait for the slow one.
    assert!(position(&events, "node_started", "eager") < position(&events, "node_ready", "slow"), "{}", run.both());
}

#[test]
fn nodes_are_ready_by_a_stderr_line_or_by_a_json_log_event_on_stderr() {
    let dir = suite(
        r#"
runtime = { Command = "sh" }

[[tests]]
name = "streams"
test_scripts = [{ path = "/bin/sh", args = ["-c", "exit 0"] }]

[[tests.nodes]]
name = "plain"
args = ["-c", "echo starting; echo ready >&2; exec sleep 30"]
ready = { stderr = "^ready$" }

[[tests.nodes]]
name = "zap"
args = ["-c", "echo '{{\"level\":\"info\",\"msg\":\"serving on 127.0.0.1:1\"}}' >&2; exec sleep 30"]
log_events = { key = "msg", names = [{ pattern = "^serving on (?P<address>\\S+)", name = "serving" }] }
ready = { event = "serving" }
"#,
    );
    let run = run_in(dir.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = json_events(&run.stdout);
    position(&events, "node_ready", "plain");
    position(&events, "node_ready", "zap");

    // The same line on stdout does not make a stderr pattern match.
    let dir = suite(
        r#"
runtime = { Command = "sh", args = ["-c", "echo ready; exec sleep 30"] }

[[tests]]
name = "wrong-stream"
test_scripts = [{ path = "/bin/sh", args = ["-c", "exit 0"] }]

[[tests.nodes]]
name = "quiet"
ready = { stderr = "^ready$" }
boot_timeout_secs = 0.5
"#,
    );
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let expected = "node quiet: did not become ready within 0.5s (waiting for a stderr line matching /^ready$/)";
    assert!(run.stdout.contains(expected), "missing {expected:?}\n{}", run.both());
}
