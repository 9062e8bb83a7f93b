//! The etcd example suite: a real distributed system nobody here wrote (Debian's
//! etcd-server), three members with two host-assigned ports each (client and peer),
//! readiness and leader changes from etcd's JSON log on stderr, and a fourth member a
//! package adds mid-test from a template.

mod common;

use common::{declared_cases, repo, run_in, suite};
use serde_json::Value;

fn require_etcd() {
    assert!(common::has_tool("etcd"), "etcd is not installed: `apt-get install etcd-server` (scripts/test does this)");
}

fn events(stdout: &str) -> Vec<Value> {
    stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|event| event["type"] == kind).collect()
}

/// Whether a process `pid` is alive and still the etcd the host started.
fn etcd_alive(pid: u64) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains("etcd"))
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| stat.contains(") Z "))
}

#[test]
fn a_three_member_cluster_elects_a_new_leader_and_takes_a_member_added_mid_test() {
    require_etcd();
    // The Rust package's test; the Python one (etcd-python) is the next test.
    let run = run_in(&repo(), &["run", "examples/etcd", "etcd-cluster/", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = events(&run.stdout);
    let cases = of_type(&events, "case_finished");
    assert_eq!(cases.len(), declared_cases("etcd-cluster").len(), "{}", run.both());
    assert!(cases.iter().all(|case| case["outcome"]["status"] == "passed"), "{}", run.both());
    let started = of_type(&events, "node_started");
    let names: Vec<&str> = started.iter().filter_map(|event| event["node"].as_str()).collect();
    // e1–e3 at boot, the killed leader again, e4 added by the package; never the template.
    assert_eq!(names.iter().filter(|name| ["e1", "e2", "e3"].contains(name)).count(), 4, "{names:?}");
    assert_eq!(names.iter().filter(|name| **name == "e4").count(), 1, "{names:?}");
    assert!(!names.contains(&"member"), "{names:?}");
    let exited: Vec<&str> = of_type(&events, "node_exited").iter().filter_map(|event| event["node"].as_str()).collect();
    assert!(exited.contains(&"e4"), "the added member is stopped at the test's end: {exited:?}");
    for event in &started {
        let pid = event["pid"].as_u64().unwrap();
        assert!(!etcd_alive(pid), "etcd {} (pid {pid}) outlived the run", event["node"]);
    }
}

#[test]
fn the_suite_twice_under_two_jobs_gets_two_clusters_of_its_own() {
    require_etcd();
    let example = std::fs::read_to_string(repo().join("examples/etcd/tests.toml")).unwrap();
    let package = repo().join("test-packages/etcd-cluster").display().to_string();
    let example = example.replace("../../test-packages/etcd-cluster", &package);
    // The runtime and the Rust package's test, twice.
    let example = &example[..example.find("\n# The same cluster again").unwrap()];
    let tests = &example[example.find("[[tests]]").unwrap()..];
    let twice = format!("{example}\n{}", tests.replace("name = \"etcd-cluster\"", "name = \"etcd-cluster-again\""));
    let dir = suite(&twice);
    let run = run_in(dir.path(), &["run", "tests.toml", "-j", "2", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = events(&run.stdout);
    let passed = of_type(&events, "case_finished").iter().filter(|case| case["outcome"]["status"] == "passed").count();
    assert_eq!(passed, 2 * declared_cases("etcd-cluster").len(), "{}", run.both());
    // Both tests ran at once: the second started before the first finished.
    let position = |kind: &str, test: &str| events.iter().position(|e| e["type"] == kind && e["test"] == test).unwrap();
    assert!(position("test_started", "etcd-cluster-again") < position("test_finished", "etcd-cluster"), "{}", run.both());
}

#[test]
fn the_python_package_drives_the_same_cluster() {
    require_etcd();
    assert!(common::has_tool("componentize-py"), "componentize-py is not installed (scripts/install-tools installs it)");
    let run = run_in(&repo(), &["run", "examples/etcd", "etcd-python/", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = events(&run.stdout);
    let cases = of_type(&events, "case_finished");
    assert_eq!(cases.len(), 3, "{}", run.both());
    assert!(cases.iter().all(|case| case["outcome"]["status"] == "passed" && case["package"] == "etcd-python"), "{}", run.both());
    let names: Vec<&str> = of_type(&events, "node_started").iter().filter_map(|event| event["node"].as_str()).collect();
    assert!(names.contains(&"e4"), "{names:?}");
}
