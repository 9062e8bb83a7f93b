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
