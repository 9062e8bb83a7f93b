//! etcd, a real distributed system nobody here wrote: three members booted by the host,
//! each with a client and a peer port of its own. The cases write and read across
//! members, kill the leader and wait for the new one from etcd's own JSON log (an event,
//! not a polling loop), bring the old leader back, and add a fourth member mid-test.

mod http;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use guest_sdk::{Context, Failure, TestResult, ensure_eq, ensure_ne, info, node, test_package};
use serde_json::{Value, json};

test_package!(
    writes_are_read_on_every_member,
    a_new_leader_is_elected_when_the_leader_is_killed,
    a_member_added_mid_test_joins_the_cluster,
);

const MEMBERS: [&str; 3] = ["e1", "e2", "e3"];

fn writes_are_read_on_every_member(_ctx: &Context) -> TestResult {
    put(&client("e1")?, "greeting", "hello from the sandbox")?;
    for member in MEMBERS {
        ensure_eq!(get(&client(member)?, "greeting", false)?.as_deref(), Some("hello from the sandbox"), "read on {member}");
    }
    Ok(())
}

fn a_new_leader_is_elected_when_the_leader_is_killed(ctx: &Context) -> TestResult {
    let (leader, status) = agreed_leader(ctx)?;
    info!("leader: {leader} ({:x}) at term {}", status.leader, status.term);
    let watcher = MEMBERS.iter().copied().find(|m| *m != leader).expect("three members");
    let since = node(watcher).cursor()?;
    node(leader).kill()?;
    // etcd logs "raft.node: … elected leader ID at term N"; tests.toml names that event
    // `leader-elected`, with `leader` and `term` in its value.
    let elected = node(watcher)
        .wait_for("leader-elected")
        .filter(&format!("term > {}", status.term))
        .since(since)
        .timeout(ctx.scaled(Duration::from_secs(30)))
        .run()?;
    let value: Value = serde_json::from_str(&elected.value).map_err(|e| Failure::here(e.to_string()))?;
    let new_leader = value["leader"].as_str().unwrap_or_default().to_string();
    ensure_ne!(new_leader, format!("{:x}", status.leader), "the killed member cannot lead");
    info!("{watcher} saw {new_leader} elected at term {}", value["term"]);
    put(&client(watcher)?, "after-failover", "written while the old leader was down")?;
    node(leader).start()?;
    // The old leader catches up: its own copy (a serializable read) gets the write.
    let caught_up = eventually(ctx, || get(&client(leader)?, "after-failover", true))?;
    ensure_eq!(caught_up.as_deref(), Some("written while the old leader was down"), "{leader} after restart");
    Ok(())
}

fn a_member_added_mid_test_joins_the_cluster(ctx: &Context) -> TestResult {
    let e4 = guest_sdk::Node::add_from_template("member", "e4", &[], &[])?;
    let peer = e4.address("peer")?;
    // Announce the member first, as `etcdctl member add` does; then start it. etcd
    // refuses while a member that just came back is not active for long enough yet.
    let add = json!({ "peerURLs": [format!("http://{peer}")] });
    eventually(ctx, || Ok(http::post(&client("e1")?, "/v3/cluster/member/add", &add).ok().map(|_| String::new())))?
        .ok_or_else(|| Failure::here("etcd did not accept the new member within 20 s"))?;
    e4.start()?;
    put(&client("e1")?, "joined", "e4")?;
    let read = eventually(ctx, || get(&client("e4")?, "joined", true))?;
    ensure_eq!(read.as_deref(), Some("e4"), "serializable read on the new member");
    let members = http::post(&client("e4")?, "/v3/cluster/member/list", &json!({}))?;
    let count = members["members"].as_array().map_or(0, Vec::len);
    ensure_eq!(count, 4, "members after the join: {members}");
    Ok(())
}

