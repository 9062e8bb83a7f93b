//! Every control call and event wait of the `events` and `control` interfaces, against
//! kvnode: stop/resume, terminate/start, restart, kill, status, memory, output lines,
//! waits from the beginning and from now, filters, timeouts and nodes ending mid-wait.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use guest_sdk::node::{NodeStatus, Position};
use guest_sdk::{Context, Failure, NodeError, TestResult, ensure, ensure_eq, fail, info, test_package};
use kv_client::KvClient;

test_package!(
    waits_find_past_events_and_filter_by_fields,
    a_wait_from_now_ignores_the_past,
    an_event_that_never_comes_times_out,
    a_node_dying_mid_wait_ends_the_wait_with_its_status,
    stop_freezes_the_node_until_resume,
    terminate_then_start_keeps_state_in_home,
    restart_keeps_state_and_emits_ready_again,
    status_memory_and_output_lines,
    unknown_nodes_are_error_values,
);

fn first(ctx: &Context) -> Result<(guest_sdk::Node, String), Failure> {
    let info = ctx.node(&ctx.node_names()[0])?;
    Ok((ctx.control(&info.name), info.address))
}

fn waits_find_past_events_and_filter_by_fields(ctx: &Context) -> TestResult {
    let (node, address) = first(ctx)?;
    let mut client = KvClient::connect(&address)?;
    for i in 1..=5 {
        client.set(&format!("filter-{i}"), &i.to_string())?;
    }
    // All five writes happened before these waits started: nothing is missed.
    let third = node.wait_for("set").filter("key == filter-3").run()?;
    ensure!(third.value.contains("\"value\":\"3\""), "event value {}", third.value);
    let later = node.wait_for("set").filter("writes >= 4").filter("key != filter-4").run()?;
    ensure!(later.value.contains("filter-5"), "expected the fifth write, got {}", later.value);
    ensure!(later.seq > third.seq, "events are numbered in order");
    let ready = node.wait_for("ready").run()?;
    ensure_eq!(ready.seq, 0, "ready is the node's first event");
    Ok(())
}

fn a_wait_from_now_ignores_the_past(ctx: &Context) -> TestResult {
    let (node, address) = first(ctx)?;
    KvClient::connect(&address)?.set("past", "1")?;
    // The event comes on its own path (a FIFO, or ssh for a node on a runner), maybe after
    // the reply: once the host has it, it is the past.
    node.wait_for("set").filter("key == past").run()?;
    let missed = node.wait_for("set").filter("key == past").from_now().timeout(Duration::from_millis(200)).run();
    ensure!(matches!(missed, Err(NodeError::Timeout(_))), "expected a timeout, got {missed:?}");
    let cursor = node.cursor()?;
    KvClient::connect(&address)?.set("future", "1")?;
    let event = node.wait_for("set").since(cursor).run()?;
    ensure!(event.value.contains("future"), "{}", event.value);
    Ok(())
}

fn an_event_that_never_comes_times_out(ctx: &Context) -> TestResult {
    let (node, _) = first(ctx)?;
    match node.wait_for("never-emitted").timeout(Duration::from_millis(300)).run() {
        Err(NodeError::Timeout(message)) => {
            ensure!(message.contains("never-emitted"), "{message}");
            Ok(())
        }
        other => fail!("expected a timeout, got {other:?}"),
    }
}

fn a_node_dying_mid_wait_ends_the_wait_with_its_status(ctx: &Context) -> TestResult {
    let (node, address) = first(ctx)?;
    request(&address, "CRASH 200")?;
    match node.wait_for("never-emitted").timeout(Duration::from_secs(20)).run() {
        Err(NodeError::Terminated(message)) => {
            ensure!(message.contains("killed by signal 9 (SIGKILL)"), "{message}");
        }
        other => fail!("expected terminated-before-event, got {other:?}"),
    }
    match node.status()? {
        NodeStatus::Exited(status) => ensure_eq!(status.signal, Some(9)),
        other => fail!("expected exited, got {other:?}"),
    }
    node.start()?;
    KvClient::connect(&address)?.ping()?;
    Ok(())
}

