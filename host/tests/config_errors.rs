//! Bad input exits 2 with a message naming the file, line and key or path.

mod common;

use common::{repo, run_in, suite};

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|line| line.contains(needle)).unwrap() + 1
}

#[test]
fn an_unknown_key_exits_2_naming_file_line_and_key() {
    let text = "runtime = { RepoPath = \"{repo}/kvnode\" }\n\n[[tests]]\ntest_package_paths = []\ntimeout_secs = 5\n\n[[tests.nodes]]\nfake_node_name = \"a\"\nprot = 8080\n";
    let dir = suite(text);
    let run = run_in(dir.path(), &["run", "tests.toml"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    let line = line_of(text, "prot = 8080");
    assert!(run.stderr.contains(&format!("tests.toml:{line}:1: unknown field `prot`")), "{}", run.both());
    assert!(run.stderr.contains("prot = 8080"), "the offending line is shown: {}", run.both());
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.both());
}

#[test]
fn a_wrongly_typed_value_names_its_line() {
    let text = "[[tests]]\ntest_package_paths = []\ntimeout_secs = \"soon\"\n";
    let dir = suite(text);
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml:3:16: invalid type: string \"soon\""), "{}", run.both());
}

#[test]
fn a_missing_package_path_exits_2_naming_the_path() {
    let dir = suite("[[tests]]\ntest_package_paths = [\"packages/does-not-exist\"]\n");
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    let missing = dir.path().join("packages/does-not-exist");
    assert!(
        run.stderr.contains(&format!("tests.toml:2:23: tests.test_package_paths: no such file or directory: {}", missing.display())),
        "{}",
        run.both()
    );
}

#[test]
fn keys_kit_knows_but_host_cannot_honour_are_errors_not_ignored() {
    let dir = suite("runtime = { FetchVersion = \"latest\" }\n[[tests]]\ntest_package_paths = []\n");
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml:1:28: runtime: FetchVersion = \"latest\" cannot be honoured"), "{}", run.both());

    let dir = suite("[[tests]]\ntest_package_paths = []\nfakechain_router = 8545\n");
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml:3:20: tests.fakechain_router cannot be honoured"), "{}", run.both());
}

#[test]
fn a_placeholder_naming_an_unknown_node_is_an_error() {
    let dir = suite(
        "runtime = { Command = \"true\" }\n[[tests]]\n[[tests.nodes]]\nfake_node_name = \"a\"\nargs = [\"--peer\", \"{port:b}\"]\n",
    );
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("names node \"b\", which this test does not have"), "{}", run.both());
}

#[test]
fn check_accepts_the_root_suite_and_a_missing_file_is_named() {
    let run = run_in(&repo(), &["check", "tests.toml"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(run.stdout.contains("tests.toml: ok (") && run.stdout.contains("node(s))"), "{}", run.both());

    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml: no such file"), "{}", run.both());
}

#[test]
fn bad_arguments_exit_2() {
    let run = run_in(&repo(), &["run", "--no-such-flag"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("--no-such-flag"), "{}", run.both());
}
