//! The store data of one case: its WASI context, built from explicit capabilities,
//! and what the host interfaces record while the case runs.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::{FailResponse, NodeInfo};
use crate::nodes::Node;

/// Bytes of stdout+stderr kept per case.
pub const OUTPUT_CAPACITY: usize = 1 << 20;
/// Linear memory a package may grow to.
pub const MEMORY_LIMIT: usize = 512 << 20;

/// What a case may see and drive: its test's nodes and nothing else.
#[derive(Clone, Default)]
pub struct CaseScope {
    /// What the package may know of the test's nodes, in tests.toml order.
    pub nodes: Arc<Vec<NodeInfo>>,
    /// The supervised nodes themselves, for the `events` and `control` interfaces.
    pub live: Arc<Vec<Arc<Node>>>,
}

/// Per-store state.
pub struct CaseState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limits: StoreLimits,
    pub(super) scope: CaseScope,
    /// Set by `outcome.report-failure` (a panic hook) before the package traps.
    pub(super) reported: Option<FailResponse>,
    /// Guest stdout and stderr, interleaved as written.
    pub(super) stdio: MemoryOutputPipe,
    /// When the case's time is up: host calls wait no longer than this.
    pub(super) deadline: Instant,
    /// What the package is waiting for in a host call right now, if anything.
    pub(super) doing: Arc<Mutex<Option<String>>>,
    /// Lines logged through the `log` interface, and sandbox refusals.
    pub(super) logs: Arc<Mutex<Vec<String>>>,
}

impl CaseState {
    /// State for a case: no environment, no arguments, no files, no stdin; stdout and
    /// stderr captured; TCP only to the addresses of `scope`'s nodes.
    pub fn new(scope: CaseScope, deadline: Instant) -> CaseState {
        let stdio = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let allowed: HashSet<SocketAddr> =
            scope.nodes.iter().filter_map(|node| node.address.parse().ok()).collect();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let refusals = Arc::clone(&logs);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdio.clone())
            .stderr(stdio.clone())
            .allow_tcp(true)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(move |addr, usage| {
                let allowed = match usage {
                    SocketAddrUse::TcpConnect => allowed.contains(&addr),
                    // The implicit bind of a connecting socket: wildcard address, any port.
                    SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
                    _ => false,
                };
                if !allowed {
                    let what = format!("{usage:?}");
                    refusals.lock().unwrap_or_else(|p| p.into_inner()).push(format!(
                        "[SANDBOX] refused {what} {addr}: only the test's nodes may be reached"
                    ));
                }
                Box::pin(async move { allowed })
            })
            .build();
        CaseState {
            wasi,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).build(),
            scope,
            deadline,
            doing: Arc::new(Mutex::new(None)),
            reported: None,
            stdio,
            logs,
        }
    }

    /// Everything the package wrote: log lines, then stdout/stderr.
    pub fn output(&self) -> String {
        let mut output = self.logs.lock().unwrap_or_else(|p| p.into_inner()).join("\n");
        let stdio = self.stdio.contents();
        if !stdio.is_empty() {
            if !output.is_empty() {
                output.push('\n');
            }
            output.push_str(&String::from_utf8_lossy(&stdio));
        }
        output.trim_end().to_string()
    }
}

impl CaseState {
    /// The host call the case was in, if any (for timeout messages).
    pub fn current_call(&self) -> Option<String> {
        self.doing.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl WasiView for CaseState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
