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

/// Every file of `tests/bad-configs/` starts with `# expect: LINE:COL: MESSAGE` lines
/// (`{dir}`: the corpus directory, `{home}`: $HOME, ` ... `: any text); `host check`
/// must exit 2 and report each of them, all in one pass, without panicking.
#[test]
fn every_bad_config_in_the_corpus_is_reported_with_file_line_and_column() {
    let corpus = repo().join("host/tests/bad-configs");
    let home = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus is there: {files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let expected: Vec<String> = text
            .lines()
            .filter_map(|line| line.strip_prefix("# expect: "))
            .map(|line| line.replace("{dir}", &corpus.display().to_string()).replace("{home}", &home.path().display().to_string()))
            .collect();
        assert!(!expected.is_empty(), "{} has no `# expect:` line", file.display());
        let run: common::Run = common::host()
            .env("HOME", home.path())
            .arg("check")
            .arg(file)
            .output()
            .expect("cannot run host")
            .into();
        let context = format!("{}\n{}", file.display(), run.both());
        assert_eq!(run.code, Some(2), "{context}");
        assert!(!run.stderr.contains("panicked"), "{context}");
        let errors: Vec<&str> = run.stderr.lines().filter(|line| line.starts_with("error: ")).collect();
        assert_eq!(errors.len(), expected.len(), "one error per expectation, all in one pass: {context}");
        for (error, expected) in errors.iter().zip(&expected) {
            let (place, message) = expected.split_once(": ").unwrap();
            let prefix = format!("error: {}:{place}: ", file.display());
            assert!(error.starts_with(&prefix), "expected {prefix}… in {context}");
            let mut rest = &error[prefix.len()..];
            for fragment in message.split(" ... ") {
                let at = rest.find(fragment).unwrap_or_else(|| panic!("expected {fragment:?} in {error:?}: {context}"));
                rest = &rest[at + fragment.len()..];
            }
        }
    }
}

/// `host check` in `cwd`, killed (and reported as `None`) if it has not ended in 60 s,
/// with its address space capped at 1 GiB (a host that read /dev/zero to the end
/// would otherwise take the machine's memory with it).
fn check_within_a_minute(cwd: &std::path::Path, path: &str) -> Option<common::Run> {
    use std::os::unix::process::CommandExt as _;
    let mut command = common::host();
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 1 << 30, rlim_max: 1 << 30 };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .current_dir(cwd)
        .args(["check", path])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run host");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Some(child.wait_with_output().unwrap().into())
}

#[test]
fn check_reads_regular_files_only_and_never_hangs_on_a_device_or_fifo() {
    let run = check_within_a_minute(&repo(), "/dev/zero").expect("check /dev/zero ended");
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("/dev/zero: not a regular file"), "{}", run.both());

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("tests.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    // Nobody ever writes the FIFO: opening it to read would block forever.
    let run = check_within_a_minute(dir.path(), "tests.toml").expect("check on a FIFO ended");
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml: not a regular file"), "{}", run.both());
    let run = check_within_a_minute(dir.path(), ".").expect("check on a directory holding a FIFO ended");
    assert_eq!(run.code, Some(2), "a directory whose tests.toml is a FIFO: {}", run.both());
    assert!(run.stderr.contains("tests.toml: not a regular file"), "{}", run.both());
    assert!(!run.stderr.contains("panicked"), "{}", run.both());
}

#[test]
fn a_timeout_scale_out_of_range_is_a_usage_error_not_a_panic() {
    for scale in ["1e300", "inf", "NaN", "0", "-1", "1001"] {
        let run = run_in(&repo(), &["run", &format!("--timeout-scale={scale}"), "tests.toml"]);
        assert_eq!(run.code, Some(2), "{scale}: {}", run.both());
        assert!(run.stderr.contains("is not a number greater than 0 and at most 1000"), "{scale}: {}", run.both());
        assert!(!run.stderr.contains("panicked"), "{scale}: {}", run.both());
    }
    let dir = suite("[[tests]]\ntimeout_secs = 5\n");
    let run: common::Run = common::host().current_dir(dir.path()).env("HOST_TIMEOUT_SCALE", "1e300").args(["run"]).output().unwrap().into();
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("at most 1000"), "{}", run.both());
}

#[test]
fn a_package_that_lists_a_case_twice_is_refused_before_anything_runs() {
    let dir = suite(&format!("[[tests]]\nname = \"dup\"\ntest_package_paths = [{:?}]\n", common::package("duplicate-cases")));
    for command in ["list", "run"] {
        let run = run_in(dir.path(), &[command]);
        assert_eq!(run.code, Some(2), "{command}: {}", run.both());
        assert!(
            run.stderr.contains("test dup: package duplicate-cases") && run.stderr.contains("lists case \"same\" more than once"),
            "{command}: {}",
            run.both()
        );
        assert!(!run.stdout.contains("dup/duplicate-cases/same"), "nothing listed or run: {}", run.both());
    }
}
