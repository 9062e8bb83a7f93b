//! Packages in any language: a `host-package.toml` declares the build; its result is
//! cached by the content of the inputs, so an unchanged package is not built again.

mod common;

use common::{declared_cases, repo, run_in, suite, totals};

/// A suite of one test whose package `pkg` is a declared build — a stand-in "language":
/// the build copies a component built by cargo and logs itself to `builds.log`.
fn declared_suite() -> tempfile::TempDir {
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
    dir
}

#[test]
fn a_declared_build_runs_once_until_an_input_changes() {
    let dir = declared_suite();
    let pkg = dir.path().join("pkg");
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

#[test]
fn verbose_says_what_is_built_and_compiled_and_why_and_a_plain_run_does_not() {
    let dir = declared_suite();
    let cache = dir.path().join("cache");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--cache-dir", cache.to_str().unwrap()];
        args.extend_from_slice(extra);
        common::Run::from(common::host().current_dir(dir.path()).args(&args).output().unwrap())
    };
    // A cold cache: the build and the compile are announced with their reasons and times.
    let cold = run(&["--verbose"]);
    assert_eq!(cold.code, Some(0), "{}", cold.both());
    let lines: Vec<&str> = cold.stdout.lines().collect();
    let position = |start: &str| lines.iter().position(|line| line.starts_with(start)).unwrap_or_else(|| panic!("no {start:?} in {}", cold.both()));
    let building = position("   Building pkg (");
    assert!(lines[building].ends_with("): no cached build of its current sources, command and contract"), "{}", lines[building]);
    let built = position("      Built pkg in ");
    let compiling = position("  Compiling pkg (cache miss)");
    let compiled = position("   Compiled pkg in ");
    let booting = position("    Booting node first.dev (test ");
    assert!(building < built && built < compiling && compiling < compiled && compiled < booting, "{}", cold.stdout);
    // A warm cache: nothing built or compiled; the component comes from the cache.
    let warm = run(&["-v"]);
    assert_eq!(warm.code, Some(0), "{}", warm.both());
    assert!(warm.stdout.contains("     Loaded pkg from the compile cache in "), "{}", warm.both());
    assert!(!warm.stdout.contains("Compiling") && !warm.stdout.contains("Building"), "{}", warm.both());
    // Without --verbose, and with no terminal, nothing about compiles or boots.
    let plain = common::Run::from(
        common::host().current_dir(dir.path()).args(["run", "--no-cache"]).env("HOST_CACHE_DIR", &cache).output().unwrap(),
    );
    assert_eq!(plain.code, Some(0), "{}", plain.both());
    for word in ["Compil", "Loaded", "Booting", "Built"] {
        assert!(!plain.both().contains(word), "{word}: {}", plain.both());
    }
}

#[test]
fn a_rust_package_that_does_not_compile_exits_2_naming_it_with_the_compiler_error() {
    let dir = suite("[[tests]]\ntest_package_paths = [\"broken\"]\n");
    let pkg = dir.path().join("broken");
    std::fs::create_dir_all(pkg.join("src")).unwrap();
    std::fs::write(
        pkg.join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[lib]\ncrate-type = [\"cdylib\"]\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(pkg.join("src/lib.rs"), "pub fn f() -> u32 { \"not a number\" }\n").unwrap();
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    let dir_name = pkg.canonicalize().unwrap();
    assert!(
        run.stderr.contains(&format!("{}: build command `", dir_name.display())) || run.stderr.contains(&format!("{}: build command `", pkg.display())),
        "the error names the package directory: {}",
        run.both()
    );
    assert!(run.stderr.contains("mismatched types") && run.stderr.contains("src/lib.rs"), "the compiler's error is shown: {}", run.both());
    assert!(run.stderr.contains("error: test test-1: package broken: "), "and which test and package: {}", run.both());
}
