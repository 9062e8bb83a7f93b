//! The core loop end to end: real `host` binary, real kvnode processes, real components.

mod common;


use common::{declared_cases, failing_suite, marked_line, repo, run_in, suite, totals};

const FAILING_SRC: &str = "test-packages/failing/src/lib.rs";

#[test]
fn the_root_suite_passes_and_runs_every_listed_case() {
    let listed = run_in(&repo(), &["list", "tests.toml"]);
    assert_eq!(listed.code, Some(0), "{}", listed.both());
    let cases = listed.stdout.lines().filter(|line| line.matches('/').count() == 2).count();
    assert!(cases > 0, "no cases listed: {}", listed.both());

    let run = run_in(&repo(), &["run", "tests.toml"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(totals(&run.stdout), (cases, 0, 0), "{}", run.both());
    for line in listed.stdout.lines().filter(|line| line.matches('/').count() == 2) {
        assert!(run.stdout.contains("PASS [") && run.stdout.contains(line), "{line} did not pass:\n{}", run.both());
    }
}

#[test]
fn list_prints_every_test_package_and_case() {
    let run = run_in(&repo(), &["list"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let lines: Vec<&str> = run.stdout.lines().collect();
    for test in ["replication", "single-node"] {
        assert!(lines.contains(&test), "{test} missing:\n{}", run.stdout);
    }
    assert!(lines.contains(&"replication/kv-replication"), "{}", run.stdout);
    for case in declared_cases("kv-cases") {
        assert!(lines.contains(&format!("replication/kv-cases/{case}").as_str()), "{case} missing:\n{}", run.stdout);
        assert!(lines.contains(&format!("single-node/kv-cases/{case}").as_str()), "{case} missing:\n{}", run.stdout);
    }
}

#[test]
fn a_failing_package_exits_1_with_location_and_message_and_skips_the_rest() {
    let dir = failing_suite(60);
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let line = marked_line(FAILING_SRC, "fail");
    let expected = format!("{FAILING_SRC}:{line}:5: the answer is 42 but 1 nodes were given");
    assert!(run.stdout.contains(&expected), "missing {expected:?}:\n{}", run.both());
    assert!(run.stdout.contains("broken/failing/fails_with_message"), "{}", run.both());
    let line = marked_line(FAILING_SRC, "ensure_eq");
    let expected = format!("{FAILING_SRC}:{line}:5: arithmetic: left 2 != right 3");
    assert!(run.stdout.contains(&expected), "missing {expected:?}:\n{}", run.both());
    // The sandbox refuses a non-node address, and says so in the case output.
    let line = marked_line(FAILING_SRC, "question_mark");
    assert!(run.stdout.contains(&format!("{FAILING_SRC}:{line}:")), "{}", run.both());
    assert!(run.stdout.contains("[SANDBOX] refused TcpConnect"), "{}", run.both());
    // kv-cases comes after the failing package: skipped, as kit does.
    let failing_cases = declared_cases("failing").len();
    assert_eq!(totals(&run.stdout), (1, failing_cases - 1, declared_cases("kv-cases").len()), "{}", run.both());
    assert!(run.stdout.contains("SKIP") && run.stdout.contains("package failing failed before it"), "{}", run.both());
    // The node's output tail is shown with the failure.
    assert!(run.stdout.contains("last 1 lines of node first.dev"), "{}", run.both());
}

#[test]
fn a_panic_is_a_failure_at_the_panic_location_not_a_timeout() {
    let timeout: u64 = 120;
    let dir = failing_suite(timeout as u32);
    let junit = dir.path().join("junit.xml");
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap(), "--junit", junit.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let line = marked_line(FAILING_SRC, "panic");
    let expected = format!("{FAILING_SRC}:{line}:5: panicked: values must not be empty");
    assert!(run.stdout.contains(&expected), "missing {expected:?}:\n{}", run.both());
    let line = marked_line(FAILING_SRC, "unwrap");
    let expected = format!("{FAILING_SRC}:{line}:13: panicked: called `Option::unwrap()` on a `None` value");
    assert!(run.stdout.contains(&expected), "missing {expected:?}:\n{}", run.both());
    assert!(!run.stdout.contains("timed out"), "{}", run.both());
    // Far from the timeout: the panic is reported when it happens. (The cases' own times:
    // the run's wall clock would count the package's build too.)
    let suites = junit_parser::from_reader(std::io::BufReader::new(std::fs::File::open(&junit).unwrap())).expect("JUnit parses");
    let cases: Vec<_> = suites.suites.iter().flat_map(|s| &s.cases).collect();
    for name in ["panics", "unwraps_none"] {
        let case = cases.iter().find(|c| c.original_name == name).unwrap_or_else(|| panic!("no testcase {name}"));
        assert!(case.time < (timeout / 2) as f64, "{name} took {}s", case.time);
    }
}

#[test]
fn a_node_that_dies_before_ready_fails_the_test_with_its_status_and_output() {
    let dir = suite(
        r#"
runtime = { Command = "sh", args = ["-c", "echo booting {name}; echo disk on fire >&2; exit 7"] }

[[tests]]
name = "doomed"
test_package_paths = ["{repo}/test-packages/kv-cases"]

[[tests.nodes]]
fake_node_name = "first.dev"
ready = { event = "ready" }
"#,
    );
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    for expected in ["node first.dev: exited with code 7 before it was ready", "booting first.dev", "[stderr] disk on fire"] {
        assert!(run.stdout.contains(expected), "missing {expected:?}:\n{}", run.both());
    }
    let (passed, failed, skipped) = totals(&run.stdout);
    assert_eq!((passed, failed, skipped), (0, 1, declared_cases("kv-cases").len()), "{}", run.both());
}
