//! The Redis example suite: a real third-party daemon, supervised and driven from a package,
//! and its replication under network faults (a cut link, latency on it).

mod common;

use common::{declared_cases, repo, run_in, totals};

#[test]
fn redis_replicas_keep_a_write_after_the_primary_is_killed() {
    assert!(
        common::has_tool("redis-server"),
        "redis-server is not installed: `apt-get install redis-server` (.ci/run does this)"
    );
    let run = run_in(&repo(), &["run", "examples/redis"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let cases = declared_cases("redis-replication").len() + declared_cases("redis-faults").len();
    assert_eq!(totals(&run.stdout), (cases, 0, 0), "{}", run.both());
    assert!(run.stdout.contains("Node replica-2 ready"), "{}", run.both());
    // The second test's package cut the replication link and healed it.
    assert!(run.stdout.contains("Network cut: primary → replica held"), "{}", run.both());
    assert!(run.stdout.contains("Network heal-link: primary → replica flows again"), "{}", run.both());
}
