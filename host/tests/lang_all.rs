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
    // Warm now: listing again neither builds nor compiles, it loads what the cache holds.
    let warm = run_in(&repo(), &["list", "examples/languages", "--verbose"]);
    assert_eq!(warm.code, Some(0), "{}", warm.both());
    assert!(!warm.both().contains("Building") && !warm.both().contains("Compiling"), "{}", warm.both());
    for package in ["python-kv", "js-kv", "c-kv", "go-kv"] {
        assert!(warm.both().contains(&format!("Loaded {package} from the compile cache")), "{}", warm.both());
    }
}
