//! `sandbox`: the wasmtime engine, the WASI policy and the host interfaces.
//!
//! One [`Sandbox`] (engine + linker) serves a whole run. Each package is compiled once
//! (or taken from the [`CompileCache`]) and pre-instantiated; each case then runs in a
//! fresh store, so cases cannot leak state into each other. Time is enforced twice:
//! epoch interruption stops a guest spinning in a loop, and an async timeout stops a
//! guest blocked in a host call.

mod bindings;
mod breaks;
mod cache;
mod capture;
mod function_cache;
mod interfaces;
mod limits;
mod network;
mod node_calls;
mod http;
mod pool;
mod state;
mod suite_calls;
mod verdict;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store, WasmBacktraceDetails};

pub use bindings::NodeInfo;
pub use breaks::CaseBreaks;
pub use cache::{CompileCache, DEFAULT_MAX_BYTES as DEFAULT_CACHE_MAX_BYTES};
pub use state::{CaseScope, DATA_MOUNT, SCRATCH_MOUNT};
pub use verdict::CaseVerdict;
pub use pool::Pool;
pub use suite_calls::{FixtureVerdict, SuiteConfig};

use bindings::{Request, RunRequest, TesterPre};
use state::CaseState;
use crate::events::{Event, EventBus, Fixture};
use crate::nodes::Roster;

/// How often the epoch advances: the granularity of interrupting a running guest.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// How long a package may take to name its cases.
const LIST_CASES_TIMEOUT: Duration = Duration::from_secs(30);
/// Most cases a package may declare.
const MAX_CASES: usize = 100_000;
/// Longest case name a package may declare, in bytes.
const MAX_CASE_NAME: usize = 4 << 10;

/// The engine and linker of a run.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<CaseState>,
    cache: Option<CompileCache>,
    /// One permit per store alive (see [`Pool::MAX_LIVE_STORES`]).
    stores: Arc<tokio::sync::Semaphore>,
}

/// A compiled, pre-linked test package.
#[derive(Clone)]
pub struct Package {
    pub name: String,
    /// The component file it came from.
    pub path: PathBuf,
    /// Its cases, from the package's own `list-cases` (shared with the suite's index).
    pub cases: Arc<[String]>,
    /// Each case's one-line doc, in the order of `cases` (0.2 packages; no entries at all
    /// when no case has one — [`Package::doc`] is `None` then).
    pub docs: Arc<[String]>,
    /// Whether compilation was skipped thanks to the cache.
    pub from_cache: bool,
    pre: World,
}

/// Which world a package's component targets, pre-instantiated for it.
#[derive(Clone)]
enum World {
    /// `host:test@0.1.0`: `handle` runs a case.
    V1(Arc<TesterPre<CaseState>>),
    /// `host:test@0.2.0`: the host drives the suite shape (see `suite_calls`).
    V2(Arc<bindings::v2::SuiteTesterPre<CaseState>>),
}

impl Package {
    /// Whether the package targets the 0.2 world, whose `init` and `end` the runner calls.
    pub fn has_fixtures(&self) -> bool {
        matches!(self.pre, World::V2(_))
    }

    /// The doc of the case at `index` of `cases`, if it has one.
    pub fn doc(&self, index: usize) -> Option<&str> {
        self.docs.get(index).map(String::as_str).filter(|doc| !doc.is_empty())
    }
}

/// What a package was loaded with, plus anything worth a warning.
pub struct Loaded {
    pub package: Package,
    pub warning: Option<String>,
}

