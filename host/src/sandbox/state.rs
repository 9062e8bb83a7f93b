//! The store data of one case: its WASI context, built from explicit capabilities,
//! and what the host interfaces record while the case runs.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::{FailResponse, NodeInfo};

/// Bytes of stdout+stderr kept per case.
pub const OUTPUT_CAPACITY: usize = 1 << 20;
/// Linear memory a package may grow to.
pub const MEMORY_LIMIT: usize = 512 << 20;

/// What a case may see: its test's nodes and nothing else.
#[derive(Debug, Clone, Default)]
pub struct CaseScope {
    /// The test's nodes, in tests.toml order.
    pub nodes: Arc<Vec<NodeInfo>>,
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
    /// Lines logged through the `log` interface, and sandbox refusals.
    pub(super) logs: Arc<Mutex<Vec<String>>>,
}

impl CaseState {
    /// State for a case: no environment, no arguments, no files, no stdin; stdout and
    /// stderr captured; TCP only to the addresses of `scope`'s nodes.
    pub fn new(scope: CaseScope) -> CaseState {
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

impl WasiView for CaseState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