/// The member that leads, and e1's status naming it, once every member names the same
/// leader at the same term (an election under way first ends); for up to 20 s (scaled).
fn agreed_leader(ctx: &Context) -> Result<(&'static str, Status), Failure> {
    let deadline = Instant::now() + ctx.scaled(Duration::from_secs(20));
    loop {
        let statuses = MEMBERS.iter().map(|member| Status::of(&client(member)?)).collect::<Result<Vec<_>, Failure>>()?;
        let first = &statuses[0];
        let agreed = statuses.iter().all(|s| s.leader == first.leader && s.term == first.term);
        if let Some(at) = statuses.iter().position(|s| s.member == first.leader).filter(|_| agreed && first.leader != 0) {
            let e1 = statuses.into_iter().next().expect("three members");
            return Ok((MEMBERS[at], e1));
        }
        if Instant::now() >= deadline {
            guest_sdk::fail!("the members do not agree on a leader: {:?}", statuses.iter().map(|s| (s.leader, s.term)).collect::<Vec<_>>());
        }
        ctx.sleep(Duration::from_millis(100));
    }
}

/// The node's client address (`{address.client:NAME}` in tests.toml).
fn client(member: &str) -> Result<String, Failure> {
    Ok(node(member).address("client")?)
}

/// What `/v3/maintenance/status` says about a member.
struct Status {
    member: u64,
    leader: u64,
    term: u64,
}

impl Status {
    fn of(address: &str) -> Result<Status, Failure> {
        let answer = http::post(address, "/v3/maintenance/status", &json!({}))?;
        let number = |value: &Value| value.as_str().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        Ok(Status { member: number(&answer["header"]["member_id"]), leader: number(&answer["leader"]), term: number(&answer["raftTerm"]) })
    }
}

fn put(address: &str, key: &str, value: &str) -> Result<(), Failure> {
    through_elections(|| http::post(address, "/v3/kv/put", &json!({ "key": BASE64.encode(key), "value": BASE64.encode(value) })))?;
    Ok(())
}

/// The value of `key` on the member at `address`; `serializable`: its own copy, without
/// asking the leader.
fn get(address: &str, key: &str, serializable: bool) -> Result<Option<String>, Failure> {
    let answer = through_elections(|| http::post(address, "/v3/kv/range", &json!({ "key": BASE64.encode(key), "serializable": serializable })))?;
    let Some(value) = answer["kvs"].get(0).and_then(|kv| kv["value"].as_str()) else { return Ok(None) };
    let bytes = BASE64.decode(value).map_err(|e| Failure::here(e.to_string()))?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// What etcd answers while an election is under way (a heartbeat late on a busy machine
/// is enough): the request did not fail for good, and etcd's own clients send it again.
const TRANSIENT: [&str; 4] = ["etcdserver: leader changed", "etcdserver: no leader", "etcdserver: request timed out", "raft proposal dropped"];

/// `request` again while etcd answers with a [`TRANSIENT`] error, for up to 20 s; any
/// other answer at once. A write sent again writes the same value: idempotent here.
fn through_elections(request: impl Fn() -> Result<Value, http::Error>) -> Result<Value, http::Error> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match request() {
            Err(error) if TRANSIENT.iter().any(|t| error.0.contains(t)) && Instant::now() < deadline => {
                info!("etcd is electing a leader ({}); sending the request again", error.0);
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// `read` until it returns a value or 20 s (scaled) pass: replication is asynchronous, and
/// a member that just started may refuse a request for a moment.
fn eventually(ctx: &Context, read: impl Fn() -> Result<Option<String>, Failure>) -> Result<Option<String>, Failure> {
    let deadline = Instant::now() + ctx.scaled(Duration::from_secs(20));
    loop {
        match read() {
            Ok(Some(value)) => return Ok(Some(value)),
            Ok(None) | Err(_) if Instant::now() < deadline => ctx.sleep(Duration::from_millis(100)),
            other => return other,
        }
    }
}

impl From<http::Error> for Failure {
    #[track_caller]
    fn from(error: http::Error) -> Failure {
        Failure::here(error.0)
    }
}
