//! Test packages in C: guest-sdk/c (TEST_CASE, FAIL, ASSERT…, wasi:sockets TCP) built by
//! a `host-package.toml` with guest-sdk/c/build.sh, run by the real binary against kvnode.

mod common;

use common::{marked_line, node_suite, repo, run_in, totals};

const FAILING_SRC: &str = "test-packages/c-failing/failing.c";
const KV_SRC: &str = "test-packages/c-kv/kv.c";

/// The C toolchain build.sh needs (scripts/install-tools installs it).
fn require_toolchain() {
    for tool in ["clang", "wasm-ld", "wit-bindgen", "wasm-tools"] {
        assert!(common::has_tool(tool), "{tool} is not installed: run scripts/install-tools (scripts/test does)");
    }
}

/// The cases a C file declares with `TEST_CASE(name)`, in order.
fn c_cases(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("TEST_CASE("))
        .map(|rest| rest[..rest.find(')').unwrap()].to_string())
        .collect()
}

/// The 1-based column of the closing parenthesis of the check on `line` of `file`: where
/// clang's `__builtin_COLUMN()` puts a check written as a macro call.
fn check_column(file: &str, line: usize) -> usize {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let code = text.lines().nth(line - 1).unwrap();
    let code = &code[..code.find("//").unwrap_or(code.len())];
    code.rfind(");").expect("a check ending in `);`") + 1
}

#[test]
fn a_c_package_talks_to_two_kvnodes_and_passes_every_case() {
    require_toolchain();
    let dir = node_suite("c-kv", "c-kv", &["first.dev", "second.dev"]);
    let cases = c_cases(KV_SRC);
    assert!(cases.len() >= 2, "{cases:?}");
    let listed = run_in(&repo(), &["list", dir.path().to_str().unwrap()]);
    assert_eq!(listed.code, Some(0), "{}", listed.both());
    let listed_cases: Vec<&str> = listed.stdout.lines().filter_map(|line| line.strip_prefix("c-kv/c-kv/")).collect();
    assert_eq!(listed_cases, cases, "cases are listed in declaration order:\n{}", listed.both());

    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(totals(&run.stdout), (cases.len(), 0, 0), "{}", run.both());
    for case in &cases {
        assert!(run.stdout.contains(&format!("c-kv/c-kv/{case}")), "{case} missing:\n{}", run.both());
    }
}

#[test]
fn c_failures_are_reported_at_their_line_with_their_message() {
    require_toolchain();
    let dir = node_suite("broken", "c-failing", &["first.dev"]);
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let at = |mark: &str| {
        let line = marked_line(FAILING_SRC, mark);
        format!("{FAILING_SRC}:{line}:{}: ", check_column(FAILING_SRC, line))
    };
    let expected = [
        format!("{}the answer is 42 but 1 nodes were given", at("fail")),
        format!("{}condition failed: nodes > 5", at("assert")),
        format!("{}1 + 1 == 3: left 2 != right 3", at("assert_eq")),
        format!("{}name == \"second.dev\": left \"first.dev\" != right \"second.dev\"", at("helper")),
        format!("{}panicked: values must not be empty", at("panic")),
        // The C library's assert() has no column.
        format!("{FAILING_SRC}:{}:0: assertion failed: values > 0 (in libc_assert)", marked_line(FAILING_SRC, "libc_assert")),
    ];
    for expected in &expected {
        assert!(run.stdout.contains(expected.as_str()), "missing {expected:?}:\n{}", run.both());
    }
    // A trap: its kind, and the line from the DWARF line tables build.sh compiles in.
    let trap = format!("{FAILING_SRC}:{}:", marked_line(FAILING_SRC, "trap"));
    assert!(run.stdout.contains(&trap), "missing {trap:?}:\n{}", run.both());
    assert!(run.stdout.contains("integer divide by zero"), "{}", run.both());
    // stdout is line-buffered: what the case printed before the trap is in its output.
    assert!(run.stdout.contains("| dividing 7 by 0"), "{}", run.both());
    assert!(!run.stdout.contains("not reached") && !run.stdout.contains("timed out"), "{}", run.both());
    let cases = c_cases(FAILING_SRC);
    assert_eq!(totals(&run.stdout), (1, cases.len() - 1, 0), "{}", run.both());
    for case in &cases[1..] {
        assert!(run.stdout.contains(&format!("broken/c-failing/{case}")), "{case} missing:\n{}", run.both());
    }
}
