//! Waiting for a node to be ready: by event, by a stdout line, by its port, or by a command.

use std::time::Duration;

use regex::Regex;
use tokio::sync::watch;

use super::{ExitInfo, Node, Stream, WaitEnd};
use crate::config::Readiness;

/// How often the port and command criteria are retried (the event and stdout criteria
/// wake up on the line itself, without polling).
const RETRY: Duration = Duration::from_millis(20);

/// A readable account of what readiness means for a node.
pub fn describe(ready: &Readiness) -> String {
    match ready {
        Readiness::Event(name) => format!("waiting for event `{name}` on the event pipe"),
        Readiness::Stdout(pattern) => format!("waiting for a stdout line matching /{pattern}/"),
        Readiness::Stderr(pattern) => format!("waiting for a stderr line matching /{pattern}/"),
        Readiness::Port => "waiting for its port(s) to accept connections".to_string(),
        Readiness::Command(command) => format!("waiting for `{}` to exit 0", command.join(" ")),
    }
}

/// Resolve when the node is ready, with the node's own timestamp of its ready event when
/// it gave one; `Err` explains why it never will be.
pub async fn wait(
    node: &Node,
    events_from: u64,
    output_from: u64,
    mut exit: watch::Receiver<Option<ExitInfo>>,
) -> Result<Option<f64>, String> {
    let ended = |end: WaitEnd| match end {
        WaitEnd::Closed(status) => format!("{status} before it was ready ({})", describe(&node.spec.ready)),
    };
    match &node.spec.ready {
        Readiness::Event(name) => {
            let entry = node.events.wait_for(events_from, |event| &event.name == name).await.map_err(ended)?;
            still_alive(node, &mut exit).await?;
            return Ok(entry.item.time_stamp);
        }
        Readiness::Stdout(pattern) | Readiness::Stderr(pattern) => {
            let stream = if matches!(node.spec.ready, Readiness::Stdout(_)) { Stream::Stdout } else { Stream::Stderr };
            let regex = Regex::new(pattern).map_err(|e| e.to_string())?;
            node.output
                .wait_for(output_from, |line| line.stream == stream && regex.is_match(&line.text))
                .await
                .map_err(ended)?;
        }
        Readiness::Port => {
            for port in node.spec.bound_ports() {
                while tokio::net::TcpStream::connect((node.spec.host.as_str(), port)).await.is_err() {
                    retry_or_exit(&mut exit, node).await?;
                }
            }
        }
        Readiness::Command(command) => loop {
            let status = tokio::process::Command::new(&command[0])
                .args(&command[1..])
                .current_dir(&node.spec.cwd)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .status()
                .await;
            match status {
                Ok(status) if status.success() => break,
                Ok(_) => {}
                Err(e) => return Err(format!("cannot run readiness command `{}`: {e}", command.join(" "))),
            }
            retry_or_exit(&mut exit, node).await?;
        },
    }
    still_alive(node, &mut exit).await?;
    Ok(None)
}

/// A node whose process has exited is never ready, whatever it printed, emitted, left
/// listening or made a readiness command say before it went.
async fn still_alive(node: &Node, exit: &mut watch::Receiver<Option<ExitInfo>>) -> Result<(), String> {
    if exit.borrow().is_none() && node.pid().is_ok_and(|pid| node.supervisor().is_alive(pid)) {
        return Ok(());
    }
    // The exit status is published once the output readers drained; wait for it briefly.
    let status = tokio::time::timeout(Duration::from_secs(2), exit.wait_for(Option::is_some))
        .await
        .ok()
        .and_then(|info| info.ok().and_then(|info| *info))
        .map_or_else(|| "exited".to_string(), |info| info.to_string());
    Err(format!("{status} right after it looked ready ({}): a node that exited is not ready", describe(&node.spec.ready)))
}

async fn retry_or_exit(exit: &mut watch::Receiver<Option<ExitInfo>>, node: &Node) -> Result<(), String> {
    tokio::select! {
        _ = tokio::time::sleep(RETRY) => Ok(()),
        Ok(info) = exit.wait_for(Option::is_some) => {
            Err(format!("{} before it was ready ({})", info.map(|i| i.to_string()).unwrap_or_default(), describe(&node.spec.ready)))
        }
    }
}
