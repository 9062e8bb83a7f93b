//! Every process group the host started and has not finished off yet, so a second
//! Ctrl-C can kill them all at once — and a watchdog process that kills them if the host
//! dies without cleaning up (SIGKILL). The kernel's parent-death signal covers each
//! group's leader; the watchdog covers what the leaders started.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::os::unix::process::CommandExt;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Mutex;

use nix::sys::signal::Signal;

static LIVE: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
static WATCHDOG: Mutex<Option<ChildStdin>> = Mutex::new(None);
static WATCHDOG_PID: Mutex<Option<u32>> = Mutex::new(None);

fn live() -> std::sync::MutexGuard<'static, BTreeSet<u32>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn tell_watchdog(line: String) {
    let mut watchdog = WATCHDOG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(stdin) = watchdog.as_mut()
        && stdin.write_all(line.as_bytes()).and_then(|()| stdin.flush()).is_err()
    {
        *watchdog = None;
    }
}

/// Start the watchdog: `program args…` (the host binary's hidden `__watchdog` command),
/// in its own process group so terminal signals meant for the host do not reach it.
pub fn start_watchdog(program: &std::path::Path, args: &[&str]) -> std::io::Result<()> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()?;
    *WATCHDOG.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = child.stdin.take();
    *WATCHDOG_PID.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(child.id());
    // The watchdog exits by itself when our end of its stdin closes; reap it then.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// The watchdog's body: read `+PID` / `-PID` lines until the host's end closes (the
/// host exited, however it exited), then SIGKILL every group still registered.
pub fn watchdog_main(input: impl BufRead) {
    let mut groups = BTreeSet::new();
    for line in input.lines() {
        let Ok(line) = line else { break };
        match (line.get(..1), line.get(1..).and_then(|pid| pid.parse::<u32>().ok())) {
            (Some("+"), Some(pid)) => {
                groups.insert(pid);
            }
            (Some("-"), Some(pid)) => {
                groups.remove(&pid);
            }
            _ => {}
        }
    }
    for pid in groups {
        let _ = super::process::signal_group(pid, Signal::SIGKILL);
    }
}

/// Remember the group led by `pid`.
pub fn register(pid: u32) {
    live().insert(pid);
    tell_watchdog(format!("+{pid}\n"));
}

/// Forget the group led by `pid` (it has been killed).
pub fn unregister(pid: u32) {
    live().remove(&pid);
    tell_watchdog(format!("-{pid}\n"));
}

/// SIGKILL every remembered group now. Returns how many there were.
pub fn kill_all() -> usize {
    let groups = std::mem::take(&mut *live());
    for pid in &groups {
        let _ = super::process::signal_group(*pid, Signal::SIGKILL);
    }
    groups.len()
}

/// Owns a process group: registered while alive, SIGKILLed when dropped (on every path,
/// including a cancelled run).
#[derive(Debug)]
pub struct GroupGuard {
    pid: u32,
}

impl GroupGuard {
    /// Take charge of the group led by `pid`.
    pub fn new(pid: u32) -> GroupGuard {
        register(pid);
        GroupGuard { pid }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let _ = super::process::signal_group(self.pid, Signal::SIGKILL);
        unregister(self.pid);
    }
}

/// Make the host the "child subreaper" of everything it starts (Linux): a process that
/// leaves its node's or script's process group — `setsid`, a double fork — is re-parented
/// to the host when its parent dies, instead of to init, so [`kill_strays`] can find it.
pub fn become_subreaper() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    // SAFETY: a plain system call on the current process.
    unsafe {
        if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Kill and reap every child of the host that is not one of its own (the watchdog, a
/// group still registered): descendants of nodes and scripts that escaped their process
/// group and came back to the host as its children (see [`become_subreaper`]). Killing
/// one may hand its own children to the host: repeated until none is left. Call it when
/// every node, script and build of the run has ended. Returns how many were killed.
pub fn kill_strays() -> usize {
    let me = std::process::id();
    let watchdog = *WATCHDOG_PID.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut killed = 0;
    for _ in 0..100 {
        let registered = live().clone();
        let strays: Vec<u32> =
            children_of(me).into_iter().filter(|pid| Some(*pid) != watchdog && !registered.contains(pid)).collect();
        if strays.is_empty() {
            break;
        }
        for &pid in &strays {
            let target = nix::unistd::Pid::from_raw(pid as i32);
            // Its whole group too: an escapee that became a group leader took it along.
            let _ = super::process::signal_group(pid, Signal::SIGKILL);
            let _ = nix::sys::signal::kill(target, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(target, None);
        }
        killed += strays.len();
    }
    killed
}

/// The live (not zombie) pids whose parent is `parent`, from /proc. A zombie has ended
/// already; whoever started it reaps it.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // After the parenthesised name: state, then the parent's pid.
            let mut fields = stat.rsplit(')').next().unwrap_or_default().split_whitespace();
            let state = fields.next();
            let ppid = fields.next().and_then(|ppid| ppid.parse::<u32>().ok());
            ppid == Some(parent) && !matches!(state, Some("Z") | Some("X"))
        })
        .collect()
}
