//! `parallel = true`: the cases of a test package run at once. Shown without timing: the
//! `rendezvous` package's two cases can only pass when both run at the same time.

mod common;

use common::{package, repo, run_in, suite};

fn rendezvous_suite(parallel: &str) -> tempfile::TempDir {
    suite(&format!(
        "runtime = {{ RepoPath = \"{}/kvnode\" }}\n\n[[tests]]\nname = \"meet\"\n{parallel}\ntest_package_paths = [\"{}\"]\n\
         [tests.sandbox]\ncase_timeout_secs = 2\n\n[[tests.nodes]]\nfake_node_name = \"kv.dev\"\n",
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
    let dir = rendezvous_suite("parallel = true");
    let run = run_in(dir.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(outcomes(&run.stdout), [("left".into(), "passed".into()), ("right".into(), "passed".into())]);
}

#[test]
fn cases_run_one_after_another_by_default() {
    let dir = rendezvous_suite("");
    let run = run_in(dir.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    // `left` waits alone until its timetrap; `right` then finds it and passes.
    assert_eq!(outcomes(&run.stdout), [("left".into(), "failed".into()), ("right".into(), "passed".into())]);
    assert!(run.stdout.contains("\"kind\":\"timeout\""), "{}", run.stdout);
}

#[test]
fn a_parallel_count_out_of_range_is_a_config_error() {
    let dir = rendezvous_suite("parallel = 0");
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(
        run.stderr.contains("tests.toml:5:12: tests.parallel: 0 is not a number of cases at once from 1 to 1024 (or true, false)"),
        "{}",
        run.stderr
    );
}
