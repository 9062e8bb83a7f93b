//! Test packages written in JavaScript (`guest-sdk/js`): built by `host run` through their
//! `host-package.toml` (componentize-qjs, installed by `npm install --prefix guest-sdk/js`; this
//! test installs nothing), run against real kvnode nodes, failures reported at the line
//! of the JavaScript source.

mod common;

use common::{marked_line, node_suite, repo, run_in, suite, totals};

const FAILING_JS: &str = "test-packages/js-failing/app.js";

#[test]
fn a_javascript_package_drives_two_kvnode_nodes_and_passes() {
    let dir = node_suite("js", "js-kv", &["first.dev", "second.dev"]);
    let listed = run_in(&repo(), &["list", dir.path().to_str().unwrap()]);
    assert_eq!(listed.code, Some(0), "{}", listed.both());
    let cases: Vec<&str> = listed.stdout.lines().filter(|line| line.starts_with("js/js-kv/")).collect();
    assert!(cases.len() >= 2, "js-kv should declare at least two cases:\n{}", listed.both());

    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(totals(&run.stdout), (cases.len(), 0, 0), "{}", run.both());
    for case in cases {
        assert!(
            run.stdout.lines().any(|line| line.contains("PASS [") && line.trim_end().ends_with(case)),
            "{case} did not pass:\n{}",
            run.both()
        );
    }
}

#[test]
fn javascript_failures_report_the_marked_line_and_the_message() {
    let dir = node_suite("broken", "js-failing", &["first.dev"]);
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert_eq!(totals(&run.stdout), (0, 2, 0), "{}", run.both());
    let expectations = [
        ("fails_with_message", "fail", "the answer is 42 but 1 nodes were given"),
        ("throws_an_uncaught_error", "throw", "uncaught RangeError: no key missing among 1"),
    ];
    for (case, mark, message) in expectations {
        assert!(run.stdout.contains("FAIL [") && run.stdout.contains(&format!("broken/js-failing/{case}")), "{}", run.both());
        // `test-packages/js-failing/app.js:LINE:COLUMN: MESSAGE`, the path as seen from the
        // working directory, the line exactly the marked one.
        let prefix = format!("{FAILING_JS}:{}:", marked_line(FAILING_JS, mark));
        let reported = run.stdout.lines().map(|line| line.trim().trim_start_matches("--> ")).any(|line| {
            line.strip_prefix(&prefix)
                .and_then(|rest| rest.split_once(": "))
                .is_some_and(|(column, rest)| column.parse::<u32>().is_ok_and(|c| c > 0) && rest == message)
        });
        assert!(reported, "missing `{prefix}COLUMN: {message}`:\n{}", run.both());
    }
}

#[test]
fn a_missing_javascript_toolchain_is_a_clear_build_error() {
    // A copy of the SDK without node_modules: the build says what to install, exit 2.
    let dir = suite(
        r#"
[[tests]]
test_package_paths = ["pkg"]
"#,
    );
    let sdk = dir.path().join("sdk");
    std::fs::create_dir(&sdk).unwrap();
    for file in ["build.js", "index.js", "package.json"] {
        std::fs::copy(repo().join("guest-sdk/js").join(file), sdk.join(file)).unwrap();
    }
    let pkg = dir.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    std::fs::copy(repo().join(FAILING_JS), pkg.join("app.js")).unwrap();
    std::fs::write(
        pkg.join("host-package.toml"),
        r#"build = ["node", "../sdk/build.js", "app.js", "--out", "{out}", "--wit", "{wit}", "--world", "{world}"]"#,
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let run = run_in(dir.path(), &["run", "--cache-dir", cache.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("componentize-qjs) is not installed"), "{}", run.both());
    assert!(run.stderr.contains(&format!("npm install --prefix {}", sdk.canonicalize().unwrap().display())), "{}", run.both());
}
