//! No process started by the host survives it; scripts run with the nodes' details.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{run_in, suite, totals};

/// Whether `pid` is a live process (a zombie counts as dead: it has exited).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Processes whose command line contains `token`.
fn processes_with(token: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(token))
                && alive(*pid)
        })
        .collect()
}

fn write_script(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\nset -eu\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn nodes_and_script_children_are_gone_when_host_exits() {
    let token = format!("lifetime{}", std::process::id());
    let dir = suite(&format!(
        r#"
runtime = {{ RepoPath = "{{repo}}/kvnode" }}

[[tests]]
name = "lifetime"
test_package_paths = ["{{repo}}/test-packages/kv-cases"]
setup_scripts = [{{ path = "sleeper.sh", args = ["{{port:{token}-a}}"] }}]
test_scripts = ["record.sh"]

[[tests.nodes]]
fake_node_name = "{token}-a"

[[tests.nodes]]
fake_node_name = "{token}-b"

[[tests]]
name = "failing-script"
test_scripts = [{{ path = "fail.sh", args = ["3"] }}]
"#
    ));
    // The setup script leaves a grandchild behind, as daemons' helpers do.
    write_script(dir.path(), "sleeper.sh", &format!("sh -c 'sleep 3600; :' {token} &\necho $! > sleeper.pid\nwait"));
    // The test script sees the nodes and records every process of this run.
    let record = format!(
        "[ \"$HOST_NODES\" = \"{token}-a,{token}-b\" ] || {{ echo \"HOST_NODES=$HOST_NODES\"; exit 1; }}\n\
         [ -n \"$HOST_NODE_{upper}_A_PORT\" ] || {{ echo no port variable; env | grep HOST_; exit 1; }}\n\
         for i in $(seq 100); do [ -s sleeper.pid ] && break; sleep 0.05; done\n\
         pgrep -f {token} > pids.txt || true\n\
         [ $(wc -l < pids.txt) -ge 3 ] || {{ echo only these processes:; cat pids.txt; exit 1; }}",
        upper = token.to_uppercase()
    );
    write_script(dir.path(), "record.sh", &record);
    write_script(dir.path(), "fail.sh", "echo failing on purpose\nexit \"$1\"");

    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert!(run.stdout.contains("lifetime/script"), "{}", run.both());
    assert!(run.stdout.contains("script exited with code 3"), "{}", run.both());
    assert!(run.stdout.contains("failing on purpose"), "the script's output is shown: {}", run.both());
    let (passed, failed, _) = totals(&run.stdout);
    assert_eq!(failed, 1, "{}", run.both());
    assert!(passed > 1, "{}", run.both());

    let recorded: Vec<u32> = std::fs::read_to_string(dir.path().join("pids.txt"))
        .unwrap()
        .lines()
        .map(|line| line.trim().parse().unwrap())
        .collect();
    let sleeper: u32 = std::fs::read_to_string(dir.path().join("sleeper.pid")).unwrap().trim().parse().unwrap();
    assert!(recorded.contains(&sleeper), "the sleeper was running during the test: {recorded:?}");
    // Reparented orphans are reaped by init asynchronously: allow it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && recorded.iter().any(|pid| alive(*pid)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survivors: Vec<u32> = recorded.iter().copied().filter(|pid| alive(*pid)).collect();
    assert!(survivors.is_empty(), "processes outlived host: {survivors:?}");
    assert!(processes_with(&token).is_empty(), "processes outlived host: {:?}", processes_with(&token));
}

/// A suite whose test script announces itself in `started` and then blocks, so the host
/// is mid-run with its nodes up. Nodes are named after `token`.
fn blocking_suite(token: &str) -> tempfile::TempDir {
    let dir = suite(&format!(
        r#"
runtime = {{ RepoPath = "{{repo}}/kvnode" }}

[[tests]]
name = "blocked"
test_scripts = ["block.sh"]
timeout_secs = 300

[[tests.nodes]]
fake_node_name = "{token}-a"

[[tests.nodes]]
fake_node_name = "{token}-b"
"#
    ));
    // `sh` runs `sleep` as a child that the kernel's parent-death signal does not cover:
    // only the watchdog can take it down when the host is SIGKILLed.
    write_script(dir.path(), "block.sh", &format!("touch started\nsh -c 'sleep 300; :' {token}-script"));
    dir
}

/// Start `host run` in `dir` and wait until its test script runs; returns the child and
/// the pids of the run's nodes.
#[allow(clippy::zombie_processes, reason = "the child goes to the caller, which waits for it; a failed wait kills and waits here")]
fn start_blocked_run(dir: &Path, token: &str) -> (std::process::Child, Vec<u32>) {
    let mut child = common::host()
        .current_dir(dir)
        .arg("run")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // On the way out of a failed wait, the host goes too (its watchdog then takes its nodes).
    fn give_up(child: &mut std::process::Child, why: String) -> ! {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{why}");
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while !dir.join("started").exists() {
        if Instant::now() >= deadline {
            give_up(&mut child, "the run never reached its test script".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Both nodes, the script's `sh -c`, and that shell's `sleep`.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut started = processes_with(token);
        started.extend(children_of(&started));
        if started.len() >= 4 {
            return (child, started);
        }
        if Instant::now() >= deadline {
            give_up(&mut child, format!("expected 2 nodes, a shell and its sleep: {started:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Live children of any of `parents`.
fn children_of(parents: &[u32]) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            ppid.is_some_and(|ppid| parents.contains(&ppid)) && alive(*pid)
        })
        .collect()
}

fn all_gone_within(pids: &[u32], limit: Duration) -> Vec<u32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline && pids.iter().any(|pid| alive(*pid)) {
        std::thread::sleep(Duration::from_millis(10));
    }
    pids.iter().copied().filter(|pid| alive(*pid)).collect()
}

#[test]
fn sigkill_of_the_host_takes_its_nodes_and_what_they_started_down() {
    let token = format!("sigkill{}", std::process::id());
    let dir = blocking_suite(&token);
    let (mut child, nodes) = start_blocked_run(dir.path(), &token);
    child.kill().unwrap(); // SIGKILL: the host gets no chance to clean up
    child.wait().unwrap();
    // At once for the nodes (parent-death signal); the script's children when the watchdog
    // wakes, which a loaded machine may delay: a generous bound, not a speed claim.
    let survivors = all_gone_within(&nodes, Duration::from_secs(15));
    assert!(survivors.is_empty(), "processes outlived a SIGKILLed host: {survivors:?}");
    // Its run directory stays (it had no chance to remove it) until the next run sweeps it.
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("host-run-")))
        .filter(|path| path.join("1-1-blocked").join(format!("{token}-a")).is_dir())
        .collect();
    // (None: a run of another test binary, at the same moment, swept it already.)
    assert!(leftovers.len() <= 1, "{leftovers:?}");
    let quick = suite("[[tests]]\nname = \"quick\"\ntest_scripts = [\"ok.sh\"]\n");
    write_script(quick.path(), "ok.sh", "true");
    let run = run_in(quick.path(), &["run"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    for left in &leftovers {
        assert!(!left.exists(), "the next run removes what a SIGKILLed host left: {}", left.display());
    }
}

#[test]
fn ctrl_c_stops_the_run_terminates_nodes_and_exits_130() {
    let token = format!("sigint{}", std::process::id());
    let dir = blocking_suite(&token);
    let (child, nodes) = start_blocked_run(dir.path(), &token);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let output = child.wait_with_output().unwrap();
    let run = common::Run::from(output);
    assert_eq!(run.code, Some(130), "{}", run.both());
    assert!(run.stderr.contains("interrupted: stopping the nodes"), "{}", run.both());
    assert!(run.stdout.contains("interrupted while it ran: the run was stopped and the test's nodes terminated"), "{}", run.both());
    assert!(run.stdout.contains("0 passed, 1 failed, 0 skipped"), "the interrupted script counts once, as failed\n{}", run.both());
    let survivors = all_gone_within(&nodes, Duration::from_secs(1));
    assert!(survivors.is_empty(), "nodes outlived the interrupted run: {survivors:?}");
    assert!(processes_with(&token).is_empty());
}

#[test]
fn two_runs_of_one_suite_at_once_both_pass() {
    let dir = suite(
        r#"
runtime = { RepoPath = "{repo}/kvnode" }

[[tests]]
test_package_paths = ["{repo}/test-packages/kv-replication", "{repo}/test-packages/kv-cases"]

[[tests.nodes]]
fake_node_name = "first.dev"

[[tests.nodes]]
fake_node_name = "second.dev"
"#,
    );
    let runs: Vec<_> = (0..2)
        .map(|_| common::host().current_dir(dir.path()).arg("run").stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap())
        .collect();
    for child in runs {
        let run = common::Run::from(child.wait_with_output().unwrap());
        assert_eq!(run.code, Some(0), "{}", run.both());
        let (passed, failed, skipped) = totals(&run.stdout);
        assert!(passed > 0 && failed == 0 && skipped == 0, "{}", run.both());
    }
}
