//! `handlers`: user event handlers and hooks (Common Test's event handlers and CTHs), as
//! sandboxed components of the `event-handler` world (`wit/handler/handler.wit`) or
//! native commands reading JSON lines.
//!
//! Handlers consume the run's events like reporters: [`Handlers::feed`] is a subscriber
//! of the bus. An asynchronous handler has a bounded queue on its own thread (events past
//! it are dropped and counted); a synchronous one is awaited before the run goes on. As
//! hooks ([`Handlers::hooks`], handed to the runner through `RunOptions`) they are asked
//! about each case that ran before it is reported. A handler that traps, hangs, floods or
//! fails is stopped and reported; the run, its verdict and the reports do not change.

mod bindings;
mod command;
mod component;
mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

pub use component::{DIR_MOUNT, OUTPUT_LIMIT};

use crate::config::{HandlerSource, HandlerSpec};
use crate::events::{CaseHooks, CaseRef, Event, EventBus, FailureDetail, NodeLogTail, Outcome, Recorder, Subscriber, Totals};
use crate::sandbox::CompileCache;
use bindings::{CaseId, NodeLog};
use component::{Call, Job};

/// How often handler engines' epoch advances: the granularity of their time limits.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What a handler's thread and the run share: why it stopped, what it dropped.
#[derive(Default)]
pub(crate) struct Shared {
    stopped: Mutex<Option<String>>,
    dropped: AtomicU64,
    handled: AtomicU64,
}

impl Shared {
    /// Stop the handler for `reason` (the first reason stays).
    fn stop(&self, reason: String) {
        lock(&self.stopped).get_or_insert(reason);
    }

    fn stopped(&self) -> bool {
        lock(&self.stopped).is_some()
    }
}

/// One installed handler.
struct Handler {
    spec: HandlerSpec,
    shared: Arc<Shared>,
    kind: Kind,
    /// Problems already reported (so each is reported once).
    reported: Mutex<(bool, u64)>,
}

enum Kind {
    Component(Mutex<Option<SyncSender<Job>>>),
    Command(command::CommandHandler),
}

/// The handlers of a run.
#[derive(Clone)]
pub struct Handlers {
    handlers: Arc<Vec<Handler>>,
    started: Instant,
}

impl Handlers {
    /// Build, compile and start every handler of `specs` (`init` called with its
    /// arguments); builds and compiles are announced on `bus` as test packages' are. A
    /// handler that cannot be built, loaded or initialised is an error: the run does not
    /// start without the handlers it was given.
    pub async fn start(specs: &[HandlerSpec], cache: Option<CompileCache>, builds: &std::path::Path, bus: &EventBus) -> Result<Handlers> {
        let mut handlers = Vec::new();
        let engine = if specs.iter().any(|s| matches!(s.source, HandlerSource::Component(_))) { Some(engine(cache.as_ref())?) } else { None };
        for spec in specs {
            let shared = Arc::new(Shared::default());
            let kind = match &spec.source {
                HandlerSource::Command(argv) => Kind::Command(
                    command::CommandHandler::start(argv, spec.queue, spec.timeout, Arc::clone(&shared))
                        .with_context(|| format!("event handler {}", spec.name))?,
                ),
                HandlerSource::Component(package) => {
                    let engine = engine.as_ref().context("no engine")?;
                    let wasm = build(package, builds, bus).await.with_context(|| format!("event handler {}: cannot build {}", spec.name, package.path.display()))?;
                    let component = compile(engine, cache.as_ref(), &wasm, &package.name, bus)
                        .with_context(|| format!("event handler {}: {} is not a valid component", spec.name, wasm.display()))?;
                    let jobs = component::start(engine, component, spec, Arc::clone(&shared))
                        .with_context(|| format!("event handler {} ({})", spec.name, wasm.display()))?;
                    Kind::Component(Mutex::new(Some(jobs)))
                }
            };
            handlers.push(Handler { spec: spec.clone(), shared, kind, reported: Mutex::new((false, 0)) });
        }
        Ok(Handlers { handlers: Arc::new(handlers), started: Instant::now() })
    }

