//! `host run`, `host list`, `host check`, `host archive`.

use std::io::IsTerminal as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use host::config::{self, HandlerSpec, Plan};
use host::handlers::Handlers;
use host::events::{Event, EventBus};
use host::reporters::escape::terminal_line;
use host::reporters::{HtmlReporter, JsonReporter, JunitReporter, LastRunWriter, RecordWriter, TerminalReporter};
use host::runner::{self, Hooks, Prepared, RunOptions};
use host::sandbox::{CompileCache, Pool, Sandbox};
use host::suite::{Filters, Item, Partition, Selection, Selector};
use tokio::signal::unix::{SignalKind, signal};

use super::args::{ArchiveArgs, CacheArgs, CheckArgs, ColorChoice, Format, ListArgs, RunArgs, SuiteArgs};
use super::{exit, records};

fn load(path: &Path) -> Result<Plan, u8> {
    config::load(path).map_err(|errors| {
        for error in errors.iter() {
            eprintln!("error: {error}");
        }
        errors.exit_code()
    })
}

fn usage_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::USAGE
}

/// `host check`.
pub fn check(args: &CheckArgs) -> u8 {
    let plan = match load(&args.path) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let packages: usize = plan.tests.iter().map(|t| t.test_packages.len() + t.setup_packages.len()).sum();
    let nodes: usize = plan.tests.iter().map(|t| t.nodes.len()).sum();
    println!("{}: ok ({} test(s), {packages} package(s), {nodes} node(s))", plan.file.display(), plan.tests.len());
    exit::PASSED
}

impl CacheArgs {
    /// The sandbox of a run of `plan`, with this compile cache.
    fn sandbox(&self, plan: &Plan) -> anyhow::Result<Sandbox> {
        let cache = if self.no_cache { None } else { self.cache_dir.clone().or_else(CompileCache::default_dir) };
        Sandbox::new(cache.map(CompileCache::new), Pool::for_run(plan.tests.iter().map(|test| &test.sandbox)))
    }
}

impl SuiteArgs {
    /// The tests.toml (or its directory) to load.
    fn tests_toml(&self) -> PathBuf {
        self.path.clone().unwrap_or_else(|| PathBuf::from(config::DEFAULT_FILE))
    }

    fn selector(&self) -> Result<Selector, String> {
        let filters: Vec<&String> = self.filters.iter().chain(&self.more_filters).collect();
        let partition = self
            .partition
            .as_deref()
            .map(|text| Partition::parse(text, |name| std::env::var(name).ok()))
            .transpose()?;
        let durations = records::durations(partition.as_ref(), self.from_record.as_deref())?;
        Ok(Selector { filters: Filters::new(&filters)?, partition, durations, only: None })
    }

    /// Load, build and select: everything before nodes boot. With `--rerun-failed`, also
    /// the last run's outstanding ids that this selection leaves out (they stay
    /// outstanding).
    async fn prepare(&self, bus: &EventBus, with_runtimes: bool, plan: &Plan) -> Result<(Sandbox, Prepared, Selection, Vec<String>), u8> {
        let mut selector = self.selector().map_err(usage_error)?;
        let rerun = if self.rerun_failed { Some(records::outstanding(plan)?) } else { None };
        selector.only = rerun.as_ref().map(|ids| ids.iter().cloned().collect());
        let sandbox = self.cache.sandbox(plan).map_err(usage_error)?;
        if let Some(engine) = &self.archive_engine {
            host::archive::check_engine(engine, &sandbox.engine_fingerprint()).map_err(|e| usage_error(format!("--archive: {e:#}")))?;
        }
        let started = std::time::SystemTime::now();
        let prepared = runner::prepare(plan, &sandbox, bus, with_runtimes, &self.listed).await.map_err(|e| usage_error(format!("{e:#}")))?;
        // Everything this run needs is cached and fresh now: trim what older runs left
        // (an archive's cache is the archive's, and holds only what it needs).
        if let Some(cache) = sandbox.compile_cache().filter(|_| self.archive_engine.is_none()) {
            let max = std::env::var("HOST_CACHE_MAX_MB").ok().and_then(|mb| mb.parse::<u64>().ok()).map_or(host::sandbox::DEFAULT_CACHE_MAX_BYTES, |mb| mb << 20);
            cache.trim(max, started);
        }
        let selection = Selection::new(plan, &prepared.index(), &selector);
        let carried = rerun.unwrap_or_default().into_iter().filter(|id| !selection.contains(id)).collect();
        Ok((sandbox, prepared, selection, carried))
    }
}

