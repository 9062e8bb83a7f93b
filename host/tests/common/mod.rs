//! Helpers for driving the real `host` binary against real nodes and packages.
#![allow(dead_code)]

// Rebuilt whenever the checkout it was last built for is another: see .cargo/config.toml.
const _: Option<&str> = option_env!("HOST_CHECKOUT");

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod html_dom;

/// The repository root (the workspace of `host`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A test package directory under `test-packages/`.
pub fn package(name: &str) -> String {
    repo().join("test-packages").join(name).display().to_string()
}

/// The compile cache of the test suite: `$HOST_TEST_CACHE_DIR`, else `test-cache` in the
/// user's host cache (`$XDG_CACHE_HOME/host`, else `~/.cache/host`). Every checkout on the
/// machine shares it — its entries are keyed by content (components, declared builds) — so a
/// second clone's tests neither build nor compile a package the first one did.
pub fn test_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("HOST_TEST_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    cache.map_or_else(|| repo().join("target").join("host-test-cache"), |cache| cache.join("host").join("test-cache"))
}

/// `host` with the compile cache of the test suite ([`test_cache`]).
pub fn host() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_host"));
    command.env("HOST_CACHE_DIR", test_cache());
    command.env_remove("NO_COLOR");
    if let Ok(joined) = std::env::join_paths(search_path()) {
        command.env("PATH", joined);
    }
    command
}

/// The PATH the tests give `host`: the guest toolchains that scripts/install-tools puts in
/// .tools/ (project-local) first, so a plain `cargo test` finds them once installed.
pub fn search_path() -> Vec<PathBuf> {
    let tools = repo().join(".tools");
    let mut path: Vec<PathBuf> = [tools.join("cargo/bin"), tools.join("venv/bin")].into_iter().filter(|dir| dir.is_dir()).collect();
    path.extend(std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default());
    path
}

/// Whether `tool` is an executable on [`search_path`].
pub fn has_tool(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    search_path().iter().any(|dir| dir.join(tool).metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// What a run printed, with both streams as text.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn both(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// Run `host ARGS…` in `cwd`.
pub fn run_in(cwd: &Path, args: &[&str]) -> Run {
    host().current_dir(cwd).args(args).output().expect("cannot run host").into()
}

/// A tests.toml in a fresh temporary directory, with `{repo}` replaced by the repository root.
pub fn suite(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = text.replace("{repo}", &repo().display().to_string());
    std::fs::write(dir.path().join("tests.toml"), text).unwrap();
    dir
}

/// The line of `file` (relative to the repo) holding `// MARK: name`.
pub fn marked_line(file: &str, name: &str) -> usize {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let marker = format!("// MARK: {name}");
    text.lines().position(|line| line.trim_end().ends_with(&marker)).unwrap_or_else(|| panic!("no {marker} in {file}")) + 1
}

/// The case names a Rust package declares in its `test_package!(…)` invocation.
pub fn declared_cases(package: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("test-packages").join(package).join("src/lib.rs")).unwrap();
    let start = text.find("test_package!(").expect("no test_package! invocation") + "test_package!(".len();
    let end = start + text[start..].find(')').unwrap();
    text[start..end].split(',').map(|name| name.trim().to_string()).filter(|name| !name.is_empty()).collect()
}

/// `N passed, N failed, N skipped` from a run's output.
pub fn totals(output: &str) -> (usize, usize, usize) {
    let line = output.lines().rev().find(|line| line.contains(" passed, ")).expect("no summary line");
    let numbers: Vec<usize> = line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    (numbers[0], numbers[1], numbers[2])
}

/// A test named `broken` with the `failing` package, then `kv-cases` (skipped after the
/// failure), on one kvnode node `first.dev`.
pub fn failing_suite(timeout_secs: u32) -> tempfile::TempDir {
    suite(&format!(
        r#"
runtime = {{ RepoPath = "{{repo}}/kvnode" }}

[[tests]]
name = "broken"
test_package_paths = ["{}", "{}"]
timeout_secs = {timeout_secs}

[[tests.nodes]]
fake_node_name = "first.dev"
"#,
        package("failing"),
        package("kv-cases")
    ))
}

/// A suite with one test `test` running the package `test-packages/<package>` on kvnode
/// nodes with these names (verbosity 1, so they print each request), 120 s of budget.
pub fn node_suite(test: &str, package_name: &str, nodes: &[&str]) -> tempfile::TempDir {
    let mut text = format!(
        "runtime = {{ RepoPath = \"{{repo}}/kvnode\" }}\n\n[[tests]]\nname = \"{test}\"\ntest_package_paths = [\"{}\"]\ntimeout_secs = 120\n",
        package(package_name)
    );
    for node in nodes {
        text.push_str(&format!("\n[[tests.nodes]]\nfake_node_name = \"{node}\"\nruntime_verbosity = 1\n"));
    }
    suite(&text)
}

/// Start `host ARGS…` in `cwd` with stdout and stderr piped.
pub fn spawn_piped(cwd: &Path, args: &[&str]) -> std::process::Child {
    host()
        .current_dir(cwd)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run host")
}

/// Start `host ARGS…` in `cwd` with piped output, and read its stdout up to and including
/// the first line `until` accepts (or to its end). Returns the child and the rest of its
/// stdout.
pub fn spawn_until(cwd: &Path, args: &[&str], until: impl Fn(&str) -> bool) -> (std::process::Child, std::io::BufReader<std::process::ChildStdout>) {
    use std::io::BufRead as _;
    let mut child = spawn_piped(cwd, args);
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    while stdout.read_line(&mut line).expect("host's stdout") > 0 && !until(&line) {
        line.clear();
    }
    (child, stdout)
}

/// Run `host ARGS…` in `cwd`, polling its peak resident memory (VmHWM) while it runs.
/// Returns the run and the peak in KiB (the last reading before it exited).
pub fn run_measuring_peak(cwd: &Path, args: &[&str]) -> (Run, u64) {
    let child = spawn_piped(cwd, args);
    let status_file = format!("/proc/{}/status", child.id());
    std::thread::scope(|scope| {
        let poll = scope.spawn(|| {
            let mut peak = 0u64;
            while let Ok(status) = std::fs::read_to_string(&status_file) {
                let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
                peak = peak.max(hwm.unwrap_or(0));
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            peak
        });
        let run = Run::from(child.wait_with_output().expect("cannot wait for host"));
        (run, poll.join().expect("the memory poll"))
    })
}

/// A free TCP port on 127.0.0.1 for something that binds it later (a fixed node port,
/// sshd): from 5000–9999, below the kernel's ephemeral range (no `bind(0)` or outgoing
/// connection lands there) and below the ports the host picks for nodes (from 10000).
pub fn port_below_the_ephemeral_range() -> u16 {
    const FLOOR: u16 = 5_000;
    const END: u16 = 10_000;
    // Each call starts elsewhere (tests of one binary run at once, and the port is bound
    // only later), and each binary elsewhere too (by its pid).
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let span = u32::from(END - FLOOR);
    let start = FLOOR + (std::process::id().wrapping_mul(7919).wrapping_add(call.wrapping_mul(101)) % span) as u16;
    (start..END)
        .chain(FLOOR..start)
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("no free port in 5000-9999")
}
