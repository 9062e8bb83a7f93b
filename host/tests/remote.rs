//! Nodes on a `[[runners]]` machine, through a real sshd this test starts on a free local
//! port with throwaway host and user keys. As root it logs in as a throwaway system user
//! (`hostssh`, made if missing) with root login refused; otherwise as the current user.
//! After a pass, a failure, Ctrl-C and a dropped connection, no process whose command line
//! holds the test's marker (the runner's work directory) is left, on either side.

mod common;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{declared_cases, package, spawn_until, suite, totals};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The throwaway account nodes run as when the tests run as root.
const TEST_USER: &str = "hostssh";

/// An sshd of our own, and what a runner needs to reach it.
struct Sshd {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
    user: String,
    /// The runner's work directory: unique, so it marks every process of the test.
    work_dir: PathBuf,
}

impl Sshd {
    fn start() -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        set_mode(path, 0o755);
        for key in ["host_key", "user_key"] {
            let status = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", ""]).arg("-f").arg(path.join(key)).status();
            assert!(status.expect("ssh-keygen (openssh-client) is needed").success());
        }
        std::fs::copy(path.join("user_key.pub"), path.join("authorized_keys")).unwrap();
        set_mode(&path.join("authorized_keys"), 0o644);
        let root = Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0");
        let user = if root {
            // sshd as root wants its privilege separation directory, and a user whose
            // account is not locked (`*`: no password, key login only).
            std::fs::create_dir_all("/run/sshd").unwrap();
            let made = Command::new("useradd")
                .args(["--system", "--no-create-home", "--shell", "/bin/sh", "--password", "*", TEST_USER])
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(made.success() || made.code() == Some(9), "useradd {TEST_USER}: {made}");
            TEST_USER.to_string()
        } else {
            let out = Command::new("id").arg("-un").output().unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        let port = common::port_below_the_ephemeral_range();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\nPidFile none\nUsePAM no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin no\nAuthorizedKeysFile {dir}/authorized_keys\nStrictModes no\nAllowUsers {user}\n",
            dir = path.display()
        );
        std::fs::write(path.join("sshd_config"), config).unwrap();
        let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"].into_iter().find(|p| Path::new(p).exists()).expect("sshd (openssh-server) is needed");
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(path.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(path.join("sshd.log")).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not listen: {}", std::fs::read_to_string(path.join("sshd.log")).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(20));
        }
        let marker = path.file_name().unwrap().to_string_lossy().replace('.', "");
        let work_dir = PathBuf::from(format!("/tmp/host-remote-test-{marker}"));
        Sshd { dir, child, port, user, work_dir }
    }

    /// A `[[runners]]` table named `box` for this sshd.
    fn runner(&self) -> String {
        format!(
            "[[runners]]\nname = \"box\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\nidentity_file = \"{}\"\nwork_dir = \"{}\"\n",
            self.port,
            self.user,
            self.dir.path().join("user_key").display(),
            self.work_dir.display()
        )
    }

    /// The processes (pid, command line) whose command line names the work directory.
    fn marked(&self) -> Vec<(u32, String)> {
        let marker = self.work_dir.display().to_string();
        let me = std::process::id();
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| pid != me)
            .filter_map(|pid| {
                let line = String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/cmdline")).ok()?).replace('\0', " ");
                line.contains(&marker).then_some((pid, line))
            })
            .collect()
    }

    /// Wait (up to 10 s) until no marked process is left; fail naming those that are.
    fn assert_nothing_left(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = self.marked();
            if left.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                let names: Vec<String> = left.iter().map(|(pid, line)| format!("{pid}: {}", &line[..line.len().min(120)])).collect();
                panic!("processes left behind:\n{}", names.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.work_dir);
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// kvnode, built and copied into the sshd's directory: the runner's user must be able to
/// run it, and a checkout under a private home (`/root`) would not let it.
fn kvnode_for(sshd: &Sshd) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo).args(["build", "-q", "-p", "kvnode", "--message-format=json"]).current_dir(common::repo()).output().unwrap();
    assert!(out.status.success(), "cargo build -p kvnode: {}", String::from_utf8_lossy(&out.stderr));
    let built = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported kvnode's executable");
    let copy = sshd.dir.path().join("kvnode");
    std::fs::copy(built, &copy).unwrap();
    set_mode(&copy, 0o755);
    copy
}

/// A suite of one test `name` running `packages` on kvnode nodes placed on the runner.
fn remote_suite(sshd: &Sshd, name: &str, packages: &[&str], nodes: &[&str]) -> tempfile::TempDir {
    let paths: Vec<String> = packages.iter().map(|p| format!("\"{}\"", package(p))).collect();
    let mut text = format!(
        "runtime = {{ Path = \"{}\" }}\n\n{}\n[[tests]]\nname = \"{name}\"\ntest_package_paths = [{}]\ntimeout_secs = 120\n",
        kvnode_for(sshd).display(),
        sshd.runner(),
        paths.join(", ")
    );
    for node in nodes {
        text.push_str(&format!("\n[[tests.nodes]]\nfake_node_name = \"{node}\"\nruntime_verbosity = 1\nrunner = \"box\"\n"));
    }
    suite(&text)
}

