//! One handler component on a thread of its own: its own store and WASI context (no
//! network, no environment, no arguments, no files but its granted directory at `/data`),
//! its memory capped, its output capped, each call under an epoch deadline. Calls come
//! over a channel, one at a time; the first trap, timeout or error stops the handler.

use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::time::Duration;

use anyhow::{Context as _, Result};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::{CaseId, EventHandler, Failure, NodeLog, WitEvent, WitOutcome};
use super::{EPOCH_TICK, Shared};
use crate::config::HandlerSpec;
use crate::events::{Event, Totals};

/// Where the granted directory appears inside the handler.
pub const DIR_MOUNT: &str = "/data";
/// Most linear memory a handler may have.
const MEMORY_LIMIT: usize = 256 << 20;
/// Most bytes a handler may write to stdout, and to stderr: past it, it is stopped.
pub const OUTPUT_LIMIT: usize = 64 << 10;

/// A call to a handler.
pub enum Call {
    /// An event `time` seconds into the run, then (after a finished case) the counts.
    Event { event: std::sync::Arc<Event>, time: f64, stats: Option<Totals> },
    PostCase(CaseId, WitOutcome),
    OnFailure(CaseId, Failure, Vec<NodeLog>),
    /// Answered once every call queued before it is done.
    Flush,
    Terminate,
}

/// A call, with where to answer (none for an asynchronous event).
pub struct Job {
    pub call: Call,
    pub reply: Option<Sender<Option<String>>>,
}

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Start `component` on a thread of its own and call `init`; returns the channel its
/// calls go through, once `init` succeeded.
pub fn start(engine: &Engine, component: Component, spec: &HandlerSpec, shared: std::sync::Arc<Shared>) -> Result<SyncSender<Job>> {
    let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(if spec.sync { 1 } else { spec.queue });
    let (ready, started) = std::sync::mpsc::channel::<Result<(), String>>();
    let (engine, spec_copy) = (engine.clone(), spec.clone());
    std::thread::Builder::new()
        .name(format!("handler {}", spec.name))
        .spawn(move || match instantiate(&engine, &component, &spec_copy) {
            Ok((mut store, handler, out)) => {
                let init = guarded(&mut store, &out, spec_copy.timeout, |store| {
                    handler.host_handler_handler().call_init(store, &spec_copy.args).map(|r| r.map_err(|e| format!("init failed: {e}")))
                });
                let ok = init.is_ok();
                let _ = ready.send(init);
                if ok {
                    serve(store, handler, out, queue, &spec_copy, &shared);
                }
            }
            Err(error) => {
                let _ = ready.send(Err(format!("{error:#}")));
            }
        })
        .context("cannot start a thread")?;
    let wait = spec.timeout + Duration::from_secs(1);
    match started.recv_timeout(wait) {
        Ok(Ok(())) => Ok(jobs),
        Ok(Err(problem)) => anyhow::bail!("{problem}"),
        Err(_) => anyhow::bail!("init did not return within {:.1}s", spec.timeout.as_secs_f64()),
    }
}

/// The captured stdout and stderr of a handler.
struct Output {
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

fn instantiate(engine: &Engine, component: &Component, spec: &HandlerSpec) -> Result<(Store<State>, EventHandler, Output)> {
    let out = Output { stdout: MemoryOutputPipe::new(OUTPUT_LIMIT), stderr: MemoryOutputPipe::new(OUTPUT_LIMIT) };
    let mut builder = WasiCtxBuilder::new();
    builder.stdout(out.stdout.clone()).stderr(out.stderr.clone()).allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
    builder.socket_addr_check(|_, _| Box::pin(async { false }));
    if let Some(dir) = &spec.dir {
        builder
            .preopened_dir(dir, DIR_MOUNT, FsPerms::ReadWrite)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot grant {} at {DIR_MOUNT}", dir.display()))?;
    }
    let limits = StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).trap_on_grow_failure(true).build();
    let mut store = Store::new(engine, State { wasi: builder.build(), table: ResourceTable::new(), limits });
    store.limiter(|state| &mut state.limits);
    store.set_epoch_deadline(u64::MAX / 2);
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let handler = EventHandler::instantiate(&mut store, component, &linker)
        .map_err(anyhow::Error::from)
        .context("does not fit the `event-handler` world (wit/handler/handler.wit)")?;
    Ok((store, handler, out))
}