/// `host list`.
pub async fn list(args: &ListArgs) -> u8 {
    let plan = match load(&args.suite.tests_toml()) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    // Build progress goes to stderr so stdout is only the list.
    let bus = EventBus::new();
    bus.subscribe(TerminalReporter::new(std::io::stderr(), false).verbose(args.suite.verbose));
    let (_, prepared, selection, _) = match args.suite.prepare(&bus, false, &plan).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    if selection.is_empty() {
        eprintln!("nothing selected");
        return exit::NOTHING_SELECTED;
    }
    // With --verbose, a case's doc (0.2 packages) follows its id, after a tab.
    let docs = if args.suite.verbose { prepared.case_docs() } else { Default::default() };
    match print_list(&mut std::io::stdout().lock(), &selection, &docs) {
        Ok(()) => exit::PASSED,
        // The reader went away (`host list | head`): what it wanted was printed.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => exit::PASSED,
        Err(error) => {
            eprintln!("error: writing the list to stdout: {error}");
            exit::USAGE
        }
    }
}

/// The selected ids, each test and package once before its items (a case name may hold a
/// `/`: the structure comes from the items, not from splitting ids); names escaped onto
/// their line, as every reporter shows them; a case's doc after a tab, when `docs` has one.
fn print_list(
    out: &mut impl std::io::Write,
    selection: &Selection,
    docs: &std::collections::HashMap<(String, String), String>,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    // Items come in suite order: a new test or package starts where its name changes.
    let (mut last_test, mut last_package) = (None, None);
    for item in selection.items() {
        let test = item.test();
        if last_test != Some(test) {
            writeln!(out, "{}", terminal_line(test))?;
            (last_test, last_package) = (Some(test), None);
        }
        if let Item::Case { package, .. } = item
            && last_package != Some(&**package)
        {
            writeln!(out, "{}/{}", terminal_line(test), terminal_line(package))?;
            last_package = Some(&**package);
        }
        let doc = match item {
            Item::Case { package, case, .. } => docs.get(&(package.to_string(), case.clone())),
            Item::Script { .. } => None,
        };
        match doc {
            Some(doc) => writeln!(out, "{}\t{}", terminal_line(&item.id()), terminal_line(doc))?,
            None => writeln!(out, "{}", terminal_line(&item.id()))?,
        }
    }
    out.flush()
}

/// `host archive`.
pub async fn archive(args: &ArchiveArgs) -> u8 {
    let plan = match load(&args.path) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    // Before the build: somewhere the archive can go.
    let parent = args.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if args.out.is_dir() {
        return usage_error(format!("{}: is a directory; give a file name (NAME.tar.zst)", args.out.display()));
    }
    if !parent.is_dir() {
        return usage_error(format!("{}: directory {} does not exist", args.out.display(), parent.display()));
    }
    let bus = EventBus::new();
    bus.subscribe(TerminalReporter::new(std::io::stderr(), false).verbose(args.verbose));
    let sandbox = match args.cache.sandbox(&plan) {
        Ok(sandbox) => sandbox,
        Err(error) => return usage_error(format!("{error:#}")),
    };
    // As for `run`: the build's process groups are the host's, killed when the work is
    // dropped (on Ctrl-C or SIGTERM) or, if the host is killed, by the watchdog.
    if let Err(error) = std::env::current_exe().and_then(|exe| host::nodes::groups::start_watchdog(&exe, &["__watchdog"])) {
        bus.emit(Event::Warning { message: format!("cannot start the watchdog process: {error}") });
    }
    let (mut interrupt, mut terminate) = match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(interrupt), Ok(terminate)) => (interrupt, terminate),
        (Err(error), _) | (_, Err(error)) => return usage_error(format!("cannot watch for signals: {error}")),
    };
    let work = async {
        let prepared = runner::prepare(&plan, &sandbox, &bus, true, &runner::Listed::default()).await?;
        anyhow::Context::with_context(host::archive::create(&plan, &prepared, &sandbox, &args.out).await, || {
            format!("cannot write the archive {}", args.out.display())
        })
    };
    let written = tokio::select! {
        written = work => written,
        _ = interrupt.recv() => return interrupted(&bus, exit::INTERRUPTED),
        _ = terminate.recv() => return interrupted(&bus, exit::TERMINATED),
    };
    match written {
        Ok(summary) => {
            println!(
                "Archived {} package(s) and {} file(s) of {} into {} ({:.1} MiB)",
                summary.packages,
                summary.files,
                plan.file.display(),
                args.out.display(),
                summary.bytes as f64 / (1 << 20) as f64
            );
            exit::PASSED
        }
        Err(error) => usage_error(format!("{error:#}")),
    }
}

