//! A network partition of a real etcd cluster (tests.toml: `network_faults = true`): the
//! leader is isolated, a write to it does not commit within etcd's own request timeout,
//! the majority elects a new leader and commits, and once healed the old leader has the
//! majority's value — never its own.

// The same few lines of HTTP as the etcd-cluster package: one file, shared by path.
#[path = "../../etcd-cluster/src/http.rs"]
mod http;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use guest_sdk::network;
use guest_sdk::{Context, Failure, TestResult, ensure, ensure_eq, info, node, test_package};
use serde_json::{Value, json};

test_package!(an_isolated_leader_cannot_commit_and_the_majority_can);

const MEMBERS: [&str; 3] = ["e1", "e2", "e3"];

fn an_isolated_leader_cannot_commit_and_the_majority_can(ctx: &Context) -> TestResult {
    let (leader, term) = leader()?;
    info!("leader: {leader} at term {term}");
    let majority: Vec<&str> = MEMBERS.iter().copied().filter(|m| *m != leader).collect();
    let since = node(majority[0]).cursor()?;
    network::isolate(leader)?;
    // The old leader takes the request but cannot reach a quorum: etcd answers with an
    // error once its request timeout passes, and nothing is committed.
    let started = Instant::now();
    let isolated = put(&client(leader)?, "k", "written to the isolated leader");
    info!("write to the isolated leader: {:?} after {:?}", isolated.as_ref().err().map(|e| &e.0), started.elapsed());
    ensure!(isolated.is_err(), "the isolated leader {leader} committed a write without a quorum");
    // The majority elects a leader of its own (etcd's log, as in the etcd-cluster package).
    let elected = node(majority[0])
        .wait_for("leader-elected")
        .filter(&format!("term > {term}"))
        .since(since)
        .timeout(ctx.scaled(Duration::from_secs(30)))
        .run()?;
    info!("{} saw a new leader: {}", majority[0], elected.value);
    eventually(ctx, "the majority commits a write", || put(&client(majority[0])?, "k", "written to the majority").map(|_| Some(())).or(Ok(None)))?;
    network::heal()?;
    // Once healed, the old leader catches up with the majority's write; its own is gone.
    for member in MEMBERS {
        let value = eventually(ctx, &format!("{member} converges"), || {
            Ok(get(&client(member)?, "k").ok().flatten().filter(|v| v == "written to the majority"))
        })?;
        ensure_eq!(value.as_str(), "written to the majority", "{member} after the heal");
    }
    Ok(())
}

/// The member that leads now, and its term.
fn leader() -> Result<(&'static str, u64), Failure> {
    for member in MEMBERS {
        let status = http::post(&client(member)?, "/v3/maintenance/status", &json!({}))?;
        let number = |value: &Value| value.as_str().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        if number(&status["header"]["member_id"]) == number(&status["leader"]) {
            return Ok((member, number(&status["raftTerm"])));
        }
    }
    Err(Failure::here("no member says it leads"))
}

fn client(member: &str) -> Result<String, Failure> {
    Ok(node(member).address("client")?)
}

fn put(address: &str, key: &str, value: &str) -> Result<(), http::Error> {
    http::post(address, "/v3/kv/put", &json!({ "key": BASE64.encode(key), "value": BASE64.encode(value) })).map(|_| ())
}

/// The member's own copy of `key` (a serializable read: no leader asked).
fn get(address: &str, key: &str) -> Result<Option<String>, Failure> {
    let answer = http::post(address, "/v3/kv/range", &json!({ "key": BASE64.encode(key), "serializable": true }))?;
    let Some(value) = answer["kvs"].get(0).and_then(|kv| kv["value"].as_str()) else { return Ok(None) };
    let bytes = BASE64.decode(value).map_err(|e| Failure::here(e.to_string()))?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// `attempt` until it gives a value, for up to 30 s (scaled).
fn eventually<T>(ctx: &Context, what: &str, attempt: impl Fn() -> Result<Option<T>, Failure>) -> Result<T, Failure> {
    let deadline = Instant::now() + ctx.scaled(Duration::from_secs(30));
    loop {
        if let Some(value) = attempt()? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(Failure::here(format!("{what}: not within 30 s")));
        }
        ctx.sleep(Duration::from_millis(200));
    }
}

impl From<http::Error> for Failure {
    #[track_caller]
    fn from(error: http::Error) -> Failure {
        Failure::here(error.0)
    }
}
