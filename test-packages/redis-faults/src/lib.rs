//! Redis replication under network faults (tests.toml: `network_faults = true`): the
//! replica reaches the primary through the host's proxy, so a cut link holds the
//! replication stream until it heals, and latency on it delays every acknowledged write.

// The RESP client of the redis-replication package: one file, shared by path.
#[path = "../../redis-replication/src/resp.rs"]
mod resp;

use std::time::{Duration, Instant};

use guest_sdk::network::{self, Fault};
use guest_sdk::{Context, Failure, TestResult, ensure, ensure_eq, info, test_package};
use resp::{Reply, Resp};

test_package!(a_cut_link_holds_replication_until_healed, latency_on_the_link_delays_every_acknowledged_write);

const SYNCED: &str = "MASTER <-> REPLICA sync: Finished with success";

fn connect(ctx: &Context, name: &str) -> Result<Resp, Failure> {
    Ok(Resp::connect(&ctx.node(name)?.address)?)
}

/// How many replicas acknowledged the writes so far within `timeout_ms` (Redis `WAIT`).
fn acked(primary: &mut Resp, timeout_ms: u64) -> Result<i64, Failure> {
    match primary.call(&["WAIT", "1", &timeout_ms.to_string()])? {
        Reply::Integer(count) => Ok(count),
        other => Err(Failure::here(format!("WAIT answered {other:?}"))),
    }
}

fn a_cut_link_holds_replication_until_healed(ctx: &Context) -> TestResult {
    ctx.control("replica").wait_for_line(SYNCED, 0, Duration::from_secs(30))?;
    let mut primary = connect(ctx, "primary")?;
    ensure_eq!(primary.call(&["SET", "before", "1"])?, Reply::Simple("OK".into()));
    ensure_eq!(acked(&mut primary, 10_000)?, 1, "the replica acknowledges before the cut");
    // The replica opened the connection; what the primary sends on it is what is cut.
    network::cut("primary", "replica")?;
    ensure_eq!(primary.call(&["SET", "during", "2"])?, Reply::Simple("OK".into()));
    ensure_eq!(acked(&mut primary, 500)?, 0, "no replica can acknowledge across the cut");
    ensure_eq!(connect(ctx, "replica")?.call(&["GET", "during"])?, Reply::Bulk(None), "the replica got the write across the cut");
    network::heal_link("primary", "replica")?;
    ensure_eq!(acked(&mut primary, 10_000)?, 1, "the replica acknowledges once healed");
    ensure_eq!(connect(ctx, "replica")?.call(&["GET", "during"])?, Reply::Bulk(Some("2".into())));
    Ok(())
}

fn latency_on_the_link_delays_every_acknowledged_write(ctx: &Context) -> TestResult {
    ctx.control("replica").wait_for_line(SYNCED, 0, Duration::from_secs(30))?;
    network::link("replica", "primary").downstream().fault(Fault::Latency { ms: 200, jitter_ms: 0 })?;
    let mut primary = connect(ctx, "primary")?;
    for round in 0..3 {
        let started = Instant::now();
        ensure_eq!(primary.call(&["SET", "slow", &round.to_string()])?, Reply::Simple("OK".into()));
        ensure_eq!(acked(&mut primary, 10_000)?, 1);
        let took = started.elapsed();
        info!("write {round} acknowledged after {took:?} with 200 ms on primary → replica");
        // A lower bound only: the write reaches the replica no sooner than 200 ms.
        ensure!(took >= Duration::from_millis(200), "acknowledged after {took:?}");
    }
    network::heal()?;
    Ok(())
}

impl From<resp::Error> for Failure {
    #[track_caller]
    fn from(error: resp::Error) -> Failure {
        Failure::here(error.0)
    }
}
