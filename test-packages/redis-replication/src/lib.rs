//! Redis, a daemon nobody here wrote: a primary and two replicas. Write on the primary,
//! kill it, read the write back on a replica — with the WIT interfaces and WASI sockets only.

mod resp;

use std::time::Duration;

use guest_sdk::node::NodeStatus;
use guest_sdk::{Context, Failure, TestResult, ensure, ensure_eq, fail, info, test_package};
use resp::{Reply, Resp};

test_package!(replicas_keep_writes_after_the_primary_is_killed);

const SYNCED: &str = "MASTER <-> REPLICA sync: Finished with success";

fn replicas(ctx: &Context) -> Vec<String> {
    ctx.node_names().iter().filter(|name| name.as_str() != "primary").cloned().collect()
}

fn replicas_keep_writes_after_the_primary_is_killed(ctx: &Context) -> TestResult {
    let primary = ctx.node("primary")?;
    let replicas = replicas(ctx);
    ensure!(replicas.len() >= 2, "this test needs two replicas, got {replicas:?}");
    for replica in &replicas {
        let line = ctx.control(replica).wait_for_line(SYNCED, 0, Duration::from_secs(30))?;
        info!("{replica}: {}", line.text);
    }
    let mut redis = Resp::connect(&primary.address)?;
    ensure_eq!(redis.call(&["SET", "greeting", "hello from the sandbox"])?, Reply::Simple("OK".into()));
    // WAIT blocks until that many replicas acknowledged the write.
    match redis.call(&["WAIT", &replicas.len().to_string(), "10000"])? {
        Reply::Integer(acked) => ensure_eq!(acked as usize, replicas.len(), "replicas that acknowledged"),
        other => fail!("WAIT answered {other:?}"),
    }
    let primary_node = ctx.control("primary");
    let exit = primary_node.kill()?;
    ensure_eq!(exit.signal, Some(9), "{}", exit.description);
    ensure!(matches!(primary_node.status()?, NodeStatus::Exited(_)));
    for replica in &replicas {
        let address = ctx.node(replica)?.address;
        let mut redis = Resp::connect(&address)?;
        ensure_eq!(
            redis.call(&["GET", "greeting"])?,
            Reply::Bulk(Some("hello from the sandbox".into())),
            "value on {replica} after the primary died"
        );
        match redis.call(&["SET", "greeting", "overwritten"])? {
            Reply::Error(message) => ensure!(message.starts_with("READONLY"), "{message}"),
            other => fail!("a replica accepted a write: {other:?}"),
        }
        ctx.control(replica).wait_for_line("Connection with (master|primary) lost", 0, Duration::from_secs(10))?;
    }
    Ok(())
}

impl From<resp::Error> for Failure {
    #[track_caller]
    fn from(error: resp::Error) -> Failure {
        Failure::here(error.0)
    }
}
