//! Test packages written in Python (`guest-sdk/python`): built by `host run` through their
//! `host-package.toml` (componentize-py, installed by `pip install componentize-py==0.25.1`;
//! this test installs nothing), run against real kvnode nodes, failures reported at the
//! line and column of the Python source.

mod common;

use common::{node_suite, repo, run_in, totals};

const FAILING_PY: &str = "test-packages/python-failing/app.py";

/// The 1-based line of `file` (relative to the repo) ending in `# MARK: name`, and the
/// 1-based column of the first of `token` on it.
fn marked(file: &str, name: &str, token: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let marker = format!("# MARK: {name}");
    let (index, line) = text
        .lines()
        .enumerate()
        .find(|(_, line)| line.trim_end().ends_with(&marker))
        .unwrap_or_else(|| panic!("no {marker} in {file}"));
    let column = line.find(token).unwrap_or_else(|| panic!("no {token:?} on line {}: {line}", index + 1)) + 1;
    (index + 1, column)
}

fn kv_suite() -> tempfile::TempDir {
    node_suite("python", "python-kv", &["first.dev", "second.dev"])
}

#[test]
fn a_python_package_drives_two_kvnode_nodes_and_passes_twice() {
    let dir = kv_suite();
    let listed = run_in(&repo(), &["list", dir.path().to_str().unwrap()]);
    assert_eq!(listed.code, Some(0), "{}", listed.both());
    let cases: Vec<&str> = listed.stdout.lines().filter(|line| line.starts_with("python/python-kv/")).collect();
    assert!(cases.len() >= 2, "python-kv should declare at least two cases:\n{}", listed.both());
    let declared = std::fs::read_to_string(repo().join("test-packages/python-kv/app.py")).unwrap().matches("\n@case").count();
    assert_eq!(cases.len(), declared, "every @case is listed:\n{}", listed.both());

    // Twice: the second run takes the component from the build cache, and passes the same.
    for attempt in 1..=2 {
        let run = run_in(&repo(), &["run", dir.path().to_str().unwrap()]);
        assert_eq!(run.code, Some(0), "run {attempt}: {}", run.both());
        assert_eq!(totals(&run.stdout), (cases.len(), 0, 0), "run {attempt}: {}", run.both());
        for case in &cases {
            assert!(
                run.stdout.lines().any(|line| line.contains("PASS [") && line.trim_end().ends_with(case)),
                "run {attempt}: {case} did not pass:\n{}",
                run.both()
            );
        }
    }
}

#[test]
fn python_failures_report_the_marked_line_and_the_message() {
    let dir = node_suite("broken", "python-failing", &["first.dev"]);
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert_eq!(totals(&run.stdout), (0, 5, 0), "{}", run.both());

    let expectations = [
        // fail(...): the call's line and column, and its message.
        ("fails_with_message", "fail", "fail(", "the answer is 42 but 1 nodes were given".to_string()),
        // An uncaught exception: the raise, and the message as Python's traceback ends.
        ("raises_value_error", "raise", "raise", "ValueError: no frobnicator configured".to_string()),
        // A bare assert: its condition stands in for the missing message.
        ("bare_assert_fails", "assert", "len(", "AssertionError: assert len(nodes) == 7".to_string()),
        ("ensure_eq_shows_both_sides", "ensure_eq", "ensure_eq(", "1 + 1 == 3: left 2 != right 3".to_string()),
        // Raised deep in the standard library: the package's own innermost line is shown.
        (
            "exception_inside_the_standard_library",
            "stdlib",
            "json.loads",
            "json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
                .to_string(),
        ),
    ];
    for (case, mark, token, message) in expectations {
        let (line, column) = marked(FAILING_PY, mark, token);
        let expected = format!("{FAILING_PY}:{line}:{column}: {message}");
        assert!(run.stdout.contains(&expected), "{case}: missing {expected:?}:\n{}", run.both());
        let id = format!("broken/python-failing/{case}");
        assert!(run.stdout.lines().any(|line| line.contains("FAIL [") && line.trim_end().ends_with(&id)), "{id} did not fail:\n{}", run.both());
    }
    // The traceback of an uncaught exception is in the case's output, with its source line.
    assert!(run.stdout.contains(r#"raise ValueError("no frobnicator configured")"#), "{}", run.both());
    assert!(!run.stdout.contains("timed out"), "{}", run.both());
}