/// `host archive` stopped by a signal: its builds are killed (dropped), the partial
/// archive removed, nothing written.
fn interrupted(bus: &EventBus, code: u8) -> u8 {
    let message = "interrupted: nothing archived";
    bus.emit(Event::PreparationFailed { message: message.into() });
    eprintln!("{message}");
    code
}

/// `host run`.
pub async fn run(args: &RunArgs) -> u8 {
    if args.break_on_failure && args.continue_file.is_none() && !std::io::stdin().is_terminal() {
        eprintln!(
            "error: --break-on-failure waits for Enter, but stdin is not a terminal: \
             give --continue-file FILE to go on when FILE exists"
        );
        return exit::USAGE;
    }
    // Before anything that takes time (extracting, building): Ctrl-C and SIGTERM are ours.
    let (cancel, signals) = match watch_signals() {
        Ok(watch) => watch,
        Err(error) => return usage_error(format!("cannot watch for signals: {error}")),
    };
    // With --archive: the archive's suite, extracted and checked, run with its compile
    // cache and recorded cases; the directory goes when `extracted` does (if the host
    // made it), on every return below.
    let mut suite = args.suite.clone();
    let extracted = match &args.archive {
        None => None,
        Some(file) => {
            let (file, workdir) = (file.clone(), args.workdir.clone());
            match tokio::task::spawn_blocking(move || host::archive::extract(&file, workdir.as_deref())).await {
                Ok(Ok(extracted)) => Some(extracted),
                Ok(Err(error)) => return usage_error(format!("{error:#}")),
                Err(error) => return usage_error(format!("extracting the archive failed: {error}")),
            }
        }
    };
    if signals.received() {
        // `extracted` goes now, its directory with it (if the host made it).
        eprintln!("interrupted while extracting the archive: nothing ran");
        return signals.exit_code();
    }
    if let Some(extracted) = &extracted {
        if let Some(filter) = suite.path.take() {
            suite.filters.insert(0, filter.to_string_lossy().into_owned());
        }
        suite.path = Some(extracted.tests_toml());
        suite.cache.cache_dir = Some(extracted.cache_dir());
        suite.archive_engine = Some(extracted.manifest.engine.clone());
        suite.listed = extracted.listed();
    }
    let suite = &suite;
    let mut plan = match load(&suite.tests_toml()) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if let Some(factor) = args.timeout_scale {
        plan.scale_timeouts(factor);
    }
    if let Err(error) = check_report_destinations(args) {
        return usage_error(error);
    }
    let mut handler_specs = plan.event_handlers.clone();
    for flag in &args.event_handlers {
        match HandlerSpec::parse_flag(flag) {
            Ok(spec) if handler_specs.iter().any(|other| other.name == spec.name) => {
                return usage_error(format!("--event-handler {flag}: a handler named `{}` is installed already", spec.name));
            }
            Ok(spec) => handler_specs.push(spec),
            Err(error) => return usage_error(error),
        }
    }
    let bus = EventBus::new();
    match args.format {
        Format::Human => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                        && std::io::IsTerminal::is_terminal(&std::io::stdout())
                }
            };
            bus.subscribe(TerminalReporter::new(std::io::stdout(), color).verbose(suite.verbose));
        }
        Format::Json => bus.subscribe(JsonReporter::new(std::io::stdout())),
    }
    if let Some(file) = &args.junit {
        bus.subscribe(JunitReporter::new(file.clone()));
    }
    if let Some(dir) = &args.report {
        bus.subscribe(HtmlReporter::new(dir.clone()));
    }
    if let Some(file) = &args.record {
        bus.subscribe(RecordWriter::new(file.clone()));
    }
    if plan.persist_home && extracted.as_ref().is_some_and(host::archive::Extracted::removed_afterwards) {
        bus.emit(Event::Warning {
            message: "persist_home: node homes inside the archive's directory are removed with it after the run; give --workdir an existing directory to keep them".into(),
        });
    }
    // Before the build, whose process groups it covers too. Without a watchdog, a
    // SIGKILLed host still takes its nodes down (parent-death signal), but not what they
    // started: worth a warning, not a refusal to run.
    let watchdog = std::env::current_exe().and_then(|exe| host::nodes::groups::start_watchdog(&exe, &["__watchdog"]));
    if let Err(error) = watchdog {
        bus.emit(Event::Warning { message: format!("cannot start the watchdog process: {error}") });
    }
    let mut cancelled = cancel.clone();
    let prepared = tokio::select! {
        prepared = suite.prepare(&bus, true, &plan) => prepared,
        // Dropping the build kills its process groups and removes partial outputs.
        _ = cancelled.wait_for(|cancelled| *cancelled) => {
            // The reporters write what they hold and take down their live line first.
            let message = "interrupted while building: nothing ran";
            bus.emit(Event::PreparationFailed { message: message.into() });
            eprintln!("{message}");
            return signals.exit_code();
        }
    };
    let (sandbox, prepared, selection, carried) = match prepared {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    if selection.is_empty() {
        eprintln!("nothing selected: no case or script matches the filters and partition");
        return exit::NOTHING_SELECTED;
    }
    // Handlers start once everything is built, and see the run from its first event.
    let handlers = match start_handlers(&handler_specs, &sandbox, &bus).await {
        Ok(handlers) => handlers,
        Err(code) => return code,
    };
    if let Some(handlers) = &handlers {
        bus.subscribe(handlers.feed());
    }
    let breaks = runner::BreakSettings { continue_file: args.continue_file.clone(), stdin: std::io::stdin().is_terminal() };
    let options = RunOptions {
        jobs: args.jobs as usize,
        retries: args.retries,
        repeat: args.repeat,
        until: args.until.map(|until| match until {
            super::args::Until::Fail => runner::Until::Fail,
            super::args::Until::Pass => runner::Until::Pass,
        }),
        fail_fast: args.fail_fast,
        keep_going: args.keep_going,
        log_lines: args.log_lines,
        hooks: Hooks(handlers.as_ref().map(Handlers::hooks)),
        break_on_failure: args.break_on_failure.then(|| breaks.clone()),
        // A case's break needs someone to ask: a terminal, or a continue file.
        case_breaks: (breaks.stdin || breaks.continue_file.is_some()).then(|| breaks.clone()),
        broke: Default::default(),
        breaking: Default::default(),
    };
    // What this run leaves to do, for the next `--rerun-failed`.
    let last_run = LastRunWriter::new(host::suite::last_run::last_run_path(&plan.file), selection.items(), carried);
    bus.subscribe(last_run.clone());
    let result = runner::run(&plan, &prepared, &selection, &sandbox, &bus, &options, cancel).await;
    let report_errors = bus.finish();
    for error in &report_errors {
        eprintln!("error: {error}");
    }
    for problem in handlers.as_ref().map(Handlers::finish).unwrap_or_default() {
        eprintln!("warning: {}", host::reporters::escape::terminal_line(&problem));
    }
    if result.is_ok()
        && let Err(error) = last_run.write()
    {
        eprintln!("warning: --rerun-failed will not know this run: {error}");
    }
    match result {
        // A signal while the reports were written is honoured too.
        Ok(result) if result.interrupted || signals.received() => signals.exit_code(),
        Err(error) => usage_error(format!("{error:#}")),
        // A report that could not be written is a failed run, whatever the cases did.
        Ok(_) if !report_errors.is_empty() => exit::USAGE,
        Ok(result) if result.totals.failed == 0 => exit::PASSED,
        Ok(_) => exit::FAILED,
    }
}

