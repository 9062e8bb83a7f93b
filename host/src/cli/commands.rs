//! `host run`, `host list`, `host check`.

use std::path::Path;

use host::config::{self, Plan};
use host::events::{Event, EventBus};
use host::reporters::{HtmlReporter, JsonReporter, JunitReporter, TerminalReporter};
use host::runner::{self, Prepared, RunOptions};
use host::sandbox::{CompileCache, Sandbox};
use host::selection::{Filters, Partition, Selection, Selector};

use super::args::{CheckArgs, ColorChoice, Format, ListArgs, RunArgs, SuiteArgs};
use super::exit;

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
    fn sandbox(&self) -> anyhow::Result<Sandbox> {
        let cache = if self.no_cache { None } else { self.cache_dir.clone().or_else(CompileCache::default_dir) };
        Sandbox::new(cache.map(CompileCache::new))
    }

    fn selector(&self) -> Result<Selector, String> {
        let filters: Vec<&String> = self.filters.iter().chain(&self.more_filters).collect();
        let partition = self
            .partition
            .as_deref()
            .map(|text| Partition::parse(text, |name| std::env::var(name).ok()))
            .transpose()?;
        Ok(Selector { filters: Filters::new(&filters)?, partition })
    }

    /// Load, build and select: everything before nodes boot.
    async fn prepare(&self, bus: &EventBus, with_runtimes: bool, plan: &Plan) -> Result<(Sandbox, Prepared, Selection), u8> {
        let selector = self.selector().map_err(usage_error)?;
        let sandbox = self.sandbox().map_err(usage_error)?;
        let prepared = runner::prepare(plan, &sandbox, bus, with_runtimes).await.map_err(|e| usage_error(format!("{e:#}")))?;
        let selection = Selection::new(plan, &prepared, &selector);
        Ok((sandbox, prepared, selection))
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
    bus.subscribe(TerminalReporter::new(std::io::stderr(), false));
    let (_, _, selection) = match args.suite.prepare(&bus, false, &plan).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    if selection.is_empty() {
        eprintln!("nothing selected");
        return exit::NOTHING_SELECTED;
    }
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
        println!("{id}");
    }
    exit::PASSED
}

/// `host run`.
pub async fn run(args: &RunArgs) -> u8 {
    let mut plan = match load(&args.suite.path) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if let Some(factor) = args.timeout_scale {
        plan.scale_timeouts(factor);
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
            bus.subscribe(TerminalReporter::new(std::io::stdout(), color));
        }
        Format::Json => bus.subscribe(JsonReporter::new(std::io::stdout())),
    }
    if let Some(file) = &args.junit {
        bus.subscribe(JunitReporter::new(file.clone()));
    }
    if let Some(dir) = &args.report {
        bus.subscribe(HtmlReporter::new(dir.clone()));
    }
    let (sandbox, prepared, selection) = match args.suite.prepare(&bus, true, &plan).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    if selection.is_empty() {
        eprintln!("nothing selected: no case or script matches the filters and partition");
        return exit::NOTHING_SELECTED;
    }
    // Without a watchdog, a SIGKILLed host still takes its nodes down (parent-death
    // signal), but not what they started: worth a warning, not a refusal to run.
    let watchdog = std::env::current_exe().and_then(|exe| host::nodes::groups::start_watchdog(&exe, &["__watchdog"]));
    if let Err(error) = watchdog {
        bus.emit(Event::Warning { message: format!("cannot start the watchdog process: {error}") });
    }
    let cancel = match watch_signals() {
        Ok(cancel) => cancel,
        Err(error) => return usage_error(format!("cannot watch for signals: {error}")),
    };
    let options = RunOptions {
        jobs: args.jobs as usize,
        retries: args.retries,
        repeat: args.repeat,
        fail_fast: args.fail_fast,
        keep_going: args.keep_going,
    };
    let result = runner::run(&plan, &prepared, &selection, &sandbox, &bus, &options, cancel).await;
    bus.finish();
    match result {
        Ok(result) if result.interrupted => exit::INTERRUPTED,
        Ok(result) if result.totals.failed == 0 => exit::PASSED,
        Ok(_) => exit::FAILED,
        Err(error) => usage_error(format!("{error:#}")),
    }
}

/// The first Ctrl-C or SIGTERM asks the run to stop: the running tests end, their nodes
/// get SIGTERM and their grace period. The second kills every node's process group at
/// once and exits.
fn watch_signals() -> std::io::Result<tokio::sync::watch::Receiver<bool>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (cancel, cancelled) = tokio::sync::watch::channel(false);
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        for count in 1.. {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if count == 1 {
                eprintln!("\ninterrupted: stopping the nodes (signal again to kill them now)");
                let _ = cancel.send(true);
            } else {
                let killed = host::nodes::groups::kill_all();
                eprintln!("interrupted again: killed {killed} process group(s)");
                std::process::exit(i32::from(exit::INTERRUPTED));
            }
        }
    });
    Ok(cancelled)
}