fn stop_freezes_the_node_until_resume(ctx: &Context) -> TestResult {
    let (node, address) = first(ctx)?;
    node.stop()?;
    ensure!(matches!(node.status()?, NodeStatus::Stopped(_)), "status is stopped");
    // The kernel still accepts the connection, but the frozen node never answers.
    let mut stream = TcpStream::connect(&address)?;
    stream.set_read_timeout(Some(Duration::from_millis(300)))?;
    stream.write_all(b"SET frozen yes\n")?;
    let mut reply = String::new();
    let read = BufReader::new(&stream).read_line(&mut reply);
    ensure!(read.is_err(), "a stopped node answered {reply:?}");
    node.resume()?;
    ensure!(matches!(node.status()?, NodeStatus::Running(_)), "status is running again");
    // The write sent while it was frozen goes through once it resumes.
    node.wait_for("set").filter("key == frozen").timeout(Duration::from_secs(5)).run()?;
    ensure_eq!(KvClient::connect(&address)?.get("frozen")?.as_deref(), Some("yes"));
    Ok(())
}

fn terminate_then_start_keeps_state_in_home(ctx: &Context) -> TestResult {
    let (node, address) = first(ctx)?;
    KvClient::connect(&address)?.set("durable", "kept")?;
    let exit = node.terminate(Duration::from_secs(5))?;
    info!("terminated: {}", exit.description);
    ensure_eq!(exit.signal, Some(15), "kvnode dies of SIGTERM: {}", exit.description);
    ensure!(KvClient::connect(&address).is_err(), "nothing listens after terminate");
    node.start()?;
    ensure_eq!(KvClient::connect(&address)?.get("durable")?.as_deref(), Some("kept"));
    Ok(())
}

fn restart_keeps_state_and_emits_ready_again(ctx: &Context) -> TestResult {
    let (node, address) = first(ctx)?;
    KvClient::connect(&address)?.set("across-restart", "yes")?;
    let cursor = node.cursor()?;
    node.restart()?;
    let ready = node.wait_for("ready").since(cursor).run()?;
    ensure!(ready.value.contains("\"keys\":"), "{}", ready.value);
    ensure_eq!(KvClient::connect(&address)?.get("across-restart")?.as_deref(), Some("yes"));
    let all = node.events(Position::Beginning, 10_000)?;
    ensure!(all.iter().filter(|e| e.name == "ready").count() >= 2, "both starts are recorded");
    Ok(())
}

fn status_memory_and_output_lines(ctx: &Context) -> TestResult {
    let (node, address) = first(ctx)?;
    ensure!(matches!(node.status()?, NodeStatus::Running(pid) if pid > 1), "running with a pid");
    let memory = node.memory()?;
    ensure!(memory.peak_rss_bytes >= memory.rss_bytes && memory.rss_bytes > 0, "{memory:?}");
    let from = node.output(0, u32::MAX)?.last().map_or(0, |line| line.seq + 1);
    KvClient::connect(&address)?.ping()?;
    // kvnode prints each request at runtime_verbosity >= 1.
    let line = node.wait_for_line("^request: PING$", from, Duration::from_secs(5))?;
    ensure_eq!(line.text, "request: PING");
    let invalid = node.wait_for_line("(", 0, Duration::from_millis(10));
    ensure!(matches!(invalid, Err(NodeError::Invalid(_))), "{invalid:?}");
    Ok(())
}

fn unknown_nodes_are_error_values(ctx: &Context) -> TestResult {
    let ghost = ctx.control("ghost.dev");
    for result in [ghost.stop(), ghost.resume(), ghost.start(), ghost.restart()] {
        ensure!(matches!(result, Err(NodeError::UnknownNode(_))), "{result:?}");
    }
    ensure!(matches!(ghost.wait_for("ready").run(), Err(NodeError::UnknownNode(_))));
    let bad = ctx.control(&ctx.node_names()[0]).wait_for("set").filter("no operator").run();
    ensure!(matches!(bad, Err(NodeError::Invalid(_))), "{bad:?}");
    Ok(())
}

fn request(address: &str, line: &str) -> Result<String, Failure> {
    let mut stream = TcpStream::connect(address)?;
    stream.write_all(format!("{line}\n").as_bytes())?;
    let mut reply = String::new();
    BufReader::new(&stream).read_line(&mut reply)?;
    Ok(reply.trim_end().to_string())
}