impl Sandbox {
    /// A sandbox whose compiled components are cached in `cache` (none: always compile),
    /// allocating instances as `pool` says.
    pub fn new(cache: Option<CompileCache>, pool: Pool) -> Result<Sandbox> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_backtrace_details(WasmBacktraceDetails::Enable);
        pool.configure(&mut config);
        if let Some(cache) = &cache {
            cache.configure(&mut config)?;
        }
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        // wasi:http's outgoing handler, restricted to the test's nodes (see `http`).
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        bindings::Tester::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        // 0.2's own imports; its imports of 0.1 interfaces are those just added.
        bindings::v2::host::test0_2_0::types::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        bindings::v2::host::test0_2_0::timetrap::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        bindings::v2::host::test0_2_0::annotate::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        bindings::v2::host::test0_2_0::breaks::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        start_epoch_ticker(&engine);
        let stores = Arc::new(tokio::sync::Semaphore::new(Pool::MAX_LIVE_STORES as usize));
        Ok(Sandbox { engine, linker, cache, stores })
    }

    /// The compile cache, if there is one.
    pub fn compile_cache(&self) -> Option<&CompileCache> {
        self.cache.as_ref()
    }

    /// The compile cache's directory, if there is a cache.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_ref().map(CompileCache::dir)
    }

    /// This sandbox's engine fingerprint (see [`CompileCache::engine_fingerprint`]): an
    /// archive's compiled components are for exactly one.
    pub fn engine_fingerprint(&self) -> String {
        CompileCache::engine_fingerprint(&self.engine)
    }

    /// The compiled form of the component file `wasm` for this engine: its compile-cache
    /// entry name and bytes (from this sandbox's cache, or compiled now).
    pub fn precompiled(&self, wasm: &Path) -> Result<(String, Vec<u8>)> {
        let bytes = std::fs::read(wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
        CompileCache::precompiled(&self.engine, self.cache.as_ref(), &bytes).with_context(|| format!("cannot compile {}", wasm.display()))
    }

    /// Compile (or fetch from the cache) the component at `path`, check it targets the
    /// `tester` world, and ask it for its cases — unless `listed` already names them (an
    /// archive keeps what `list-cases` said; the names are checked as `list-cases`' are). A compile is announced on `bus`
    /// (`ComponentCompiling`, with why), and every load ends with a `ComponentCompiled`.
    pub async fn load(&self, name: &str, path: &Path, listed: Option<Arc<[String]>>, bus: &EventBus) -> Result<Loaded> {
        let started = std::time::Instant::now();
        // Compiling is CPU-bound: off the async threads, so several packages compile at once.
        let (engine, cache, origin) = (self.engine.clone(), self.cache.clone(), path.to_path_buf());
        let (announce_bus, package) = (bus.clone(), name.to_string());
        let compiling = move |reason: &str| {
            announce_bus.emit(Event::ComponentCompiling { package: package.clone(), reason: reason.to_string() })
        };
        let compiled = tokio::task::spawn_blocking(move || -> Result<cache::Cached> {
            match &cache {
                Some(cache) => cache.load_file(&engine, &origin, &compiling),
                None => {
                    let wasm = std::fs::read(&origin).with_context(|| format!("cannot read {}", origin.display()))?;
                    compiling("compile cache off");
                    let component = wasmtime::component::Component::new(&engine, &wasm)
                        .map_err(anyhow::Error::from)
                        .with_context(|| format!("{} is not a valid component", origin.display()))?;
                    Ok(cache::Cached { component, hit: false, warning: None })
                }
            }
        })
        .await
        .context("the compiler thread failed")??;
        let (component, from_cache, warning) = (compiled.component, compiled.hit, compiled.warning);
        bus.emit(Event::ComponentCompiled { package: name.to_string(), took: started.elapsed(), from_cache });
        let instance_pre = self.linker.instantiate_pre(&component).map_err(anyhow::Error::from).with_context(|| {
            format!("{} does not fit the `tester` world (wit/tester.wit or wit/v0.2/tester.wit)", path.display())
        })?;
        // The `suite` it exports says which world it targets: 0.2 first, then 0.1.
        let pre = match bindings::v2::SuiteTesterPre::new(instance_pre.clone()) {
            Ok(pre) => World::V2(Arc::new(pre)),
            Err(_) => World::V1(Arc::new(TesterPre::new(instance_pre).map_err(anyhow::Error::from).with_context(|| {
                format!("{} exports neither `host:test/suite@0.1.0` nor `host:test/suite@0.2.0`", path.display())
            })?)),
        };
        let mut package = Package {
            name: name.to_string(),
            path: path.to_path_buf(),
            cases: Arc::new([]),
            docs: Arc::new([]),
            from_cache,
            pre,
        };
        // An archive recorded the case names (not their docs): the package is not asked.
        (package.cases, package.docs) = match listed {
            Some(cases) => {
                check_case_names(path, &cases)?;
                (cases, Arc::from(Vec::new()))
            }
            None => {
                let (cases, docs) = self.list_cases(&package).await?;
                (cases.into(), docs.into())
            }
        };
        Ok(Loaded { package, warning })
    }

    fn new_store(&self, scope: CaseScope, timeout: Duration) -> Result<Store<CaseState>> {
        new_store(&self.engine, scope, timeout)
    }

    /// An owned handle that runs cases of this sandbox's packages: what the lanes of a
    /// `parallel` package take with them.
    pub fn case_runner(&self) -> CaseRunner {
        CaseRunner { engine: self.engine.clone(), stores: Arc::clone(&self.stores) }
    }

    /// The package's cases and their docs.
    async fn list_cases(&self, package: &Package) -> Result<(Vec<String>, Vec<String>)> {
        let scope = CaseScope {
            live: Roster::default(),
            bus: EventBus::default(),
            test: String::new(),
            policy: Arc::default(),
            scratch: None,
            timeout_scale: 1.0,
            network: None,
            config: Arc::default(),
            package: String::new(),
            breaks: None,
        };
        let _permit = self.stores.acquire().await.context("the sandbox is closed")?;
        let mut store = self.new_store(scope, LIST_CASES_TIMEOUT)?;
        let call = async {
            let listed: wasmtime::Result<(Vec<String>, Vec<String>)> = match &package.pre {
                World::V1(pre) => {
                    let tester = pre.instantiate_async(&mut store).await?;
                    let cases = tester.host_test_suite().call_list_cases(&mut store).await?;
                    // 0.1 has no docs: none kept (a package may have 100,000 cases).
                    wasmtime::Result::Ok((cases, Vec::new()))
                }
                World::V2(pre) => {
                    let infos = suite_calls::list_cases(pre, &mut store).await?;
                    Ok(infos.into_iter().map(|info| (info.name, info.doc)).unzip())
                }
            };
            listed
        };
        let cases = tokio::time::timeout(LIST_CASES_TIMEOUT, call)
            .await
            .with_context(|| {
                format!("{}: list-cases did not return within {}s", package.path.display(), LIST_CASES_TIMEOUT.as_secs())
            })?
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{}: list-cases failed", package.path.display()))?;
        check_case_names(&package.path, &cases.0)?;
        check_docs(&package.path, &cases.0, &cases.1)?;
        let (cases, mut docs) = cases;
        if docs.iter().all(String::is_empty) {
            docs = Vec::new();
        }
        Ok((cases, docs))
    }

    /// Run one case in a fresh store, with `timeout` for all of it, right here (see
    /// [`CaseRunner::run`]).
    pub async fn run_case(&self, package: &Package, case: &str, scope: CaseScope, timeout: Duration) -> CaseVerdict {
        self.case_runner().run(package, case, scope, timeout).await
    }
}

