//! One suite runs a Python, a JavaScript, a C and a Go package against the same nodes.

mod common;

use common::{repo, run_in, totals};

#[test]
fn four_languages_pass_in_one_suite() {
    let listed = run_in(&repo(), &["list", "examples/languages"]);
    assert_eq!(listed.code, Some(0), "{}", listed.both());
    for package in ["python-kv", "js-kv", "c-kv", "go-kv"] {
        assert!(listed.stdout.lines().any(|line| line == format!("languages/{package}")), "{package} missing:\n{}", listed.stdout);
    }
    let cases = listed.stdout.lines().filter(|line| line.matches('/').count() == 2).count();
    let run = run_in(&repo(), &["run", "examples/languages"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(totals(&run.stdout), (cases, 0, 0), "{}", run.both());
}