    /// Whether there are any handlers at all.
    pub fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }

    /// The subscriber that hands every event to every handler (subscribe it before the
    /// reporters, so a synchronous handler is done before they see the event).
    pub fn feed(&self) -> Feed {
        Feed { handlers: self.clone(), recorder: Recorder::default() }
    }

    /// What the runner asks about each case (hooks), and at the run's end (problems).
    pub fn hooks(&self) -> Arc<dyn CaseHooks> {
        Arc::new(self.clone())
    }

    /// End the run for every handler: `terminate` called, commands' stdin closed and their
    /// groups killed. Returns the problems not reported yet.
    pub fn finish(&self) -> Vec<String> {
        for handler in self.handlers.iter() {
            match &handler.kind {
                Kind::Component(_) => {
                    let _ = handler.call(Call::Terminate);
                }
                Kind::Command(command) => {
                    if let Some(problem) = command.finish() {
                        handler.shared.stop(problem);
                    }
                }
            }
            if let Kind::Component(jobs) = &handler.kind {
                lock(jobs).take();
            }
        }
        self.problems()
    }

    /// Problems not reported yet: handlers stopped, events dropped.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for handler in self.handlers.iter() {
            let mut reported = lock(&handler.reported);
            if !reported.0
                && let Some(reason) = lock(&handler.shared.stopped).clone()
            {
                reported.0 = true;
                let handled = handler.shared.handled.load(Ordering::Relaxed);
                problems.push(format!("event handler `{}` stopped after {handled} call(s): {reason}; the run went on without it", handler.spec.name));
            }
            let dropped = handler.shared.dropped.load(Ordering::Relaxed);
            if dropped > reported.1 {
                problems.push(format!(
                    "event handler `{}` fell behind: {} event(s) dropped (its queue holds {})",
                    handler.spec.name,
                    dropped - reported.1,
                    handler.spec.queue
                ));
                reported.1 = dropped;
            }
        }
        problems
    }

    /// Hand `event` (and, after a finished case, the counts so far) to every handler that
    /// is still running. Components get it as it is, shared: turning it into the WIT types
    /// happens on their own threads, never on the run's.
    fn event(&self, event: &Event, stats: Option<Totals>) {
        let time = self.started.elapsed().as_secs_f64();
        let mut shared: Option<Arc<Event>> = None;
        for handler in self.handlers.iter().filter(|h| !h.shared.stopped()) {
            match &handler.kind {
                Kind::Command(command) => command.handle(event),
                Kind::Component(_) => {
                    let event = Arc::clone(shared.get_or_insert_with(|| Arc::new(event.clone())));
                    let call = Call::Event { event, time, stats };
                    if handler.spec.sync {
                        let _ = handler.call(call);
                    } else {
                        handler.post(call);
                    }
                }
            }
        }
    }

    /// The component handlers that are hooks, in priority order.
    fn hook_handlers(&self) -> Vec<&Handler> {
        let mut hooks: Vec<&Handler> = self.handlers.iter().filter(|h| h.spec.hooks && !h.shared.stopped()).collect();
        hooks.sort_by_key(|h| h.spec.priority);
        hooks
    }
}

impl Handler {
    /// Queue `call` without waiting; a full queue drops it (counted).
    fn post(&self, call: Call) {
        let Kind::Component(jobs) = &self.kind else { return };
        let Some(jobs) = lock(jobs).clone() else { return };
        match jobs.try_send(Job { call, reply: None }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Make `call` and wait for its answer, within the handler's timeout (and what is
    /// queued before it); a handler that does not answer in time is stopped.
    fn call(&self, call: Call) -> Option<String> {
        let Kind::Component(jobs) = &self.kind else { return None };
        let jobs = lock(jobs).clone()?;
        let (reply, answer) = std::sync::mpsc::channel();
        let wait = self.spec.timeout + Duration::from_secs(1);
        let deadline = Instant::now() + wait;
        // A full queue (an asynchronous handler behind) is waited for, up to the timeout.
        let mut job = Job { call, reply: Some(reply) };
        loop {
            match jobs.try_send(job) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    job = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => {
                    self.shared.stop(format!("did not take a call within {:.1}s", wait.as_secs_f64()));
                    return None;
                }
            }
        }
        match answer.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(answer) => answer,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                self.shared.stop(format!("hung: a call did not return within {:.1}s (timeout_secs)", self.spec.timeout.as_secs_f64()));
                if let Kind::Component(jobs) = &self.kind {
                    lock(jobs).take();
                }
                None
            }
            // The handler stopped while on this call: its reason is recorded.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => None,
        }
    }
}