/// Longest case doc a package may declare, in bytes.
const MAX_DOC: usize = 4 << 10;

/// A 0.2 package's docs are bounded, and one line each.
fn check_docs(path: &Path, cases: &[String], docs: &[String]) -> Result<()> {
    if let Some((case, doc)) = cases.iter().zip(docs).find(|(_, doc)| doc.len() > MAX_DOC || doc.contains('\n')) {
        anyhow::bail!(
            "{}: list-cases gave case {case:?} a doc of {} bytes over {} line(s): a doc is one line of at most {MAX_DOC} bytes",
            path.display(),
            doc.len(),
            doc.lines().count()
        );
    }
    Ok(())
}

/// A fresh store for a case, with its limits and its time.
fn new_store(engine: &Engine, scope: CaseScope, timeout: Duration) -> Result<Store<CaseState>> {
    let deadline = std::time::Instant::now() + timeout;
    let mut store = Store::new(engine, CaseState::new(scope, deadline)?);
    store.limiter(|state| &mut state.limits);
    // Yield to the async executor on every epoch tick, so timeouts can cancel a guest
    // that never calls the host. The yield happens inside the epoch check, itself a call
    // into the host: it is marked so, and a case cut there was running its own code.
    store.set_epoch_deadline(1);
    let activity = Arc::clone(&store.data().activity);
    store.epoch_deadline_callback(move |_| {
        activity.at_epoch_check();
        Ok(wasmtime::UpdateDeadline::Yield(1))
    });
    // Where a case's time ran out (see `CaseState::activity`): in a host call or not.
    let activity = Arc::clone(&store.data().activity);
    store.call_hook(move |_, hook| {
        match hook {
            wasmtime::CallHook::CallingHost => activity.calling_host(),
            wasmtime::CallHook::ReturningFromHost => activity.returning_from_host(),
            _ => {}
        }
        Ok(())
    });
    Ok(store)
}