/// Run `call` under the handler's time limit; a trap says why in words.
fn guarded<T>(
    store: &mut Store<State>,
    out: &Output,
    timeout: Duration,
    call: impl FnOnce(&mut Store<State>) -> wasmtime::Result<Result<T, String>>,
) -> Result<T, String> {
    let ticks = (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
    store.set_epoch_deadline(ticks);
    let result = call(store);
    store.set_epoch_deadline(u64::MAX / 2);
    match result {
        Ok(answer) => answer,
        Err(trap) => Err(describe(&trap, out, timeout)),
    }
}

/// Why a handler trapped, in words: a hang, a flood of output or memory, or its trap.
fn describe(trap: &wasmtime::Error, out: &Output, timeout: Duration) -> String {
    let text = format!("{trap:#}");
    if matches!(trap.downcast_ref::<wasmtime::Trap>(), Some(wasmtime::Trap::Interrupt)) {
        return format!("hung: a call did not return within {:.1}s (timeout_secs)", timeout.as_secs_f64());
    }
    if text.contains("write beyond capacity") || out.stdout.contents().len() >= OUTPUT_LIMIT || out.stderr.contents().len() >= OUTPUT_LIMIT {
        return format!("flooded: wrote more than {} KiB of output", OUTPUT_LIMIT >> 10);
    }
    if text.contains("forcing trap when growing memory") {
        return format!("flooded: asked for more than {} MiB of memory", MEMORY_LIMIT >> 20);
    }
    let first = text.lines().next().unwrap_or_default();
    let tail = String::from_utf8_lossy(&out.stderr.contents()).lines().rev().take(3).collect::<Vec<_>>().join(" | ");
    if tail.is_empty() { format!("trapped: {first}") } else { format!("trapped: {first} (stderr: {tail})") }
}

/// Call `handle` with one event.
fn handle(store: &mut Store<State>, handler: &EventHandler, out: &Output, timeout: Duration, event: &WitEvent) -> Result<Option<String>, String> {
    guarded(store, out, timeout, |s| {
        handler.host_handler_handler().call_handle(s, event).map(|r| r.map(|()| None).map_err(|e| format!("returned an error: {e}")))
    })
}

/// Answer calls until the channel closes, `terminate` is called, or a call fails.
fn serve(mut store: Store<State>, handler: EventHandler, out: Output, queue: Receiver<Job>, spec: &HandlerSpec, shared: &Shared) {
    for Job { call, reply } in queue {
        let timeout = spec.timeout;
        let result: Result<Option<String>, String> = match call {
            Call::Event { event, time, stats } => {
                let events = std::iter::once(super::wire::event(&event, time)).chain(stats.map(|totals| super::wire::stats(&totals, time)));
                events.map(|wit| handle(&mut store, &handler, &out, timeout, &wit)).find(Result::is_err).unwrap_or(Ok(None))
            }
            Call::PostCase(id, outcome) => guarded(&mut store, &out, timeout, |s| handler.host_handler_hooks().call_post_case(s, &id, &outcome).map(Ok)),
            Call::OnFailure(id, failure, nodes) => {
                guarded(&mut store, &out, timeout, |s| handler.host_handler_hooks().call_on_failure(s, &id, &failure, &nodes).map(Ok))
            }
            Call::Flush => Ok(None),
            Call::Terminate => {
                let ended = guarded(&mut store, &out, timeout, |s| handler.host_handler_handler().call_terminate(s).map(Ok));
                if let Err(problem) = ended {
                    shared.stop(problem);
                }
                if let Some(reply) = reply {
                    let _ = reply.send(None);
                }
                return;
            }
        };
        match result {
            Ok(answer) => {
                shared.handled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if let Some(reply) = reply {
                    let _ = reply.send(answer);
                }
            }
            Err(problem) => {
                shared.stop(problem);
                return;
            }
        }
    }
}
