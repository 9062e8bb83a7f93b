//! Micro benchmarks of the hot paths: event parsing, journaling, filters, templates.
//! `cargo bench -p host --bench micro`

// Rebuilt whenever the checkout it was last built for is another: see .cargo/config.toml.
const _: Option<&str> = option_env!("HOST_CHECKOUT");

use divan::{Bencher, black_box};
use host::config::Template;
use host::nodes::{Comparison, Condition, Journal, parse_line};

fn main() {
    divan::main();
}

const FD_SINK: &str = r#"{"fd-sink-item.v0":{"hostname":"first.dev","time_stamp":1763762020.123,"section":["kvnode"],"event":{"set":{"key":"greeting","value":"hello","writes":42}}}}"#;

#[divan::bench]
fn parse_fd_sink_event() -> usize {
    parse_line(black_box(FD_SINK)).map(|event| event.name.len()).unwrap_or(0)
}

#[divan::bench]
fn parse_plain_json_event() -> usize {
    parse_line(black_box(r#"{"event":"head","level":3,"hash":"BLxyz"}"#)).map(|event| event.name.len()).unwrap_or(0)
}

#[divan::bench]
fn journal_push(bencher: Bencher) {
    let journal = Journal::new(Some(10_000));
    bencher.bench_local(|| journal.push(black_box(7u64)));
}

#[divan::bench]
fn condition_match(bencher: Bencher) {
    let condition = Condition::new("writes", Comparison::Ge, "10").unwrap();
    let event = parse_line(FD_SINK).unwrap();
    bencher.bench_local(|| condition.matches(black_box(&event.value)));
}

#[divan::bench]
fn template_render(bencher: Bencher) {
    let template = Template::parse("--replicaof={host:primary}:{port:primary}").unwrap();
    bencher.bench_local(|| template.render(|_| black_box("1234".to_string())));
}