/// Runs cases of a [`Sandbox`]'s packages; owned, so a task of its own can hold one.
#[derive(Clone)]
pub struct CaseRunner {
    engine: Engine,
    /// One permit per store alive (see [`Pool::MAX_LIVE_STORES`]).
    stores: Arc<tokio::sync::Semaphore>,
}

impl CaseRunner {
    /// Run one case in a fresh store, with `timeout` for all of it, on the calling task.
    /// Dropping the future (an interrupted run) stops the case.
    pub async fn run(&self, package: &Package, case: &str, scope: CaseScope, timeout: Duration) -> CaseVerdict {
        let pre = match &package.pre {
            World::V1(pre) => pre,
            World::V2(pre) => {
                let Ok(_permit) = self.stores.acquire().await else {
                    return CaseVerdict::host_error("the sandbox is closed".into());
                };
                return suite_calls::case(&self.engine, pre, case, scope, timeout).await;
            }
        };
        let request = Request::Run(RunRequest {
            input_node_names: scope.live.snapshot().iter().map(|node| node.spec.name.clone()).collect(),
            test_names: vec![case.to_string()],
            test_timeout: timeout.as_secs_f64().ceil() as u64,
        });
        let Ok(_permit) = self.stores.acquire().await else {
            return CaseVerdict::host_error("the sandbox is closed".into());
        };
        // Declared after the permit, so dropped before it: the store's slots go back to
        // the pool before another store may start.
        let mut store = match new_store(&self.engine, scope, timeout) {
            Ok(store) => store,
            Err(error) => return CaseVerdict::host_error(format!("{error:#}")),
        };
        let watch = store.data().watch();
        let call = async {
            let tester = pre.instantiate_async(&mut store).await?;
            tester.host_test_suite().call_handle(&mut store, &request).await
        };
        let result = suite_calls::bounded(call, timeout, watch).await;
        verdict::judge(case, timeout, result, store.data())
    }

    /// Run `fixture` (`init` or `end`) of a 0.2 package with `config`, in a fresh store
    /// bounded by `timeout`; `None` for a 0.1 package, which has none.
    pub async fn fixture(
        &self,
        package: &Package,
        fixture: Fixture,
        config: &SuiteConfig,
        scope: CaseScope,
        timeout: Duration,
    ) -> Option<FixtureVerdict> {
        let World::V2(pre) = &package.pre else { return None };
        let Ok(_permit) = self.stores.acquire().await else {
            return Some(FixtureVerdict { verdict: CaseVerdict::host_error("the sandbox is closed".into()), config: None });
        };
        Some(suite_calls::fixture(&self.engine, pre, fixture, config, scope, timeout).await)
    }
}

/// A package's case names are bounded in count and length (reporters escape their text).
fn check_case_names(path: &Path, cases: &[String]) -> Result<()> {
    if cases.len() > MAX_CASES {
        anyhow::bail!("{}: list-cases named {} cases, over the limit of {MAX_CASES}", path.display(), cases.len());
    }
    if let Some((index, name)) = cases.iter().enumerate().find(|(_, name)| name.len() > MAX_CASE_NAME) {
        let mut start = 64;
        while !name.is_char_boundary(start) {
            start -= 1;
        }
        anyhow::bail!(
            "{}: list-cases named a case of {} bytes (case {}, starting {:?}), over the limit of {MAX_CASE_NAME} bytes",
            path.display(),
            name.len(),
            index + 1,
            &name[..start]
        );
    }
    Ok(())
}

/// Advance `engine`'s epoch every tick for as long as the engine lives.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("cannot start the epoch ticker thread");
}
