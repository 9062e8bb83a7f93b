//! `kvnode`: a small replicated key-value daemon, the example node of host's suites.
//!
//! It speaks a line protocol over TCP (one request, one reply per line):
//!
//! | request             | reply                        | meaning                                        |
//! |---------------------|------------------------------|------------------------------------------------|
//! | `SET <key> <value>` | `OK`                         | store, persist to home, replicate to all peers |
//! | `GET <key>`         | `VALUE <value>` / `NOTFOUND` | read the local copy                            |
//! | `REPL <key> <value>`| `OK`                         | store a write replicated from a peer           |
//! | `PING`              | `PONG`                       | liveness                                       |
//! | `CRASH <ms>`        | `OK`                         | SIGKILL itself after `ms` milliseconds (tests) |
//!
//! Writes are replicated synchronously: `SET` answers `OK` only after every reachable
//! peer acknowledged, so a read through another node right after sees the value.
//! Every write is appended to `<home>/data.log` and replayed at start, so state
//! survives a restart. Structured events (`ready`, `set`, `replicated`,
//! `peer_unreachable`) go to the event pipe given by `--events`, one JSON object per
//! line in Tezt's `fd-sink-item.v0` shape.

// Rebuilt whenever the checkout it was last built for is another: see .cargo/config.toml.
const _: Option<&str> = option_env!("HOST_CHECKOUT");

mod args;
mod events;
mod store;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use args::Args;
use events::EventSink;
use serde_json::json;
use store::Store;

/// Shared state of a running node.
struct Node {
    args: Args,
    store: Store,
    events: EventSink,
    /// Writes accepted by this node since it started (SET and REPL).
    writes: AtomicU64,
}

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("kvnode: {message}\n\n{}", args::USAGE);
            std::process::exit(2);
        }
    };
    if let Err(message) = run(args) {
        eprintln!("kvnode: {message}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.home)
        .map_err(|e| format!("cannot create home {}: {e}", args.home.display()))?;
    let store = Store::open(&args.home.join("data.log"))?;
    let events = EventSink::open(args.events.as_deref(), &args.name)?;
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", args.host, args.port))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let node = Arc::new(Node { args, store, events, writes: AtomicU64::new(0) });
    println!(
        "kvnode {} listening on {}:{port} with {} keys, peers [{}]",
        node.args.name,
        node.args.host,
        node.store.len(),
        node.args.peers.join(", ")
    );
    node.events.emit(
        "ready",
        json!({ "name": node.args.name, "port": port, "keys": node.store.len() }),
    );
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let node = Arc::clone(&node);
        std::thread::spawn(move || serve(&node, stream));
    }
    Ok(())
}

/// Answer requests on one connection until the peer closes it.
fn serve(node: &Node, stream: TcpStream) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let reader = BufReader::new(stream);
    for line in reader.lines() {
        let Ok(line) = line else { return };
        if node.args.verbosity >= 1 {
            println!("request: {line}");
        }
        let reply = answer(node, &line);
        if writer.write_all(format!("{reply}\n").as_bytes()).is_err() {
            return;
        }
    }
}

/// The reply to one request line.
fn answer(node: &Node, line: &str) -> String {
    let mut parts = line.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("PING"), None, None) => "PONG".into(),
        (Some("CRASH"), Some(ms), None) => match ms.parse::<u64>() {
            Ok(ms) => {
                crash_after(Duration::from_millis(ms));
                "OK".into()
            }
            Err(e) => format!("ERROR bad delay {ms}: {e}"),
        },
        (Some("GET"), Some(key), None) => match node.store.get(key) {
            Some(value) => format!("VALUE {value}"),
            None => "NOTFOUND".into(),
        },
        (Some("SET"), Some(key), Some(value)) => match node.store.set(key, value) {
            Ok(()) => {
                let writes = node.writes.fetch_add(1, Ordering::SeqCst) + 1;
                node.events.emit("set", json!({ "key": key, "value": value, "writes": writes }));
                replicate(node, key, value);
                "OK".into()
            }
            Err(e) => format!("ERROR {e}"),
        },
        (Some("REPL"), Some(key), Some(value)) => match node.store.set(key, value) {
            Ok(()) => {
                let writes = node.writes.fetch_add(1, Ordering::SeqCst) + 1;
                node.events.emit("replicated", json!({ "key": key, "value": value, "writes": writes }));
                "OK".into()
            }
            Err(e) => format!("ERROR {e}"),
        },
        _ => format!("ERROR unknown request: {line}"),
    }
}

/// Die by SIGKILL after `delay`, like a node the OOM killer took (for supervision tests).
fn crash_after(delay: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
        std::process::abort();
    });
}

/// Send a write to every peer and wait for each acknowledgement.
fn replicate(node: &Node, key: &str, value: &str) {
    for peer in &node.args.peers {
        if let Err(e) = send_to_peer(peer, &format!("REPL {key} {value}")) {
            eprintln!("replication to {peer} failed: {e}");
            node.events
                .emit("peer_unreachable", json!({ "peer": peer, "key": key, "error": e }));
        }
    }
}

fn send_to_peer(peer: &str, request: &str) -> Result<(), String> {
    let addr = peer.parse().map_err(|e| format!("bad peer address {peer}: {e}"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    stream.write_all(format!("{request}\n").as_bytes()).map_err(|e| e.to_string())?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).map_err(|e| e.to_string())?;
    match reply.trim_end() {
        "OK" => Ok(()),
        other => Err(format!("peer answered {other:?}")),
    }
}
