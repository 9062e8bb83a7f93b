//! Network faults (`network_faults = true`), for real: each fault measured on a TCP
//! exchange with kvnode, a partition of a real etcd cluster (Debian's etcd-server), both
//! run by an unprivileged user (uid 65534, through `setpriv`, when the tests run as
//! root), and the cleanup after a failing test and after Ctrl-C. Plus the proxy driven
//! directly, where the client is native code that sees the exact socket error.

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{declared_cases, host, package, repo, run_in, suite};
use host::netfault::{Direction, Fault, Network, Target};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

fn events(stdout: &str) -> Vec<Value> {
    stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|event| event["type"] == kind).collect()
}

/// The packages and kvnode, built once by the current user (an unprivileged user cannot
/// write the build directories): `(kvnode, net-faults.wasm, etcd-partition.wasm)`.
fn prebuilt() -> &'static (PathBuf, PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        // One quick case builds kvnode and net-faults; `list` builds etcd-partition.
        let run = run_in(&repo(), &["run", "examples/network-faults", "kv-faults/net-faults/faults_on_unknown_nodes_are_error_values"]);
        assert_eq!(run.code, Some(0), "{}", run.both());
        let list = run_in(&repo(), &["list", "examples/network-faults"]);
        assert_eq!(list.code, Some(0), "{}", list.both());
        let wasm = |name: &str| repo().join("test-packages/target/wasm32-wasip2/release").join(name);
        let built = (repo().join("target/debug/kvnode"), wasm("net_faults.wasm"), wasm("etcd_partition.wasm"));
        for path in [&built.0, &built.1, &built.2] {
            assert!(path.is_file(), "{} was not built", path.display());
        }
        built
    })
}

/// Whether every user may run `path`: it and every directory above it are open to others.
fn open_to_everyone(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| p.metadata().map_or(0, |m| m.permissions().mode());
    mode(path) & 0o005 == 0o005 && path.ancestors().skip(1).all(|dir| mode(dir) & 0o001 != 0)
}

/// The host binary as the unprivileged user runs it: in place when it can (it is half a
/// gigabyte), else a copy in `dir`.
fn host_binary(dir: &Path) -> PathBuf {
    let built = Path::new(env!("CARGO_BIN_EXE_host"));
    if open_to_everyone(built) {
        return built.to_path_buf();
    }
    std::fs::copy(built, dir.join("host")).unwrap();
    dir.join("host")
}

