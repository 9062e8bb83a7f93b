//! `host run --break-on-failure`, non-interactively: the first failing test keeps its real
//! kvnode node up and reachable (a PING answered over TCP while the host waits) until the
//! `--continue-file` appears, then tears down and leaves no process behind. Without a
//! terminal on stdin and without `--continue-file`, the flag is refused.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::time::{Duration, Instant};

use common::{failing_suite, host, repo};
use serde_json::Value;

fn alive(pid: u32) -> bool {
    // A zombie has exited: only a process that still runs counts.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

#[test]
fn the_failed_tests_node_stays_up_until_the_continue_file_appears_and_then_nothing_is_left() {
    let suite = failing_suite(60);
    let scratch = tempfile::tempdir().unwrap();
    let go = scratch.path().join("go");
    let mut child = host()
        .current_dir(repo())
        .args(["run", suite.path().to_str().unwrap(), "--format", "json", "--break-on-failure"])
        .arg("--continue-file")
        .arg(&go)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run host");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut events: Vec<Value> = Vec::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        line.clear();
        let done = event["type"] == "break_started";
        events.push(event);
        if done {
            break;
        }
    }
    let started = events.last().filter(|e| e["type"] == "break_started").unwrap_or_else(|| panic!("no break: {events:?}"));
    assert_eq!(started["test"], "broken");
    assert!(started["how_to_continue"].as_str().unwrap().contains(&go.display().to_string()), "{started}");
    // The failure came first, and the node is not torn down.
    assert!(events.iter().any(|e| e["type"] == "case_finished" && e["outcome"]["status"] == "failed"));
    assert!(!events.iter().any(|e| e["type"] == "node_exited"), "{events:?}");
    let node = &started["nodes"][0];
    assert_eq!(node["node"], "first.dev");
    let pid = node["pid"].as_u64().expect("a running node") as u32;
    let address = node["addresses"][0].as_str().unwrap().to_string();
    assert!(std::path::Path::new(node["log_file"].as_str().unwrap()).is_file(), "{node}");

    // The host waits, and the node answers meanwhile.
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "the host went on without being told to");
    let mut conn = std::net::TcpStream::connect(&address).expect("the node is reachable during the break");
    conn.write_all(b"PING\n").unwrap();
    let mut reply = String::new();
    BufReader::new(&conn).read_line(&mut reply).unwrap();
    assert_eq!(reply.trim(), "PONG");
    drop(conn);
    assert!(alive(pid));

    // Continue: the host tears down and exits 1 (a case failed), leaving no process.
    std::fs::write(&go, "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the host did not go on after the continue file appeared");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    let rest: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    let types: Vec<&str> = rest.iter().filter_map(|e| e["type"].as_str()).collect();
    let ended = types.iter().position(|t| *t == "break_ended").expect("break_ended");
    assert_eq!(rest[ended]["why"], "continue file created");
    assert!(types[ended..].contains(&"node_exited") && types.contains(&"run_finished"), "{types:?}");
    assert!(!alive(pid), "node process {pid} is still running after the host exited");
    assert!(go.exists(), "the host never removes the user's file");
}

#[test]
fn without_a_terminal_or_a_continue_file_the_break_is_refused() {
    let suite = failing_suite(60);
    let output = host()
        .current_dir(repo())
        .args(["run", suite.path().to_str().unwrap(), "--break-on-failure"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stdin is not a terminal") && stderr.contains("--continue-file"), "{stderr}");
}
