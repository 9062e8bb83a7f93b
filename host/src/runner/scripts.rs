//! Setup scripts (run alongside the nodes) and test scripts (must exit 0).

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio::process::{Child, Command};

use crate::config::Script;
use crate::events::{FailureDetail, FailureKind, Outcome};
use crate::nodes::Node;
use crate::nodes::groups::GroupGuard;

/// Build the command for `script`: its arguments rendered against the test's nodes
/// (`{port}` means the first node's, `{port:NAME}` another's), node details in
/// `HOST_*` environment variables, its own process group.
fn command(script: &Script, test: &str, nodes: &[Arc<Node>], cwd: &Path) -> Command {
    // The nodes as a script sees them: `{port}` is the first node's; `{verbosity}` and
    // `{password}` have no value here (validation refuses them in script arguments).
    let book = super::boot::address_book(nodes);
    // Validation makes every argument resolvable; one that is not anyway is passed as
    // written (visibly wrong), never as an empty string.
    let args = script.args.iter().map(|arg| book.render(None, arg).unwrap_or_else(|_| arg.to_string()));
    let mut command = Command::new(&script.path);
    command
        .args(args)
        .current_dir(cwd)
        .env("HOST_TEST", test)
        .env("HOST_NODES", nodes.iter().map(|n| n.spec.name.as_str()).collect::<Vec<_>>().join(","))
        .stdin(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    let host = std::process::id();
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || crate::nodes::process::die_with_parent(host));
    }
    for node in nodes {
        let prefix = format!("HOST_NODE_{}", env_name(&node.spec.name));
        command
            .env(format!("{prefix}_ADDRESS"), node.spec.address())
            .env(format!("{prefix}_PORT"), node.spec.port.to_string())
            .env(format!("{prefix}_HOME"), &node.spec.home);
    }
    command
}

/// `first.dev` → `FIRST_DEV`.
pub fn env_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

/// A script running in the background; dropping it kills its process group.
pub struct Background {
    child: Child,
    _group: Option<GroupGuard>,
}

/// Start a setup script in the background; its output goes to `log`.
pub fn start_setup(script: &Script, test: &str, nodes: &[Arc<Node>], cwd: &Path, log: &Path) -> Result<Background> {
    let file = std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let child = command(script, test, nodes, cwd)
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()
        .with_context(|| format!("cannot start setup script {}", script.path.display()))?;
    let group = child.id().map(GroupGuard::new);
    Ok(Background { child, _group: group })
}

/// Stop a background script and everything it started, and reap it.
pub async fn stop(background: Background) {
    let Background { mut child, _group } = background;
    drop(_group);
    let _ = child.wait().await;
}

/// Run a test script to completion within `timeout`; it passes when it exits 0.
pub async fn run_test_script(
    script: &Script,
    test: &str,
    nodes: &[Arc<Node>],
    cwd: &Path,
    timeout: Duration,
) -> (Outcome, String) {
    let file = script.path.display().to_string();
    let failure = |message: String| Outcome::Failed {
        failure: FailureDetail { kind: FailureKind::Fail, file: file.clone(), line: 0, column: 0, message },
    };
    let child = command(script, test, nodes, cwd).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) => return (failure(format!("cannot start: {e}")), String::new()),
    };
    // Killed with its whole group however this ends, also when the run is cancelled.
    let _group = child.id().map(GroupGuard::new);
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            let text = text.trim_end().to_string();
            if output.status.success() {
                (Outcome::Passed, text)
            } else {
                (failure(format!("script {}", crate::nodes::ExitInfo::from(output.status))), text)
            }
        }
        Ok(Err(e)) => (failure(format!("cannot wait for the script: {e}")), String::new()),
        Err(_) => {
            let mut outcome = failure(format!("timed out after {:.1}s", timeout.as_secs_f64()));
            if let Outcome::Failed { failure } = &mut outcome {
                failure.kind = FailureKind::Timeout;
            }
            (outcome, String::new())
        }
    }
}