/// A directory the unprivileged user owns, holding copies of kvnode and the two packages
/// (the repository may sit where that user cannot read), and a tests.toml made from
/// examples/network-faults that points at them.
fn unprivileged_suite() -> tempfile::TempDir {
    let (kvnode, net_faults, etcd_partition) = prebuilt();
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [(kvnode.as_path(), "kvnode"), (net_faults.as_path(), "net-faults.wasm"), (etcd_partition.as_path(), "etcd-partition.wasm")] {
        std::fs::copy(from, dir.path().join(to)).unwrap();
    }
    let example = std::fs::read_to_string(repo().join("examples/network-faults/tests.toml")).unwrap();
    let example = example
        .replace("{ RepoPath = \"../../kvnode\",", "{ Path = \"kvnode\",")
        .replace("../../test-packages/net-faults", "net-faults.wasm")
        .replace("../../test-packages/etcd-partition", "etcd-partition.wasm");
    std::fs::write(dir.path().join("tests.toml"), example).unwrap();
    std::fs::create_dir(dir.path().join("cache")).unwrap();
    if is_root() {
        let status = Command::new("chown").args(["-R", "65534:65534"]).arg(dir.path()).status().unwrap();
        assert!(status.success());
    }
    dir
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `host ARGS…` in `dir` as uid/gid 65534 (nobody) with no supplementary groups when the
/// tests run as root; as the current (unprivileged) user otherwise.
fn run_unprivileged(dir: &Path, args: &[&str]) -> common::Run {
    let mut command = if is_root() {
        let mut command = Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(host_binary(dir));
        command
    } else {
        Command::new(host_binary(dir))
    };
    let path = std::env::join_paths(common::search_path()).unwrap();
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .env("HOST_CACHE_DIR", dir.join("cache"))
        .env("TMPDIR", dir);
    command.output().expect("cannot run host unprivileged").into()
}

#[test]
fn each_fault_changes_a_real_tcp_exchange_for_an_unprivileged_user() {
    let dir = unprivileged_suite();
    let run = run_unprivileged(dir.path(), &["run", "tests.toml", "kv-faults", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = events(&run.stdout);
    let cases = of_type(&events, "case_finished");
    assert_eq!(cases.len(), declared_cases("net-faults").len(), "{}", run.both());
    assert!(cases.iter().all(|case| case["outcome"]["status"] == "passed"), "{}", run.both());
    // What each case measured, in its own words (lower bounds only: see the package).
    let output = |case: &str| cases.iter().find(|c| c["case"] == case).map(|c| c["output"].as_str().unwrap_or("").to_string()).unwrap();
    assert!(output("latency_adds_to_every_round_trip").contains("round trip with 100 ± 20 ms each way"), "{}", run.both());
    assert!(output("slicer_delivers_in_small_writes").contains("reads"), "{}", run.both());
    let details: Vec<&str> = of_type(&events, "network_fault").iter().filter_map(|e| e["detail"].as_str()).collect();
    for expected in ["latency 100 ms ± 20 ms on anyone → a (both ways)", "bandwidth 98304 bytes/s on anyone → a (downstream)", "reset connections on anyone → a", "slicer 100 ± 50 bytes", "a → b held", "a → b flows again"] {
        assert!(details.iter().any(|d| d.contains(expected)), "no network_fault event with {expected:?}: {details:?}");
    }
}

#[test]
fn an_isolated_etcd_leader_cannot_commit_and_the_majority_can_without_root() {
    assert!(common::has_tool("etcd"), "etcd is not installed: `apt-get install etcd-server` (scripts/test does this)");
    let dir = unprivileged_suite();
    let run = run_unprivileged(dir.path(), &["run", "tests.toml", "etcd-partition", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = events(&run.stdout);
    let cases = of_type(&events, "case_finished");
    assert_eq!(cases.len(), 1, "{}", run.both());
    assert_eq!(cases[0]["outcome"]["status"], "passed", "{}", run.both());
    // The partition is real: etcd itself refused the isolated leader's write once its
    // request timeout passed (the package fails if the write succeeds).
    let output = cases[0]["output"].as_str().unwrap();
    assert!(output.contains("write to the isolated leader: Some(") && output.contains("request timed out"), "{output}");
    let faults = of_type(&events, "network_fault");
    assert_eq!(faults.first().map(|e| e["action"].clone()), Some("isolate".into()), "{faults:?}");
    assert!(faults.iter().any(|e| e["action"] == "heal"), "{faults:?}");
    assert_dead(&events);
}

#[test]
fn the_python_sdk_slows_and_cuts_the_same_links() {
    assert!(common::has_tool("componentize-py"), "componentize-py is not installed (scripts/install-tools installs it)");
    let run = run_in(&repo(), &["run", "examples/network-faults-python", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = events(&run.stdout);
    let cases = of_type(&events, "case_finished");
    assert_eq!(cases.len(), 3, "{}", run.both());
    assert!(cases.iter().all(|case| case["outcome"]["status"] == "passed"), "{}", run.both());
    let actions: Vec<&str> = of_type(&events, "network_fault").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["add-fault", "heal", "cut", "heal-link"], "{}", run.both());
}

/// Every node the run started has exited, and no proxy accepts connections any more.
fn assert_dead(events: &[Value]) {
    for started in of_type(events, "node_started") {
        let pid = started["pid"].as_u64().unwrap();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(stat.is_empty() || stat.contains(") Z "), "node {} (pid {pid}) outlived the run", started["node"]);
        let address = started["address"].as_str().unwrap();
        assert!(TcpStream::connect(address).is_err(), "the proxy at {address} of node {} still accepts connections", started["node"]);
    }
}

/// A test whose package isolates `a`, cuts `b` from `a` and slows `b`, then fails or waits.
fn broken_network_suite() -> tempfile::TempDir {
    suite(&format!(
        r#"
runtime = {{ RepoPath = "{{repo}}/kvnode", args = ["--name", "{{name}}", "--port", "{{listen_port}}", "--home", "{{home}}", "--events", "{{event_pipe}}", "--peers", "{{peers}}"] }}

[[tests]]
name = "broken-network"
network_faults = true
test_package_paths = ["{}"]
timeout_secs = 120

[[tests.nodes]]
name = "a"

[[tests.nodes]]
name = "b"
"#,
        package("partitioned-failure")
    ))
}

/// The heal the host did at the test's end, after the package's faults.
fn assert_healed_at_the_end(events: &[Value]) {
    let faults = of_type(events, "network_fault");
    let actions: Vec<&str> = faults.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["isolate", "cut", "add-fault", "heal"], "{faults:?}");
    assert_eq!(faults[3]["detail"], "the test ended: every cut and fault healed", "{faults:?}");
    // Healed before the nodes were stopped.
    let heal = events.iter().position(|e| e["type"] == "network_fault" && e["action"] == "heal").unwrap();
    let exited = events.iter().position(|e| e["type"] == "node_exited").unwrap();
    assert!(heal < exited, "the heal came after teardown began");
}

#[test]
fn a_failing_test_leaves_every_link_healed_and_nothing_running() {
    let dir = broken_network_suite();
    let run = run_in(dir.path(), &["run", "tests.toml", "fails_while_partitioned", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let events = events(&run.stdout);
    let case = of_type(&events, "case_finished")[0].clone();
    assert_eq!(case["outcome"]["failure"]["message"], "failing on purpose with a isolated", "{}", run.both());
    assert_healed_at_the_end(&events);
    assert_dead(&events);
}

#[test]
fn without_network_faults_a_network_call_is_an_unavailable_error() {
    let dir = suite(&format!(
        "runtime = {{ RepoPath = \"{{repo}}/kvnode\" }}\n[[tests]]\nname = \"plain\"\ntest_package_paths = [\"{}\"]\n[[tests.nodes]]\nname = \"a\"\n",
        package("partitioned-failure")
    ));
    let run = run_in(dir.path(), &["run", "tests.toml", "network_is_unavailable_without_network_faults", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = events(&run.stdout);
    assert!(of_type(&events, "network_fault").is_empty(), "{}", run.both());
}

#[test]
fn ctrl_c_leaves_every_link_healed_and_nothing_running() {
    let dir = broken_network_suite();
    let mut child = host()
        .current_dir(dir.path())
        .args(["run", "tests.toml", "waits_while_partitioned", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    let mut line = String::new();
    // Interrupt once the package's last fault is armed.
    while stdout.read_line(&mut line).unwrap() > 0 {
        let event: Value = serde_json::from_str(&line).unwrap();
        line.clear();
        let armed = event["type"] == "network_fault" && event["action"] == "add-fault";
        seen.push(event);
        if armed {
            break;
        }
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen:?}\n{rest}");
    seen.extend(events(&rest));
    assert_healed_at_the_end(&seen);
    assert_dead(&seen);
}

/// An echo server on a free port: every connection gets back what it sends.
fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buffer = [0u8; 65536];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 || stream.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

fn target(direction: Direction) -> Target {
    Target { to: "echo".into(), from: None, direction }
}

#[test]
fn the_proxy_resets_with_a_real_rst_and_delays_and_paces_real_bytes() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _entered = runtime.enter();
    let network = Network::new();
    let port = network.expose("echo", "127.0.0.1", echo_server()).unwrap();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buffer = [0u8; 4];
    client.write_all(b"ping").unwrap();
    client.read_exact(&mut buffer).unwrap();
    // Latency each way: a round trip takes at least twice the latency less the jitter.
    network.add_fault(target(Direction::Both), Fault::Latency { latency: Duration::from_millis(80), jitter: Duration::from_millis(10) }).unwrap();
    let started = Instant::now();
    client.write_all(b"ping").unwrap();
    client.read_exact(&mut buffer).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(140), "round trip {:?}", started.elapsed());
    network.heal();
    // Bandwidth: 64 KiB back at 128 KiB/s take at least half a second.
    network.add_fault(target(Direction::Downstream), Fault::Bandwidth { bytes_per_sec: 128 * 1024 }).unwrap();
    let started = Instant::now();
    client.write_all(&[7u8; 64 * 1024]).unwrap();
    let mut back = vec![0u8; 64 * 1024];
    client.read_exact(&mut back).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(500), "64 KiB at 128 KiB/s in {:?}", started.elapsed());
    network.heal();
    // Reset: the open connection fails with ECONNRESET, not an end of file.
    network.add_fault(target(Direction::Both), Fault::Reset).unwrap();
    let error = client.read(&mut buffer).map(|n| format!("read {n} bytes")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
    assert!(runtime.block_on(network.shutdown()), "the reset was in force");
    assert_eq!(network.open_connections(), 0);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the proxy still listens after shutdown");
}