impl CaseHooks for Handlers {
    fn on_failure(&self, case: CaseRef<'_>, failure: &FailureDetail, nodes: &dyn Fn() -> Vec<NodeLogTail>) -> Vec<(String, String)> {
        let hooks = self.hook_handlers();
        if hooks.is_empty() {
            return Vec::new();
        }
        let logs: Vec<NodeLog> = nodes().into_iter().map(|tail| NodeLog { node: tail.node, lines: tail.lines }).collect();
        hooks
            .into_iter()
            .filter_map(|h| {
                let text = h.call(Call::OnFailure(case_id(case), wire::failure(failure), logs.clone()))?;
                Some((h.spec.name.clone(), text))
            })
            .collect()
    }

    fn post_case(&self, case: CaseRef<'_>, outcome: &Outcome) -> Option<(String, String)> {
        self.hook_handlers().into_iter().find_map(|h| {
            let reason = h.call(Call::PostCase(case_id(case), wire::outcome(outcome)))?;
            Some((h.spec.name.clone(), reason))
        })
    }

    fn run_ending(&self) -> Vec<String> {
        // Let asynchronous handlers catch up (each within its timeout), so what they
        // dropped is known before the run's last event.
        for handler in self.handlers.iter().filter(|h| !h.spec.sync && !h.shared.stopped()) {
            let _ = handler.call(Call::Flush);
        }
        self.problems()
    }
}

fn case_id(case: CaseRef<'_>) -> CaseId {
    CaseId { test: case.test.to_string(), package: case.package.to_string(), case: case.case.to_string() }
}

/// The bus subscriber of [`Handlers`]: every event to every handler, and after each
/// finished case the counts so far (Common Test's `test_stats`).
pub struct Feed {
    handlers: Handlers,
    recorder: Recorder,
}

impl Subscriber for Feed {
    fn handle(&mut self, event: &Event) {
        self.recorder.handle(event);
        let stats = matches!(event, Event::CaseFinished { .. }).then(|| self.recorder.totals());
        self.handlers.event(event, stats);
    }
}

/// Build `package` (when it is a source package), announcing a build that happens.
async fn build(package: &crate::config::PackageRef, builds: &std::path::Path, bus: &EventBus) -> Result<std::path::PathBuf> {
    let reason = crate::build::stale_reason(package, builds);
    let started = Instant::now();
    if let Some(reason) = &reason {
        bus.emit(Event::PackageBuilding { package: package.name.clone(), path: package.path.display().to_string(), reason: reason.clone() });
    }
    let wasm = crate::build::package(package, builds).await?;
    if reason.is_some() {
        bus.emit(Event::PackageBuilt { package: package.name.clone(), took: started.elapsed() });
    }
    Ok(wasm)
}

/// Compile the component at `wasm` (or take it from the compile cache), announced as a
/// test package's compile is.
fn compile(engine: &Engine, cache: Option<&CompileCache>, wasm: &std::path::Path, name: &str, bus: &EventBus) -> Result<Component> {
    let started = Instant::now();
    let compiling = |reason: &str| bus.emit(Event::ComponentCompiling { package: name.to_string(), reason: reason.to_string() });
    let (component, from_cache) = match cache {
        Some(cache) => {
            let cached = cache.load_file(engine, wasm, &compiling)?;
            (cached.component, cached.hit)
        }
        None => {
            compiling("compile cache off");
            (Component::from_file(engine, wasm).map_err(anyhow::Error::from)?, false)
        }
    };
    bus.emit(Event::ComponentCompiled { package: name.to_string(), took: started.elapsed(), from_cache });
    Ok(component)
}

/// An engine for handlers: epoch interruption (ticked by a thread of its own while the
/// engine lives), no pooling, compiled functions shared through `cache`.
fn engine(cache: Option<&CompileCache>) -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    if let Some(cache) = cache {
        cache.configure(&mut config)?;
    }
    let engine = Engine::new(&config)?;
    let weak = engine.weak();
    std::thread::Builder::new().name("handler epochs".into()).spawn(move || {
        while let Some(engine) = weak.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(EPOCH_TICK);
        }
    })?;
    Ok(engine)
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
