//! The store data of one case: its WASI context, built from explicit capabilities,
//! and what the host interfaces record while the case runs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context as _;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::bindings::FailResponse;
use super::capture::{Capture, Overflow};
use super::limits::Limits;
use crate::config::SandboxPolicy;
use crate::events::EventBus;
use crate::nodes::Roster;

/// Where the package's scratch directory appears inside the sandbox.
pub const SCRATCH_MOUNT: &str = "/scratch";
/// Where the read-only data directory appears inside the sandbox.
pub const DATA_MOUNT: &str = "/data";

/// What a case may see and drive: its test's nodes and nothing else.
#[derive(Clone)]
pub struct CaseScope {
    /// The test's supervised nodes (those of tests.toml, then those packages added), for
    /// the `nodes`, `events` and `control` interfaces and the network allow-list.
    pub live: Roster,
    /// Where node starts a package causes are reported (the timeline shows them).
    pub bus: EventBus,
    /// The test's name, for those events.
    pub test: String,
    /// Limits and capabilities.
    pub policy: Arc<SandboxPolicy>,
    /// The package's own read-write directory, mounted at `/scratch`.
    pub scratch: Option<std::path::PathBuf>,
    /// The run's timeout scale, for the `timing` interface.
    pub timeout_scale: f64,
    /// The test's network, when it has `network_faults`: the `network` interface.
    pub network: Option<Arc<crate::netfault::Network>>,
    /// What the package's `init` returned (0.2 packages; empty before it ran), passed to
    /// each case's `init-case`.
    pub config: Arc<Vec<(String, String)>>,
    /// The package's name (empty before a package is chosen), for what a break shows.
    pub package: String,
    /// Pauses a case that calls `breaks.break-here`, when the run has a way to go on;
    /// `None`: nobody to ask, and a break is skipped.
    pub breaks: Option<Arc<dyn super::CaseBreaks>>,
}

/// Per-store state.
pub struct CaseState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limits: Limits,
    pub(super) scope: CaseScope,
    /// Set by `outcome.report-failure` (a panic hook) before the package traps.
    pub(super) reported: Option<FailResponse>,
    /// Guest stdout and stderr, `log` lines and sandbox refusals, within the output cap.
    pub(super) output: Capture,
    /// When the case's time is up: host calls wait no longer than this.
    pub(super) deadline: Instant,
    /// When the case's own limits end (the deadline before any timetrap).
    pub(super) outer_deadline: Instant,
    /// The timetrap the case set (`timetrap.set`): when it fires and how long it was; the
    /// call's driver watches it (see `suite_calls::bounded`).
    pub(super) timetrap: tokio::sync::watch::Sender<Option<(Instant, std::time::Duration)>>,
    /// The last comment the case set (`annotate.comment`).
    pub(super) comment: Option<String>,
    /// Whether the call is paused in a break (`breaks.break-here`): its clock stops.
    pub(super) paused: tokio::sync::watch::Sender<bool>,
    /// What runs in this store, as a break names it: `package/case`, `package (init)`.
    pub(super) call: String,
    /// What the package is waiting for in a host call right now, if anything.
    pub(super) doing: Arc<Mutex<Option<String>>>,
    /// Whether the guest is in a host call, kept by the store's hooks (see `new_store`).
    pub(super) activity: Arc<Activity>,
    /// wasi:http's state, and the hooks that keep requests to the test's nodes.
    http: WasiHttpCtx,
    http_hooks: super::http::NodesOnly,
}

/// What the driver of a call watches in its case's state (see `suite_calls::bounded`):
/// the timetrap, whether the call is paused in a break, and where the guest is.
pub(super) struct Watch {
    pub trap: tokio::sync::watch::Receiver<Option<(Instant, std::time::Duration)>>,
    pub paused: tokio::sync::watch::Receiver<bool>,
    pub activity: Arc<Activity>,
}

impl CaseState {
    /// What the driver of a call in this store watches.
    pub(super) fn watch(&self) -> Watch {
        Watch { trap: self.timetrap.subscribe(), paused: self.paused.subscribe(), activity: Arc::clone(&self.activity) }
    }

