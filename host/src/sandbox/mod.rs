//! `sandbox`: the wasmtime engine, the WASI policy and the host interfaces.
//!
//! One [`Sandbox`] (engine + linker) serves a whole run. Each package is compiled once
//! (or taken from the [`CompileCache`]) and pre-instantiated; each case then runs in a
//! fresh store, so cases cannot leak state into each other. Time is enforced twice:
//! epoch interruption stops a guest spinning in a loop, and an async timeout stops a
//! guest blocked in a host call.

mod bindings;
mod cache;
mod capture;
mod interfaces;
mod limits;
mod network;
mod node_calls;
mod http;
mod pool;
mod state;
mod verdict;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store, WasmBacktraceDetails};

pub use bindings::NodeInfo;
pub use cache::{CompileCache, DEFAULT_MAX_BYTES as DEFAULT_CACHE_MAX_BYTES};
pub use state::{CaseScope, DATA_MOUNT, SCRATCH_MOUNT};
pub use verdict::CaseVerdict;
pub use pool::Pool;

use bindings::{Request, RunRequest, TesterPre};
use state::CaseState;
use crate::events::{Event, EventBus};
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
    /// Whether compilation was skipped thanks to the cache.
    pub from_cache: bool,
    pre: Arc<TesterPre<CaseState>>,
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
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        // wasi:http's outgoing handler, restricted to the test's nodes (see `http`).
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        bindings::Tester::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        start_epoch_ticker(&engine);
        let stores = Arc::new(tokio::sync::Semaphore::new(Pool::MAX_LIVE_STORES as usize));
        Ok(Sandbox { engine, linker, cache, stores })
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
            format!("{} does not fit the `tester` world (wit/tester.wit)", path.display())
        })?;
        let pre = TesterPre::new(instance_pre).map_err(anyhow::Error::from).with_context(|| {
            format!("{} does not export the `tester` world's `suite` interface", path.display())
        })?;
        let mut package =
            Package { name: name.to_string(), path: path.to_path_buf(), cases: Arc::new([]), from_cache, pre: Arc::new(pre) };
        package.cases = match listed {
            Some(cases) => {
                check_case_names(path, &cases)?;
                cases
            }
            None => self.list_cases(&package).await?.into(),
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

    async fn list_cases(&self, package: &Package) -> Result<Vec<String>> {
        let scope = CaseScope {
            live: Roster::default(),
            bus: EventBus::default(),
            test: String::new(),
            policy: Arc::default(),
            scratch: None,
            timeout_scale: 1.0,
            network: None,
        };
        let _permit = self.stores.acquire().await.context("the sandbox is closed")?;
        let mut store = self.new_store(scope, LIST_CASES_TIMEOUT)?;
        let call = async {
            let tester = package.pre.instantiate_async(&mut store).await?;
            tester.host_test_suite().call_list_cases(&mut store).await
        };
        let cases = tokio::time::timeout(LIST_CASES_TIMEOUT, call)
            .await
            .with_context(|| {
                format!("{}: list-cases did not return within {}s", package.path.display(), LIST_CASES_TIMEOUT.as_secs())
            })?
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{}: list-cases failed", package.path.display()))?;
        check_case_names(&package.path, &cases)?;
        Ok(cases)
    }

    /// Run one case in a fresh store, with `timeout` for all of it, right here (see
    /// [`CaseRunner::run`]).
    pub async fn run_case(&self, package: &Package, case: &str, scope: CaseScope, timeout: Duration) -> CaseVerdict {
        self.case_runner().run(package, case, scope, timeout).await
    }
}

/// A fresh store for a case, with its limits and its time.
fn new_store(engine: &Engine, scope: CaseScope, timeout: Duration) -> Result<Store<CaseState>> {
    let deadline = std::time::Instant::now() + timeout;
    let mut store = Store::new(engine, CaseState::new(scope, deadline)?);
    store.limiter(|state| &mut state.limits);
    // Yield to the async executor on every epoch tick, so timeouts can cancel a guest
    // that never calls the host.
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);
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
        let call = async {
            let tester = package.pre.instantiate_async(&mut store).await?;
            tester.host_test_suite().call_handle(&mut store, &request).await
        };
        let result = tokio::time::timeout(timeout, call).await;
        verdict::judge(case, timeout, result, store.data())
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
