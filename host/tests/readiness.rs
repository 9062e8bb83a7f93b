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
boot_timeout_secs = 2
"#,
    );
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let expected = "node sleepy: did not become ready within 2.0s (waiting for a stdout line matching /never printed/); still running";
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

/// The host's reading of a node's stdout, slowed down: 256 bytes a read, 1 ms apart — a
/// busy host, behind on a chatty node.
struct SlowReader {
    inner: host::nodes::supervisor::ByteStream,
    pause: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl tokio::io::AsyncRead for SlowReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let pause = self.pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(std::time::Duration::from_millis(1))));
        std::task::ready!(pause.as_mut().poll(cx));
        self.pause = None;
        let mut small = tokio::io::ReadBuf::new(buf.initialize_unfilled_to(buf.remaining().min(256)));
        let poll = self.inner.as_mut().poll_read(cx, &mut small);
        let filled = small.filled().len();
        buf.advance(filled);
        poll
    }
}

use std::future::Future as _;

/// Local processes, with the host's reading of their stdout slowed down.
struct SlowStdout;

impl host::nodes::Supervisor for SlowStdout {
    fn prepare(&self, spec: &host::nodes::NodeSpec) -> std::io::Result<()> {
        host::nodes::Local.prepare(spec)
    }
    fn start(&self, spec: &host::nodes::NodeSpec) -> std::io::Result<host::nodes::supervisor::Started> {
        let mut started = host::nodes::Local.start(spec)?;
        started.stdout.bytes = Box::pin(SlowReader { inner: started.stdout.bytes, pause: None });
        Ok(started)
    }
    fn signal(&self, pid: u32, signal: nix::sys::signal::Signal) -> std::io::Result<()> {
        host::nodes::Local.signal(pid, signal)
    }
    fn release(&self, pid: u32) {
        host::nodes::Local.release(pid)
    }
    fn is_alive(&self, pid: u32) -> bool {
        host::nodes::Local.is_alive(pid)
    }
    fn all_threads_stopped(&self, pid: u32) -> bool {
        host::nodes::Local.all_threads_stopped(pid)
    }
    fn memory(&self, pid: u32) -> std::io::Result<host::nodes::Memory> {
        host::nodes::Local.memory(pid)
    }
}

/// A node writes 6,000 lines to stdout, a line to stderr, then its `ready` event: three
/// pipes read by three tasks, and here the stdout one far behind. Once the host calls the
/// node ready, every one of those lines is in its journal — so a case failing right after
/// reports what the node said before it was ready.
#[test]
fn a_node_is_ready_only_once_what_it_wrote_before_its_ready_event_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let script = "yes x | head -n 6000; echo end-of-stdout; echo written-to-stderr >&2; echo '{\"name\":\"ready\"}' > \"$0\"; exec sleep 30";
    let spec = host::nodes::NodeSpec {
        name: "talker".into(),
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into(), dir.path().join("events").display().to_string()],
        env: Default::default(),
        cwd: dir.path().to_path_buf(),
        host: "127.0.0.1".into(),
        port: 1,
        ports: Vec::new(),
        listen: Vec::new(),
        home: dir.path().join("home"),
        event_pipe: dir.path().join("events"),
        log_file: dir.path().join("output.log"),
        ready: host::config::Readiness::Event("ready".into()),
        boot_timeout: std::time::Duration::from_secs(60),
        stop_timeout: std::time::Duration::from_secs(5),
        log_events: None,
        may_exit: false,
        runner: None,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let node = host::nodes::Node::with_supervisor(spec, std::sync::Arc::new(SlowStdout)).unwrap();
        node.start().unwrap();
        node.wait_ready().await.unwrap();
        // What the journal holds the moment the node is ready (the two streams' lines
        // interleave in the order they were read, not written).
        let lines: Vec<String> = node.output.last(10_000).iter().map(|entry| entry.item.text.clone()).collect();
        node.stop().await.unwrap();
        assert_eq!(lines.len(), 6002, "every line before the ready event is journaled; the last ones: {:?}", &lines[lines.len().saturating_sub(3)..]);
        assert_eq!(lines.iter().filter(|line| *line == "x").count(), 6000);
        assert!(lines.contains(&"end-of-stdout".to_string()) && lines.contains(&"written-to-stderr".to_string()), "{:?}", &lines[lines.len() - 3..]);
    });
}
