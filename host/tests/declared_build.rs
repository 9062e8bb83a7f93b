//! Packages in any language: a `host-package.toml` declares the build; its result is
//! cached by the content of the inputs, so an unchanged package is not built again.

mod common;

use common::{declared_cases, repo, run_in, suite, totals};

#[test]
fn a_declared_build_runs_once_until_an_input_changes() {
    // A stand-in "language": the build copies a component built by cargo and logs itself.
    let built = common::host().current_dir(repo()).args(["list", "tests.toml", "single-node"]).output().unwrap();
    assert!(built.status.success());
    let component = repo().join("test-packages/target/wasm32-wasip2/release/kv_cases.wasm");
    let dir = suite(
        r#"
runtime = { RepoPath = "{repo}/kvnode" }

[[tests]]
test_package_paths = ["pkg"]

[[tests.nodes]]
fake_node_name = "first.dev"
"#,
    );
    let pkg = dir.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    std::fs::write(pkg.join("source.txt"), "version 1").unwrap();
    std::fs::write(
        pkg.join("host-package.toml"),
        format!(
            "build = [\"sh\", \"-c\", \"echo built >> ../builds.log && test -f {{wit}}/tester.wit && cp {} {{out}}\"]\ninputs = [\"*.txt\"]\n",
            component.display()
        ),
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let run = || {
        let output = common::host().current_dir(dir.path()).args(["run", "--cache-dir", cache.to_str().unwrap()]).output().unwrap();
        common::Run::from(output)
    };
    let builds = || std::fs::read_to_string(dir.path().join("builds.log")).unwrap_or_default().lines().count();
    let first = run();
    assert_eq!(first.code, Some(0), "{}", first.both());
    assert_eq!(totals(&first.stdout), (declared_cases("kv-cases").len(), 0, 0), "{}", first.both());
    assert_eq!(builds(), 1);
    let building = "Building pkg (";
    assert!(first.stdout.contains("): no cached build of its current sources, command and contract"), "{}", first.both());
    let second = run();
    assert_eq!(second.code, Some(0), "{}", second.both());
    assert_eq!(builds(), 1, "an unchanged package is not built again");
    assert!(!second.stdout.contains(building), "a current package is not announced as building: {}", second.both());
    std::fs::write(pkg.join("source.txt"), "version 2").unwrap();
    let third = run();
    assert_eq!(third.code, Some(0), "{}", third.both());
    assert_eq!(builds(), 2, "a changed input rebuilds");
    assert!(third.stdout.contains(building), "{}", third.both());
}

#[test]
fn a_failing_declared_build_exits_2_with_its_output() {
    let dir = suite("[[tests]]\ntest_package_paths = [\"pkg\"]\n");
    let pkg = dir.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    std::fs::write(pkg.join("host-package.toml"), "build = [\"sh\", \"-c\", \"echo compiler says no >&2; exit 4\"]\n").unwrap();
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("failed (exit status: 4)") && run.stderr.contains("compiler says no"), "{}", run.both());

    std::fs::write(pkg.join("host-package.toml"), "biuld = []\n").unwrap();
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("host-package.toml:1:1: unknown field `biuld`"), "{}", run.both());
}
