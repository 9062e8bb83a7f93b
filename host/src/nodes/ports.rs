//! Free TCP ports for nodes whose tests.toml leaves `port` out (or sets it to 0).
//!
//! A node binds its port itself, after the host picked it: the port must stay free in
//! between. Ports of the kernel's ephemeral range do not: every outgoing connection on the
//! machine and every `bind(0)` draws from it, and one took a picked port under a busy CI
//! run ("Address already in use"). So ports are picked below that range, where only
//! explicit binds land, from a cursor that starts at a different place in each process
//! (so runs at the same time spread apart) and moves on with every pick (so one run never
//! hands out a port twice while its nodes have not bound them yet).

use std::net::TcpListener;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The lowest port handed out.
const FLOOR: u16 = 10_000;

/// `count` different ports on `host` that nothing listens on now, below the ephemeral
/// range. Each is held until all are picked. Should that range offer none (every port
/// taken), the kernel's `bind(0)` picks instead.
pub fn free_ports(host: &str, count: usize) -> std::io::Result<Vec<u16>> {
    let end = ephemeral_low().max(FLOOR + 1);
    let span = u32::from(end - FLOOR);
    let mut held: Vec<TcpListener> = Vec::with_capacity(count);
    let mut tried = 0;
    while held.len() < count && tried < span {
        tried += 1;
        let port = FLOOR + (next() % span) as u16;
        if let Ok(listener) = TcpListener::bind((host, port)) {
            held.push(listener);
        }
    }
    while held.len() < count {
        held.push(TcpListener::bind((host, 0))?);
    }
    held.iter().map(|listener| Ok(listener.local_addr()?.port())).collect()
}

/// The next value of this process's cursor: a start drawn from the pid and the clock,
/// then one more each call.
fn next() -> u32 {
    static CURSOR: OnceLock<AtomicU32> = OnceLock::new();
    let start = || {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        AtomicU32::new(std::process::id().wrapping_mul(2_654_435_761).wrapping_add(nanos))
    };
    CURSOR.get_or_init(start).fetch_add(1, Ordering::Relaxed)
}

/// The low end of the kernel's ephemeral port range (`ip_local_port_range`), 32768 if it
/// cannot be read.
fn ephemeral_low() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_free_distinct_below_the_ephemeral_range_and_not_handed_out_twice() {
        let first = free_ports("127.0.0.1", 3).unwrap();
        let second = free_ports("127.0.0.1", 3).unwrap();
        let all: std::collections::BTreeSet<u16> = first.iter().chain(&second).copied().collect();
        assert_eq!(all.len(), 6, "{first:?} {second:?}");
        assert!(all.iter().all(|&port| (FLOOR..ephemeral_low()).contains(&port)), "{all:?}");
        // Free: a node can bind each of them now.
        for port in all {
            TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| panic!("port {port}: {e}"));
        }
    }
}
