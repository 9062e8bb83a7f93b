//! Hostile packages end as failures with the right reason within their timetrap, and the
//! run goes on; a well-behaved package sees exactly the capabilities tests.toml grants.

mod common;

use common::{declared_cases, marked_line, repo, run_in, suite, totals};

const HOSTILE_SRC: &str = "test-packages/hostile/src/lib.rs";

/// The `FAIL [  1.234s] id` line of a case, its seconds and the short reason under it.
fn failure_of<'a>(stdout: &'a str, case: &str) -> (f64, &'a str) {
    let id = format!("hostile/hostile/{case}");
    let mut lines = stdout.lines();
    while let Some(line) = lines.next() {
        if line.contains("FAIL [") && line.trim_end().ends_with(&id) {
            let secs = line.split('[').nth(1).unwrap().split('s').next().unwrap().trim().parse().unwrap();
            return (secs, lines.next().unwrap().trim());
        }
    }
    panic!("{id} did not fail:\n{stdout}");
}

#[test]
fn hostile_packages_fail_with_the_right_reason_and_the_run_goes_on() {
    let dir = suite(
        r#"
runtime = { RepoPath = "{repo}/kvnode" }

[[tests]]
name = "hostile"
test_package_paths = ["{repo}/test-packages/hostile"]
timeout_secs = 120
sandbox = { case_timeout_secs = 2 }

[[tests.nodes]]
fake_node_name = "first.dev"

[[tests]]
name = "sandboxed"
test_package_paths = ["{repo}/test-packages/sandboxed"]

[tests.sandbox]
data_dir = "{repo}/test-packages/sandboxed/data"
env = { GREETING = "hello", EXPECTED_SCALE = "1.5" }
"#,
    );
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap(), "--timeout-scale", "1.5"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let timetrap = 2.0 * 1.5;
    let at = |mark: &str| format!("{HOSTILE_SRC}:{}:", marked_line(HOSTILE_SRC, mark));
    let expectations: [(&str, Vec<String>); 11] = [
        ("reads_etc_passwd", vec![at("passwd"), "No such file or directory".into()]),
        ("reads_the_home_directory", vec![at("home"), "No such file or directory".into()]),
        ("connects_to_a_non_node_address", vec![at("non_node"), "Permission denied".into()]),
        ("connects_to_a_node_port_outside_the_allow_list", vec![at("other_port"), "Permission denied".into()]),
        ("allocates_until_it_fails", vec!["out of memory: the package asked to grow its linear memory".into(), "over the limit of 512.0 MiB (sandbox.memory_mib)".into()]),
        ("spins_forever", vec![format!("case spins_forever timed out after {timetrap:.1}s while running guest code (no host call)")]),
        ("recurses_forever", vec!["trap: wasm trap: call stack exhausted".into()]),
        ("prints_forever", vec![at("print"), "output limit exceeded: wrote ".into(), "limit 1048576 bytes (sandbox.output_kib = 1024)".into()]),
        ("hits_unreachable", vec![at("unreachable"), "trap: wasm trap: wasm `unreachable` instruction executed".into()]),
        ("divides_by_zero", vec![at("divide"), "panicked: attempt to divide by zero".into()]),
        ("blocks_in_a_host_call", vec![format!("case blocks_in_a_host_call timed out after {timetrap:.1}s while waiting for event `never-emitted` on node first.dev")]),
    ];
    assert_eq!(expectations.len(), declared_cases("hostile").len(), "every hostile case is checked");
    for (case, expected) in &expectations {
        let (secs, reason) = failure_of(&run.stdout, case);
        for text in expected {
            assert!(reason.contains(text.as_str()), "{case}: expected {text:?} in {reason:?}\n{}", run.both());
        }
        assert!(secs <= timetrap + 1.0, "{case} took {secs}s, over its timetrap of {timetrap}s + 1s");
    }
    assert!(run.stdout.contains("[SANDBOX] refused TcpConnect 127.0.0.1:1:"), "{}", run.both());
    // The well-behaved package after them runs and passes.
    let sandboxed = declared_cases("sandboxed");
    for case in &sandboxed {
        assert!(run.stdout.contains(&format!("PASS [")) && run.stdout.contains(&format!("sandboxed/sandboxed/{case}")), "{case}\n{}", run.both());
    }
    assert_eq!(totals(&run.stdout), (sandboxed.len(), expectations.len(), 0), "{}", run.both());
    // A million lines of output are capped in the report, not dumped.
    assert!(run.stdout.contains("output (last 40 of"), "{}", run.both());
    assert!(run.stdout.len() < 200_000, "the report is {} bytes", run.stdout.len());
}

#[test]
fn sandbox_keys_are_validated() {
    let dir = suite("[sandbox]\nmemory_mib = 0\n[[tests]]\n");
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml:2:14: sandbox.memory_mib: must be greater than 0"), "{}", run.both());

    let dir = suite("[[tests]]\n[tests.sandbox]\ndata_dir = \"missing\"\n");
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml:3:12: sandbox.data_dir: no such file or directory"), "{}", run.both());

    let dir = suite("[sandbox]\nmemory = 5\n[[tests]]\n");
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml:2:1: unknown field `memory`"), "{}", run.both());

    let run = run_in(&repo(), &["run", "--timeout-scale", "0"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("is not a number greater than 0"), "{}", run.both());
}