/// Build, load and start the run's event handlers (none: `None`); a handler that cannot
/// start stops the run before anything boots (exit 2).
async fn start_handlers(specs: &[HandlerSpec], sandbox: &Sandbox, bus: &EventBus) -> Result<Option<Handlers>, u8> {
    if specs.is_empty() {
        return Ok(None);
    }
    let builds = sandbox.cache_dir().map_or_else(|| std::env::temp_dir().join("host-builds"), Path::to_path_buf);
    let cache = sandbox.compile_cache().cloned();
    Handlers::start(specs, cache, &builds, bus).await.map(Some).map_err(|error| {
        let message = format!("{error:#}");
        // The stream reporters take down their live line; JSON's last line says why.
        bus.emit(Event::PreparationFailed { message: message.clone() });
        usage_error(message)
    })
}

/// `--junit FILE`, `--record FILE` and `--report DIR` must be writable where they point,
/// checked before anything runs: a file path that is a directory, a report directory that
/// is a file, a parent that does not exist or cannot be written.
fn check_report_destinations(args: &RunArgs) -> Result<(), String> {
use std::path::Path;
    let writable_dir = |dir: &Path| nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok();
    let files = [("--junit", &args.junit), ("--record", &args.record)];
    for (flag, file) in files.iter().filter_map(|(flag, file)| file.as_ref().map(|file| (flag, file))) {
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if file.is_dir() {
            return Err(format!("{flag} {}: is a directory; give a file name", file.display()));
        }
        if !parent.is_dir() {
            return Err(format!("{flag} {}: directory {} does not exist", file.display(), parent.display()));
        }
        if !writable_dir(parent) || (file.exists() && nix::unistd::access(file.as_path(), nix::unistd::AccessFlags::W_OK).is_err()) {
            return Err(format!("{flag} {}: cannot be written (permission denied)", file.display()));
        }
    }
    if let Some(dir) = &args.report {
        if dir.exists() && !dir.is_dir() {
            return Err(format!("--report {}: is a file; give a directory (it is created if missing)", dir.display()));
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("--report {}: cannot create the directory: {e}", dir.display()))?;
        if !writable_dir(dir) {
            return Err(format!("--report {}: cannot be written (permission denied)", dir.display()));
        }
    }
    Ok(())
}

