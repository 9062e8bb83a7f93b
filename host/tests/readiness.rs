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
