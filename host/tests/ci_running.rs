//! Running like a CI tool: JSON lines, JUnit, selection, partitions, parallel tests,
//! retries, repeats, fail-fast and exit codes — all through the real binary.

mod common;

use std::collections::BTreeSet;

use common::{declared_cases, host, package, repo, run_in, suite, totals};
use serde_json::Value;

/// A test with the failing package, then one with kv-cases; one kvnode each.
fn mixed_suite() -> tempfile::TempDir {
    suite(&format!(
        r#"
runtime = {{ RepoPath = "{{repo}}/kvnode" }}

[[tests]]
name = "broken"
tags = ["bad"]
test_package_paths = ["{failing}", "{kv}"]

[[tests.nodes]]
fake_node_name = "first.dev"

[[tests]]
name = "fine"
tags = ["good"]
test_package_paths = ["{kv}"]

[[tests.nodes]]
fake_node_name = "first.dev"
"#,
        failing = package("failing"),
        kv = package("kv-cases")
    ))
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect()
}

#[test]
fn json_lines_parse_and_the_last_one_carries_matching_totals() {
    let dir = mixed_suite();
    let run = run_in(dir.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let events = json_lines(&run.stdout);
    assert!(events.iter().all(|event| event["type"].is_string() && event["time"].is_number()), "{}", run.stdout);
    let cases: Vec<&Value> = events.iter().filter(|e| e["type"] == "case_finished").collect();
    let count = |status: &str| cases.iter().filter(|e| e["outcome"]["status"] == status).count() as u64;
    let last = events.last().unwrap();
    assert_eq!(last["type"], "run_finished");
    assert_eq!(last["totals"]["passed"].as_u64(), Some(count("passed")));
    assert_eq!(last["totals"]["failed"].as_u64(), Some(count("failed")));
    assert_eq!(last["totals"]["skipped"].as_u64(), Some(count("skipped")));
    let failing = declared_cases("failing").len() as u64;
    assert_eq!(count("failed"), failing - 1);
    let failure = cases.iter().find(|e| e["case"] == "fails_with_message").unwrap();
    assert_eq!(failure["outcome"]["failure"]["file"], "test-packages/failing/src/lib.rs".to_string().replace("test-packages", &format!("{}/test-packages", repo().display())));
    assert!(failure["outcome"]["failure"]["line"].as_u64().unwrap() > 0);
    assert!(events.iter().any(|e| e["type"] == "node_ready" && e["node"] == "first.dev"));
}

#[test]
fn junit_parses_with_a_third_party_parser_and_counts_match() {
    let dir = mixed_suite();
    let junit = dir.path().join("junit.xml");
    let run = run_in(dir.path(), &["run", "--junit", junit.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let (passed, failed, skipped) = totals(&run.stdout);
    let file = std::io::BufReader::new(std::fs::File::open(&junit).unwrap());
    let suites = junit_parser::from_reader(file).expect("the JUnit file parses");
    let names: BTreeSet<&str> = suites.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["broken/failing", "broken/kv-cases", "fine/kv-cases"]));
    let cases: Vec<_> = suites.suites.iter().flat_map(|s| &s.cases).collect();
    let failures = cases.iter().filter(|c| c.status.is_failure()).count();
    let skips = cases.iter().filter(|c| c.status.is_skipped()).count();
    assert_eq!((cases.len() - failures - skips, failures, skips), (passed, failed, skipped));
    let failure = cases.iter().find(|c| c.original_name == "fails_with_message").expect("a testcase named fails_with_message");
    assert_eq!(failure.name, "broken/failing::fails_with_message");
    let message = &failure.status.failure_as_ref().message;
    assert!(message.contains("src/lib.rs:") && message.contains("the answer is 42"), "{message}");
}

fn listed(dir: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let mut command = host();
    command.current_dir(dir).arg("list").args(extra);
    for (key, value) in env {
        command.env(key, value);
    }
    let run = common::Run::from(command.output().unwrap());
    let ids: Vec<String> = run.stdout.lines().filter(|line| line.matches('/').count() == 2 || line.contains("/script:")).map(String::from).collect();
    // 0 when something is listed, 3 (nothing selected) exactly when the list is empty.
    assert_eq!(run.code, Some(if ids.is_empty() { 3 } else { 0 }), "{}", run.both());
    ids
}

#[test]
fn partitions_are_disjoint_and_their_union_is_the_suite() {
    let all = listed(&repo(), &[], &[]);
    assert!(all.len() > 10, "{all:?}");
    for scheme in ["hash", "slice"] {
        let shards: Vec<Vec<String>> = (1..=3).map(|k| listed(&repo(), &["--partition", &format!("{scheme}:{k}/3")], &[])).collect();
        let mut union = Vec::new();
        for shard in &shards {
            for id in shard {
                assert!(!union.contains(id), "{scheme}: {id} is in two shards");
                union.push(id.clone());
            }
        }
        union.sort();
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(union, expected, "{scheme}: the shards do not cover the suite");
    }
    let gitlab = listed(&repo(), &["--partition", "hash:ci"], &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")]);
    assert_eq!(gitlab, listed(&repo(), &["--partition", "hash:2/3"], &[]));
    let k8s = listed(&repo(), &["--partition", "slice:ci"], &[("JOB_COMPLETION_INDEX", "0"), ("HOST_PARTITION_TOTAL", "3")]);
    assert_eq!(k8s, listed(&repo(), &["--partition", "slice:1/3"], &[]));
}

#[test]
fn filters_select_by_substring_glob_tag_and_exclusion() {
    let dir = mixed_suite();
    let kv = declared_cases("kv-cases");
    let fine = listed(dir.path(), &["--filter", "tag:good"], &[]);
    assert_eq!(fine.len(), kv.len());
    assert!(fine.iter().all(|id| id.starts_with("fine/kv-cases/")));
    let pings = listed(dir.path(), &["tests.toml", "ping_answers"], &[]);
    assert_eq!(pings, ["broken/kv-cases/ping_answers", "fine/kv-cases/ping_answers"]);
    let globbed = listed(dir.path(), &["-F", "*/failing/*es", "-F", "!*panics"], &[]);
    assert!(globbed.contains(&"broken/failing/passes".to_string()), "{globbed:?}");
    assert!(!globbed.iter().any(|id| id.ends_with("panics")), "{globbed:?}");
    let run = run_in(dir.path(), &["run", "--filter", "tag:good"]);
    assert_eq!(run.code, Some(0), "only the good test runs: {}", run.both());
    assert_eq!(totals(&run.stdout), (kv.len(), 0, 0));
    let run = run_in(dir.path(), &["run", "--filter", "no-such-case"]);
    assert_eq!(run.code, Some(3), "nothing selected: {}", run.both());
    assert!(run.stderr.contains("nothing selected"), "{}", run.both());
    let run = run_in(dir.path(), &["run", "--partition", "hash:4/3"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
}

#[test]
fn a_flaky_case_passes_with_retries_and_is_reported_flaky() {
    let dir = suite(&format!("[[tests]]\nname = \"flaky\"\ntest_package_paths = [\"{}\"]\n", package("flaky")));
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(1), "without retries it fails: {}", run.both());
    let junit = dir.path().join("junit.xml");
    let run = run_in(dir.path(), &["run", "--retries", "2", "--junit", junit.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(run.stdout.contains("FLAKY") && run.stdout.contains("flaky/flaky/passes_on_the_second_attempt (passed on attempt 2)"), "{}", run.both());
    assert!(run.stdout.contains("1 passed, 0 failed, 0 skipped (1 flaky)"), "{}", run.both());
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<flakyFailure") && xml.contains("attempt 1 fails on purpose"), "{xml}");
}

#[test]
fn fail_fast_stops_and_keep_going_goes_on() {
    let dir = mixed_suite();
    let kv = declared_cases("kv-cases").len();
    let run = run_in(dir.path(), &["run", "--fail-fast"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert!(run.stdout.contains("--fail-fast: an earlier failure stopped the run"), "{}", run.both());
    let (passed, _, skipped) = totals(&run.stdout);
    assert_eq!(passed, 1, "only the case before the first failure passed: {}", run.both());
    assert!(skipped >= 2 * kv, "{}", run.both());
    let run = run_in(dir.path(), &["run", "--keep-going"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert_eq!(totals(&run.stdout).2, 0, "nothing is skipped with --keep-going: {}", run.both());
}

#[test]
fn repeat_runs_the_selection_again() {
    let run = run_in(&repo(), &["run", "tests.toml", "single-node/", "--repeat", "3"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(totals(&run.stdout), (3 * declared_cases("kv-cases").len(), 0, 0), "{}", run.both());
    assert!(run.stdout.contains("(round 3 of 3)"), "{}", run.both());
}

#[test]
fn jobs_run_tests_at_the_same_time() {
    let mut text = String::new();
    for i in 1..=4 {
        text.push_str(&format!(
            "[[tests]]\nname = \"sleep-{i}\"\ntest_package_paths = [\"{}\"]\n[[tests.nodes]]\nfake_node_name = \"n{i}\"\n\n",
            package("sleepy")
        ));
    }
    let dir = suite(&format!("runtime = {{ RepoPath = \"{{repo}}/kvnode\" }}\n{text}"));
    let order = |jobs: &str| -> (Vec<String>, std::time::Duration) {
        let started = std::time::Instant::now();
        let run = run_in(dir.path(), &["run", "-j", jobs, "--format", "json"]);
        assert_eq!(run.code, Some(0), "{}", run.both());
        let events = json_lines(&run.stdout);
        let kinds = events.iter().filter_map(|e| match e["type"].as_str() {
            Some("test_started") => Some("start".to_string()),
            Some("test_finished") => Some("end".to_string()),
            _ => None,
        });
        (kinds.collect(), started.elapsed())
    };
    let (serial, serial_time) = order("1");
    assert_eq!(serial, ["start", "end", "start", "end", "start", "end", "start", "end"]);
    let (parallel, parallel_time) = order("4");
    assert_eq!(parallel[..4], ["start", "start", "start", "start"], "all four tests run at once: {parallel:?}");
    // Measured, not asserted (timing belongs to benchmarks): printed for the record.
    eprintln!("-j 1: {serial_time:?}, -j 4: {parallel_time:?}");
}

/// A suite of one test script that counts the rounds in its directory and fails in round 3.
fn round_counting_suite(fails_when: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = suite("[[tests]]\nname = \"rounds\"\ntest_scripts = [\"count.sh\"]\n");
    let script = dir.path().join("count.sh");
    let body = format!("#!/bin/sh\nn=$(cat rounds 2>/dev/null || echo 0)\nn=$((n + 1))\necho $n > rounds\n[ ! \"$n\" {fails_when} 3 ]\n");
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// (rounds started, run_finished's `rounds`, totals (passed, failed)) of a JSON run.
fn rounds_of(stdout: &str) -> (usize, u64, (u64, u64)) {
    let events: Vec<Value> = stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let started = events.iter().filter(|e| e["type"] == "run_started").count();
    let finished = events.iter().find(|e| e["type"] == "run_finished").expect("run_finished");
    let totals = &finished["totals"];
    (started, finished["rounds"].as_u64().unwrap(), (totals["passed"].as_u64().unwrap(), totals["failed"].as_u64().unwrap()))
}

#[test]
fn repeat_until_fail_stops_after_the_first_failing_round_and_until_pass_after_the_first_passing_one() {
    // Fails in round 3 only: --until fail stops there, of 10.
    let dir = round_counting_suite("-eq");
    let run = run_in(dir.path(), &["run", "--repeat", "10", "--until", "fail", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert_eq!(rounds_of(&run.stdout), (3, 3, (2, 1)), "{}", run.both());
    assert_eq!(std::fs::read_to_string(dir.path().join("rounds")).unwrap().trim(), "3");

    // Fails in rounds 1 and 2, passes from round 3: --until pass stops there, and the exit
    // code still counts the two failed rounds.
    let dir = round_counting_suite("-lt");
    let run = run_in(dir.path(), &["run", "--repeat", "10", "--until", "pass", "--color", "never"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert!(run.stdout.contains("(3 of 10 rounds)"), "{}", run.both());
    assert_eq!(totals(&run.stdout), (1, 2, 0), "{}", run.both());

    // Without --until every round runs.
    let dir = round_counting_suite("-eq");
    let run = run_in(dir.path(), &["run", "--repeat", "5", "--format", "json"]);
    assert_eq!(rounds_of(&run.stdout), (5, 5, (4, 1)), "{}", run.both());

    // --until alone is a usage error.
    let run = run_in(dir.path(), &["run", "--until", "fail"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("--repeat <N>"), "{}", run.both());
}
