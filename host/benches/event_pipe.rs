//! End-to-end event throughput: a real child process writes N fd-sink events into its
//! event pipe as fast as it can; the host's reader parses and journals them. Prints
//! events per second (read by `bench/compare.py`).
//! `cargo bench -p host --bench event_pipe [-- N]`

// Rebuilt whenever the checkout it was last built for is another: see .cargo/config.toml.
const _: Option<&str> = option_env!("HOST_CHECKOUT");

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use host::config::Readiness;
use host::nodes::{Node, NodeSpec};

fn main() {
    let events: usize = std::env::args().skip(1).find_map(|arg| arg.parse().ok()).unwrap_or(500_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("events.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("events file"));
    for i in 0..events {
        writeln!(
            out,
            r#"{{"fd-sink-item.v0":{{"hostname":"bench","time_stamp":1763762020.{i:06},"section":["bench"],"event":{{"set":{{"key":"k{i}","writes":{i}}}}}}}}}"#
        )
        .unwrap();
    }
    writeln!(out, r#"{{"fd-sink-item.v0":{{"event":{{"done":null}}}}}}"#).unwrap();
    out.flush().unwrap();
    drop(out);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let spec = NodeSpec {
            name: "bench".into(),
            program: "sh".into(),
            args: vec!["-c".into(), format!("cat {} > \"$EVENTS\"; exec sleep 60", file.display())],
            env: BTreeMap::from([("EVENTS".to_string(), dir.path().join("events.fifo").display().to_string())]),
            cwd: dir.path().to_path_buf(),
            host: "127.0.0.1".into(),
            port: 0,
            ports: Vec::new(),
            listen: Vec::new(),
            home: dir.path().join("home"),
            event_pipe: dir.path().join("events.fifo"),
            log_file: dir.path().join("output.log"),
            ready: Readiness::Event("done".into()),
            boot_timeout: Duration::from_secs(120),
            stop_timeout: Duration::from_secs(1),
            log_events: None,
            may_exit: false,
            runner: None,
        };
        let node = Node::new(spec).expect("node");
        let started = Instant::now();
        node.start().expect("start");
        node.wait_ready().await.expect("all events read");
        let elapsed = started.elapsed();
        node.kill().await;
        let recorded = node.events.next_seq() as usize;
        assert_eq!(recorded, events + 1, "every event is journaled");
        let rate = events as f64 / elapsed.as_secs_f64();
        println!("event_pipe: {events} events in {:.3}s = {:.0} events/s", elapsed.as_secs_f64(), rate);
    });
}
