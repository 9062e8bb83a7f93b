//! Go test packages (guest-sdk/go): built by `host` through their host-package.toml
//! (guest-sdk/go/build.sh), run against real kvnode nodes, failures reported at the exact
//! lines of the Go source.
//!
//! Needs Go >= 1.27, wit-bindgen-cli and wasm-tools: `sh guest-sdk/go/install-tools.sh`.

mod common;

use common::{marked_line, node_suite, repo, run_in, totals};

const FAILING_SRC: &str = "test-packages/go-failing/main.go";

/// The case names a Go package declares with `hosttest.Case("name", …)`, in order.
fn go_cases(package: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("test-packages").join(package).join("main.go")).unwrap();
    text.split("hosttest.Case(\"").skip(1).map(|rest| rest[..rest.find('"').unwrap()].to_string()).collect()
}

fn kv_suite() -> tempfile::TempDir {
    node_suite("go", "go-kv", &["first.dev", "second.dev"])
}

fn failing_suite() -> tempfile::TempDir {
    node_suite("broken", "go-failing", &["first.dev"])
}

#[test]
fn a_go_package_lists_its_cases_in_order_and_passes_against_two_nodes() {
    let dir = kv_suite();
    let cases = go_cases("go-kv");
    assert!(cases.len() >= 2, "{cases:?}");

    let listed = run_in(&repo(), &["list", dir.path().to_str().unwrap()]);
    assert_eq!(listed.code, Some(0), "{}", listed.both());
    let listed_cases: Vec<&str> = listed.stdout.lines().filter(|line| line.starts_with("go/go-kv/")).collect();
    let expected: Vec<String> = cases.iter().map(|case| format!("go/go-kv/{case}")).collect();
    assert_eq!(listed_cases, expected, "{}", listed.both());

    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(totals(&run.stdout), (cases.len(), 0, 0), "{}", run.both());
    for case in &cases {
        let line = run.stdout.lines().find(|line| line.ends_with(&format!("go/go-kv/{case}")));
        assert!(line.is_some_and(|line| line.contains("PASS")), "{case} did not pass:\n{}", run.both());
    }
}

#[test]
fn go_failures_and_panics_are_reported_at_their_lines_with_their_messages() {
    let dir = failing_suite();
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    // Go records no columns: the SDK reports column 0.
    let at = |mark: &str| format!("{FAILING_SRC}:{}:0: ", marked_line(FAILING_SRC, mark));
    for (mark, message) in [
        ("fail", "the answer is 42 but 1 nodes were given"),
        ("panic", "panicked: values must not be empty"),
        ("index", "panicked: runtime error: index out of range [2] with length 1"),
    ] {
        let expected = format!("{}{message}", at(mark));
        assert!(run.stdout.contains(&expected), "missing {expected:?}:\n{}", run.both());
    }
    // A failing assertion inside a t.Helper() function is reported at the helper's caller.
    let expected = format!("{}port of the first node: got ", at("helper"));
    assert!(run.stdout.contains(&expected), "missing {expected:?}:\n{}", run.both());
    for case in ["fails_with_message", "assertion_fails_in_a_helper", "panics", "index_out_of_range"] {
        let line = run.stdout.lines().find(|line| line.ends_with(&format!("broken/go-failing/{case}")));
        assert!(line.is_some_and(|line| line.contains("FAIL")), "{case} did not fail:\n{}", run.both());
    }
    assert_eq!(totals(&run.stdout), (1, 4, 0), "{}", run.both());
    assert!(!run.stdout.contains("timed out"), "{}", run.both());

    // A panic is reported through `outcome.report-failure` before the package traps: kind
    // `panic`; t.Fatalf and assertions return a `fail-response`: kind `fail`. (One test, so
    // that two runs do not build the same package into the shared cache at once.)
    let run = run_in(&repo(), &["run", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let events: Vec<serde_json::Value> = run.stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let kind = |case: &str| -> String {
        let event = events
            .iter()
            .find(|event| event["type"] == "case_finished" && event["case"] == case)
            .unwrap_or_else(|| panic!("no case_finished for {case}:\n{}", run.both()));
        event["outcome"]["failure"]["kind"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(kind("fails_with_message"), "fail");
    assert_eq!(kind("assertion_fails_in_a_helper"), "fail");
    assert_eq!(kind("panics"), "panic");
    assert_eq!(kind("index_out_of_range"), "panic");
}