    /// State for a case, built from nothing: only the environment the policy lists, no
    /// arguments, no stdin, the scratch dir (read-write) and data dir (read-only) and no
    /// other file; stdout and stderr captured up to the policy's cap; TCP only to the
    /// addresses of `scope`'s nodes; no UDP, no name lookup.
    pub fn new(scope: CaseScope, deadline: Instant) -> anyhow::Result<CaseState> {
        let output = Capture::new(scope.policy.output);
        // Read at each connect: a node a package added mid-test is reachable at once.
        let roster = scope.live.clone();
        let refusals = output.clone();
        let http_hooks = super::http::NodesOnly::new(scope.live.clone(), output.clone());
        let mut builder = WasiCtxBuilder::new();
        for (key, value) in &scope.policy.env {
            builder.env(key, value);
        }
        if let Some(scratch) = &scope.scratch {
            builder
                .preopened_dir(scratch, SCRATCH_MOUNT, FsPerms::ReadWrite)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot mount {} at {SCRATCH_MOUNT}", scratch.display()))?;
        }
        if let Some(data) = &scope.policy.data_dir {
            builder
                .preopened_dir(data, DATA_MOUNT, FsPerms::ReadOnly)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot mount {} at {DATA_MOUNT}", data.display()))?;
        }
        let wasi = builder
            .stdout(output.stream())
            .stderr(output.stream())
            .allow_tcp(true)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(move |addr, usage| {
                let allowed = match usage {
                    SocketAddrUse::TcpConnect => is_node_address(&roster, addr),
                    // The implicit bind of a connecting socket: wildcard address, any port.
                    SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
                    _ => false,
                };
                if !allowed {
                    let what = format!("{usage:?}");
                    refusals.line("[SANDBOX] ", &format!("refused {what} {addr}: only the test's nodes may be reached"));
                }
                Box::pin(async move { allowed })
            })
            .build();
        Ok(CaseState {
            wasi,
            table: ResourceTable::new(),
            limits: Limits::new(&scope.policy),
            scope,
            deadline,
            outer_deadline: deadline,
            timetrap: tokio::sync::watch::Sender::new(None),
            comment: None,
            paused: tokio::sync::watch::Sender::new(false),
            call: String::new(),
            doing: Arc::new(Mutex::new(None)),
            activity: Arc::default(),
            reported: None,
            output,
            http: WasiHttpCtx::new(),
            http_hooks,
        })
    }

    /// How far the package went over the output cap, if it did.
    pub fn output_overflow(&self) -> Option<Overflow> {
        self.output.overflow()
    }

    /// What the package wrote (within the cap): log lines, then stdout/stderr.
    pub fn output(&self) -> String {
        self.output.text()
    }
}

impl CaseState {
    /// The host call the case was in, if any (for timeout messages).
    pub fn current_call(&self) -> Option<String> {
        self.doing.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// What the case was doing when its time ran out, for timeout messages: the node call
    /// it was waiting in, another host call (a WASI sleep or I/O), or its own code.
    pub fn activity(&self) -> String {
        match self.current_call() {
            Some(call) => call,
            None if self.activity.in_host_call() => "blocked in a WASI call (a sleep or I/O), not in guest code".into(),
            None => "running guest code (no host call)".into(),
        }
    }
}

impl WasiHttpView for CaseState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.http_hooks }
    }
}

impl WasiView for CaseState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Whether `addr` is one of the ports of one of the test's nodes.
pub(super) fn is_node_address(roster: &Roster, addr: SocketAddr) -> bool {
    roster.snapshot().iter().any(|node| {
        node.spec.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip == addr.ip()) && node.spec.all_ports().contains(&addr.port())
    })
}

/// Where a case's code is — in a host call or running on its own — kept by the store's
/// call hook and epoch callback, and frozen when the case's time runs out: dropping the
/// cut call unwinds it through those same hooks, which would otherwise erase where it was.
#[derive(Debug, Default)]
pub struct Activity {
    /// How deep the guest is in host calls (a WASI call, a host interface, the epoch
    /// check; a host call may call the guest's allocator, which may call the host)…
    host_calls: AtomicU32,
    /// …and whether the innermost is the epoch check, where a guest running its own code
    /// yields to the executor on every tick.
    at_epoch_check: AtomicBool,
    frozen: AtomicBool,
}

impl Activity {
    /// The guest calls the host.
    pub(super) fn calling_host(&self) {
        if !self.frozen.load(Ordering::Relaxed) {
            self.host_calls.fetch_add(1, Ordering::Relaxed);
            self.at_epoch_check.store(false, Ordering::Relaxed);
        }
    }

    /// A host call returns to the guest.
    pub(super) fn returning_from_host(&self) {
        if !self.frozen.load(Ordering::Relaxed) {
            let _ = self.host_calls.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
    }

    /// The current host call is the epoch check.
    pub(super) fn at_epoch_check(&self) {
        if !self.frozen.load(Ordering::Relaxed) {
            self.at_epoch_check.store(true, Ordering::Relaxed);
        }
    }

    /// The case's time ran out: keep where it was.
    pub(super) fn freeze(&self) {
        self.frozen.store(true, Ordering::Relaxed);
    }

    /// Whether the guest is waiting in a host call other than the epoch check.
    fn in_host_call(&self) -> bool {
        self.host_calls.load(Ordering::Relaxed) > 0 && !self.at_epoch_check.load(Ordering::Relaxed)
    }
}