#[test]
fn a_suite_on_a_runner_passes_with_process_control_and_leaves_nothing() {
    let sshd = Sshd::start();
    let dir = remote_suite(&sshd, "control", &["node-control"], &["first.dev", "second.dev"]);
    let run = common::run_in(dir.path(), &["run", "--verbose"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(totals(&run.stdout), (declared_cases("node-control").len(), 0, 0), "{}", run.both());
    // The nodes did run through our sshd, as the runner's user.
    let log = std::fs::read_to_string(sshd.dir.path().join("sshd.log")).unwrap();
    assert!(log.contains(&format!("Accepted publickey for {}", sshd.user)), "{log}");
    sshd.assert_nothing_left();
    assert_eq!(std::fs::read_dir(&sshd.work_dir).map(|d| d.count()).unwrap_or(0), 0, "the nodes' directories on the runner are removed");
}

#[test]
fn a_failing_suite_on_a_runner_shows_the_node_and_leaves_nothing() {
    let sshd = Sshd::start();
    let dir = remote_suite(&sshd, "broken", &["failing", "kv-cases"], &["first.dev"]);
    let run = common::run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    // The node's stdout came back over ssh into the failure's node lines.
    assert!(run.stdout.contains("kvnode first.dev listening on 127.0.0.1:"), "{}", run.both());
    sshd.assert_nothing_left();
}

/// Start a run whose only case sleeps 20 s on a node of the runner; return once the node
/// is ready (and so running over there).
fn start_long_run(sshd: &Sshd) -> (tempfile::TempDir, Child, std::io::BufReader<std::process::ChildStdout>) {
    let dir = remote_suite(sshd, "long", &["sleepy"], &["first.dev"]);
    let (child, rest) = spawn_until(dir.path(), &["run", "--timeout-scale", "10"], |line| line.contains("Node first.dev ready"));
    assert!(sshd.marked().iter().any(|(_, line)| line.contains("kvnode")), "the node runs on the runner: {:?}", sshd.marked());
    (dir, child, rest)
}

fn finish(mut child: Child, mut rest: std::io::BufReader<std::process::ChildStdout>) -> (Option<i32>, String) {
    let mut out = String::new();
    let mut line = String::new();
    while rest.read_line(&mut line).unwrap_or(0) > 0 {
        out.push_str(&line);
        line.clear();
    }
    (child.wait().unwrap().code(), out)
}

#[test]
fn ctrl_c_mid_run_stops_the_remote_node_and_leaves_nothing() {
    let sshd = Sshd::start();
    let (_dir, child, rest) = start_long_run(&sshd);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let (code, out) = finish(child, rest);
    assert_eq!(code, Some(130), "{out}");
    sshd.assert_nothing_left();
}

#[test]
fn a_dropped_connection_kills_the_remote_node_and_fails_the_test() {
    let sshd = Sshd::start();
    let (_dir, child, rest) = start_long_run(&sshd);
    // The ssh client on this side dies: the session's stdin closes on the runner.
    let (client, _) = sshd.marked().into_iter().find(|(_, line)| line.starts_with("ssh ")).expect("the ssh client");
    kill(Pid::from_raw(client as i32), Signal::SIGKILL).unwrap();
    let (code, out) = finish(child, rest);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("ended before the node's exit status came back"), "{out}");
    sshd.assert_nothing_left();
}

#[test]
fn a_killed_sshd_session_kills_the_remote_node_and_fails_the_test() {
    let sshd = Sshd::start();
    let (_dir, child, rest) = start_long_run(&sshd);
    // The server side of the connection dies: its per-connection sshd (a child of ours,
    // the privileged monitor) and the user's side it forked, which holds the channel.
    let monitor = children(sshd.child.id()).into_iter().next().expect("the sshd session process");
    for pid in std::iter::once(monitor).chain(children(monitor)) {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
    let (code, out) = finish(child, rest);
    assert_eq!(code, Some(1), "{out}");
    sshd.assert_nothing_left();
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(1)).and_then(|ppid| ppid.parse::<u32>().ok()) == Some(pid)
        })
        .collect()
}

#[test]
fn the_redis_example_runs_on_a_runner_with_runner_set_on_the_runtime() {
    assert!(common::has_tool("redis-server"), "redis-server is not installed: `apt-get install redis-server` (.ci/run does this)");
    let sshd = Sshd::start();
    // The example as it is, its runtime (Command: looked up on the runner) on the runner.
    // Its first test; the second (network faults) is for nodes on this machine only.
    let example = std::fs::read_to_string(common::repo().join("examples/redis/tests.toml")).unwrap();
    let first = example.split("\n# The same replication under network faults").next().unwrap();
    assert_eq!(first.matches("[[tests]]").count(), 1, "the example changed shape:\n{example}");
    let text = first
        .replace("[runtime]\n", "[runtime]\nrunner = \"box\"\n")
        .replace("../../test-packages/redis-replication", &package("redis-replication"));
    assert!(text.contains("runner = \"box\"") && text.contains(&package("redis-replication")), "the example changed shape:\n{text}");
    let dir = suite(&format!("{}\n{text}", sshd.runner()));
    let run = common::run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(totals(&run.stdout), (declared_cases("redis-replication").len(), 0, 0), "{}", run.both());
    sshd.assert_nothing_left();
}
