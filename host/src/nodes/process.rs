//! Spawning one daemon process in its own process group, and signalling that group.

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use super::NodeSpec;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

impl From<ExitStatus> for ExitInfo {
    fn from(status: ExitStatus) -> ExitInfo {
        ExitInfo { code: status.code(), signal: status.signal() }
    }
}

impl fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exited with code {code}"),
            (None, Some(signal)) => match Signal::try_from(signal) {
                Ok(name) => write!(f, "killed by signal {signal} ({name})"),
                Err(_) => write!(f, "killed by signal {signal}"),
            },
            (None, None) => write!(f, "ended with an unknown status"),
        }
    }
}

/// Start `spec`'s program: own process group, piped output, and (on Linux) a parent-death
/// signal so the daemon dies with the host even if the host is SIGKILLed.
pub fn spawn(spec: &NodeSpec) -> std::io::Result<Child> {
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(&spec.env)
        .current_dir(&spec.cwd)
        .stdin(Stdio::null());
    spawn_supervised(&mut command)
}

/// Spawn `command` with stdout and stderr piped, in a process group of its own, with a
/// parent-death signal (what every node process gets, and the `ssh` of a remote node).
pub fn spawn_supervised(command: &mut Command) -> std::io::Result<Child> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0).kill_on_drop(false);
    let host = std::process::id();
    // SAFETY: `die_with_parent` only makes async-signal-safe system calls.
    unsafe {
        command.pre_exec(move || die_with_parent(host));
    }
    command.spawn()
}

/// Run between fork and exec: ask the kernel to SIGKILL the child when the host dies,
/// even by SIGKILL. Only async-signal-safe calls (prctl, getppid, kill).
/// `host` is the host's pid, read before the fork.
pub fn die_with_parent(host: u32) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the current process.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // The host may have died between fork and prctl: then we are orphaned already.
        if libc::getppid() as u32 != host {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
    Ok(())
}

/// Send `signal` to the whole process group led by `pid`. A group that is already gone
/// is not an error.
pub fn signal_group(pid: u32, signal: Signal) -> nix::Result<()> {
    match killpg(Pid::from_raw(pid as i32), signal) {
        Err(nix::errno::Errno::ESRCH) => Ok(()),
        other => other,
    }
}

/// Whether every thread of process `pid` is stopped (state `T` or `t` in /proc), or the
/// process is gone.
pub fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return true };
    tasks.flatten().all(|task| {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The state follows the parenthesised command name, which may itself hold spaces.
        let state = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next());
        matches!(state, None | Some("T") | Some("t") | Some("Z") | Some("X"))
    })
}

/// Whether process `pid` exists and has not exited (a zombie, exited but not yet reaped,
/// counts as gone).
pub fn is_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let state = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next());
    !matches!(state, None | Some("Z") | Some("X"))
}
