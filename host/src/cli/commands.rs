//! `host run`, `host list`, `host check`.

use std::io::IsTerminal as _;
use std::path::Path;

use host::config::{self, Plan};
use host::events::{Event, EventBus};
use host::reporters::{HtmlReporter, JsonReporter, JunitReporter, LastRunWriter, RecordWriter, TerminalReporter};
use host::runner::{self, Prepared, RunOptions};
use host::sandbox::{CompileCache, Pool, Sandbox};
use host::suite::{Filters, Partition, Selection, Selector};

use super::args::{CheckArgs, ColorChoice, Format, ListArgs, RunArgs, SuiteArgs};
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

impl SuiteArgs {
    fn sandbox(&self, plan: &Plan) -> anyhow::Result<Sandbox> {
        let cache = if self.no_cache { None } else { self.cache_dir.clone().or_else(CompileCache::default_dir) };
        Sandbox::new(cache.map(CompileCache::new), Pool::for_run(plan.tests.iter().map(|test| &test.sandbox)))
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
        let sandbox = self.sandbox(plan).map_err(usage_error)?;
        let started = std::time::SystemTime::now();
        let prepared = runner::prepare(plan, &sandbox, bus, with_runtimes).await.map_err(|e| usage_error(format!("{e:#}")))?;
        // Everything this run needs is cached and fresh now: trim what older runs left.
        if let Some(dir) = sandbox.cache_dir() {
            let max = std::env::var("HOST_CACHE_MAX_MB").ok().and_then(|mb| mb.parse::<u64>().ok()).map_or(host::sandbox::DEFAULT_CACHE_MAX_BYTES, |mb| mb << 20);
            CompileCache::new(dir.to_path_buf()).trim(max, started);
        }
        let selection = Selection::new(plan, &prepared.index(), &selector);
        let carried = rerun.unwrap_or_default().into_iter().filter(|id| !selection.contains(id)).collect();
        Ok((sandbox, prepared, selection, carried))
    }
}

/// `host list`.
pub async fn list(args: &ListArgs) -> u8 {
    let plan = match load(&args.suite.path) {
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
    let mut printed = std::collections::HashSet::new();
    for item in selection.items() {
        let id = item.id();
        let mut prefix = String::new();
        // `test`, then `test/package`, then the item itself, each once.
        for part in id.split('/').take(id.matches('/').count()) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if printed.insert(prefix.clone()) {
                println!("{prefix}");
            }
        }
        let doc = match &item {
            host::suite::Item::Case { package, case, .. } => docs.get(&(package.to_string(), case.clone())),
            host::suite::Item::Script { .. } => None,
        };
        match doc {
            Some(doc) => println!("{id}\t{}", host::reporters::escape::terminal_line(doc)),
            None => println!("{id}"),
        }
    }
    exit::PASSED
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
    let mut plan = match load(&args.suite.path) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if let Some(factor) = args.timeout_scale {
        plan.scale_timeouts(factor);
    }
    // Before anything that takes time (the build included): Ctrl-C and SIGTERM are ours.
    let (cancel, signals) = match watch_signals() {
        Ok(watch) => watch,
        Err(error) => return usage_error(format!("cannot watch for signals: {error}")),
    };
    if let Err(error) = check_report_destinations(args) {
        return usage_error(error);
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
            bus.subscribe(TerminalReporter::new(std::io::stdout(), color).verbose(args.suite.verbose));
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
    // Before the build, whose process groups it covers too. Without a watchdog, a
    // SIGKILLed host still takes its nodes down (parent-death signal), but not what they
    // started: worth a warning, not a refusal to run.
    let watchdog = std::env::current_exe().and_then(|exe| host::nodes::groups::start_watchdog(&exe, &["__watchdog"]));
    if let Err(error) = watchdog {
        bus.emit(Event::Warning { message: format!("cannot start the watchdog process: {error}") });
    }
    let mut cancelled = cancel.clone();
    let prepared = tokio::select! {
        prepared = args.suite.prepare(&bus, true, &plan) => prepared,
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
    let options = RunOptions {
        jobs: args.jobs as usize,
        retries: args.retries,
        repeat: args.repeat,
        fail_fast: args.fail_fast,
        keep_going: args.keep_going,
        log_lines: args.log_lines,
        break_on_failure: args.break_on_failure.then(|| runner::BreakOnFailure {
            continue_file: args.continue_file.clone(),
            stdin: std::io::stdin().is_terminal(),
        }),
        broke: Default::default(),
    };
    // What this run leaves to do, for the next `--rerun-failed`.
    let last_run = LastRunWriter::new(host::suite::last_run::last_run_path(&plan.file), selection.items(), carried);
    bus.subscribe(last_run.clone());
    let result = runner::run(&plan, &prepared, &selection, &sandbox, &bus, &options, cancel).await;
    let report_errors = bus.finish();
    for error in &report_errors {
        eprintln!("error: {error}");
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
    use tokio::signal::unix::{SignalKind, signal};
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
