//! Report destinations are checked before anything runs: `--junit` at a directory,
//! `--report` at a file, a directory that does not exist — each a clear error, exit 2,
//! no node started. A report that cannot be written at the end fails the run.

mod common;

use common::{package, run_in, suite};

fn sleepy_suite() -> tempfile::TempDir {
    suite(&format!("[[tests]]\nname = \"t\"\ntest_package_paths = [\"{}\"]\n", package("sleepy")))
}

#[test]
fn unwritable_report_destinations_are_refused_before_the_run() {
    let dir = sleepy_suite();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let cases = [
        (vec!["--junit", dir.path().to_str().unwrap()], "is a directory"),
        (vec!["--junit", "/no/such/dir/junit.xml"], "does not exist"),
        (vec!["--report", file.to_str().unwrap()], "is a file"),
    ];
    for (args, expected) in cases {
        let mut all = vec!["run"];
        all.extend(args.iter().copied());
        let run = run_in(dir.path(), &all);
        assert_eq!(run.code, Some(2), "{args:?}\n{}", run.both());
        assert!(run.stderr.contains(expected), "{args:?}: expected {expected:?}\n{}", run.both());
        assert!(!run.stdout.contains("Running"), "{args:?}: nothing ran\n{}", run.both());
    }
}

#[test]
fn a_report_that_cannot_be_written_at_the_end_fails_the_run() {
    let dir = sleepy_suite();
    // The file can be written when the run starts; the package's case takes 5 s (half a
    // second × 10), during which a directory takes its place.
    let junit = dir.path().join("junit.xml");
    let args = ["run", "--format", "json", "--timeout-scale", "10", "--junit", junit.to_str().unwrap()];
    let (child, mut stdout) = common::spawn_until(dir.path(), &args, |line| line.contains("\"run_started\""));
    std::fs::create_dir(&junit).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let run = common::Run::from(child.wait_with_output().unwrap());
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("cannot write JUnit report"), "{}", run.both());
}
