//! The bad-configuration corpus (`host/tests/bad-configs/*.toml`): each file's first line
//! says what `host check` must report (`# expect: TEXT`). Every one is refused with exit
//! code 2, an error that names the file and the line (file:line:column) and that text,
//! never a panic and never "ok" — and `host run` refuses it the same way before starting
//! anything.

mod common;

use common::{repo, run_in};

fn corpus() -> Vec<(std::path::PathBuf, String)> {
    let dir = repo().join("host/tests/bad-configs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let expect = text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).unwrap_or_else(|| panic!("{}: no `# expect:` line", p.display()));
            (p.clone(), expect.to_string())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_bad_config_is_refused_with_its_error_file_and_line() {
    let files = corpus();
    assert!(files.len() >= 25, "the corpus is there: {}", files.len());
    for (file, expect) in files.iter().filter(|(f, _)| !f.ends_with("three-errors.toml")) {
        for command in ["check", "run"] {
            let run = run_in(&repo(), &[command, file.to_str().unwrap()]);
            let name = file.file_name().unwrap().to_string_lossy();
            assert_eq!(run.code, Some(2), "{name}: host {command}\n{}", run.both());
            assert!(!run.both().contains("panicked"), "{name}: host {command} panicked\n{}", run.both());
            assert!(run.stderr.contains(expect.as_str()), "{name}: expected {expect:?}\n{}", run.both());
            let located = run.stderr.lines().any(|line| {
                line.strip_prefix("error: ")
                    .and_then(|rest| rest.split_once(&*name))
                    .and_then(|(_, rest)| rest.strip_prefix(':'))
                    .is_some_and(|rest| rest.split(':').next().is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 1)))
            });
            assert!(located, "{name}: the error names file:line\n{}", run.both());
            assert!(!run.stdout.contains("Running"), "{name}: nothing ran\n{}", run.both());
        }
    }
}

#[test]
fn check_reports_every_tests_error_in_one_pass() {
    let file = repo().join("host/tests/bad-configs/three-errors.toml");
    let run = run_in(&repo(), &["check", file.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 3, "{}", run.both());
    for expected in ["tests.nodes.home", "unknown placeholder {prot}", "\"A=B\" is not an environment variable name"] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.both());
    }
}

#[test]
fn check_refuses_what_is_not_a_regular_file_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("tests.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for path in [fifo.to_str().unwrap(), "/dev/zero"] {
        let run = run_in(&repo(), &["check", path]);
        assert_eq!(run.code, Some(2), "{path}\n{}", run.both());
        assert!(run.stderr.contains("not a regular file"), "{path}\n{}", run.both());
    }
}

#[test]
fn a_timeout_scale_out_of_range_is_refused_not_a_panic() {
    for scale in ["1e300", "inf", "NaN", "-1", "0"] {
        let run = run_in(&repo(), &["run", &format!("--timeout-scale={scale}")]);
        assert_eq!(run.code, Some(2), "--timeout-scale {scale}\n{}", run.both());
        assert!(!run.both().contains("panicked"), "{}", run.both());
        assert!(run.stderr.contains("--timeout-scale"), "{}", run.both());
    }
}
