//! `parallel = true`: the cases of a test package run at once. Shown without timing: the
//! `rendezvous` package's two cases can only pass when both run at the same time.

mod common;

use common::{package, repo, run_in, suite};

/// The `rendezvous` suite; each case waits for the other at most `case_timeout_secs`.
fn rendezvous_suite(parallel: &str, case_timeout_secs: u32) -> tempfile::TempDir {
    suite(&format!(
        "runtime = {{ RepoPath = \"{}/kvnode\" }}\n\n[[tests]]\nname = \"meet\"\n{parallel}\ntest_package_paths = [\"{}\"]\n\
         [tests.sandbox]\ncase_timeout_secs = {case_timeout_secs}\n\n[[tests.nodes]]\nfake_node_name = \"kv.dev\"\n",
        repo().display(),
        package("rendezvous")
    ))
}

fn outcomes(stdout: &str) -> Vec<(String, String)> {
    let mut cases: Vec<(String, String)> = stdout
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|event| event["type"] == "case_finished")
        .map(|event| (event["case"].as_str().unwrap().to_string(), event["outcome"]["status"].as_str().unwrap().to_string()))
        .collect();
    cases.sort();
    cases
}

#[test]
fn cases_of_a_parallel_test_run_at_once() {
    // Long enough for the second lane to start on a loaded machine: they must meet at all.
    let dir = rendezvous_suite("parallel = true", 30);
    let run = run_in(dir.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(outcomes(&run.stdout), [("left".into(), "passed".into()), ("right".into(), "passed".into())]);
}

#[test]
fn cases_run_one_after_another_by_default() {
    let dir = rendezvous_suite("", 2);
    let run = run_in(dir.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    // `left` waits alone until its timetrap; `right` then finds it and passes.
    assert_eq!(outcomes(&run.stdout), [("left".into(), "failed".into()), ("right".into(), "passed".into())]);
    assert!(run.stdout.contains("\"kind\":\"timeout\""), "{}", run.stdout);
}

#[test]
fn a_parallel_count_out_of_range_is_a_config_error() {
    let dir = rendezvous_suite("parallel = 0", 2);
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(
        run.stderr.contains("tests.toml:5:12: tests.parallel: 0 is not a number of cases at once from 1 to 1024 (or true, false)"),
        "{}",
        run.stderr
    );
}

#[test]
fn retried_cases_in_lanes_are_reported_once_as_flaky() {
    let dir = suite(&format!("[[tests]]\nname = \"flaky\"\nparallel = true\ntest_package_paths = [\"{}\"]\n", package("flaky")));
    let run = run_in(dir.path(), &["run", "--retries", "2"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(run.stdout.contains("flaky/flaky/passes_on_the_second_attempt (passed on attempt 2)"), "{}", run.both());
    assert!(run.stdout.contains("1 passed, 0 failed, 0 skipped (1 flaky)"), "{}", run.both());
}

/// Ctrl-C while a lane runs a case: the case is reported once — failed as interrupted, or
/// not run if no lane had taken it yet — the run exits 130 and leaves no process.
#[test]
fn an_interrupted_parallel_package_reports_each_case_once() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    // `left` alone waits for `right` until its timetrap: it is running when the signal comes.
    let dir = rendezvous_suite("parallel = true", 600);
    let mut child = common::host()
        .current_dir(dir.path())
        .args(["run", "--format", "json", "--filter", "meet/rendezvous/left"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let mut seen: Vec<serde_json::Value> = Vec::new();
    for line in lines.by_ref() {
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        let started = event["type"] == "package_started";
        seen.push(event);
        if started {
            break;
        }
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    seen.extend(lines.map(|line| serde_json::from_str::<serde_json::Value>(&line).unwrap()));
    assert_eq!(child.wait().unwrap().code(), Some(130), "{seen:#?}");
    let cases: Vec<&serde_json::Value> = seen.iter().filter(|e| e["type"] == "case_finished").collect();
    assert_eq!(cases.len(), 1, "the case is reported once: {seen:#?}");
    let status = cases[0]["outcome"]["status"].as_str().unwrap();
    assert!(status == "failed" || status == "not_run", "{status}");
    if status == "failed" {
        assert!(cases[0]["outcome"]["failure"]["message"].as_str().unwrap().contains("interrupted"), "{seen:#?}");
    }
    let totals = &seen.iter().find(|e| e["type"] == "run_finished").expect("run_finished")["totals"];
    let count = |key: &str| totals[key].as_u64().unwrap();
    assert_eq!(count("passed") + count("failed") + count("skipped") + count("not_run"), 1, "{totals}");
}