/// Which signal stopped the run: its exit code is 128 + the signal (130 for SIGINT, 143
/// for SIGTERM), whatever phase it came in.
#[derive(Clone, Default)]
struct Signals(std::sync::Arc<std::sync::atomic::AtomicU8>);

impl Signals {
    fn received(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst) != 0
    }

    fn exit_code(&self) -> u8 {
        match self.0.load(std::sync::atomic::Ordering::SeqCst) {
            0 => exit::INTERRUPTED,
            code => code,
        }
    }
}

/// The first Ctrl-C or SIGTERM asks the run to stop: the running tests end, their nodes
/// get SIGTERM and their grace period, the cases that did not run are reported as not
/// run, and the reports are written. The second skips the grace periods (every process
/// group the host started is killed at once) — the reports are still written. A third
/// exits at once.
fn watch_signals() -> std::io::Result<(tokio::sync::watch::Receiver<bool>, Signals)> {
    let (cancel, cancelled) = tokio::sync::watch::channel(false);
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let signals = Signals::default();
    let first = signals.clone();
    tokio::spawn(async move {
        for count in 1.. {
            let code = tokio::select! {
                _ = interrupt.recv() => exit::INTERRUPTED,
                _ = terminate.recv() => exit::TERMINATED,
            };
            let _ = first.0.compare_exchange(0, code, std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst);
            match count {
                1 => {
                    eprintln!("\ninterrupted: stopping the nodes (signal again to kill them now)");
                    let _ = cancel.send(true);
                }
                2 => {
                    let killed = host::nodes::groups::kill_all();
                    eprintln!("interrupted again: killed {killed} process group(s); writing the reports (signal again to exit now)");
                }
                _ => std::process::exit(i32::from(first.exit_code())),
            }
        }
    });
    Ok((cancelled, signals))
}
