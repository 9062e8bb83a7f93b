//! The terminal reporter's live line, its `--verbose` lines, and how often it writes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressDrawTarget, TermLike};

use super::*;
use crate::events::Totals;
use crate::reporters::batch::tests::Counting;

/// A terminal in memory: everything indicatif draws on it, as text.
#[derive(Clone, Default, Debug)]
struct Screen(Arc<Mutex<String>>);

impl Screen {
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

impl TermLike for Screen {
    fn width(&self) -> u16 {
        200
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.lock().unwrap().push_str(s);
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

const HOSTILE: &str = "evil\n0 passed, 0 failed, 0 skipped\u{1b}[2J\u{1b}]0;t\u{7}";
const HOSTILE_SHOWN: &str = "evil\\n0 passed, 0 failed, 0 skipped\\u{1b}[2J\\u{1b}]0;t\\u{7}";

fn reporter(out: &Counting, screen: Option<&Screen>, verbose: bool) -> TerminalReporter<Counting> {
    let target = screen.map(|screen| {
        let screen = screen.clone();
        Box::new(move || ProgressDrawTarget::term_like(Box::new(screen.clone()))) as DrawTarget
    });
    TerminalReporter::new(out.clone(), false).verbose(verbose).live_on(target)
}

fn long_work() -> Vec<Event> {
    vec![
        Event::ComponentCompiling { package: HOSTILE.into(), reason: "cache miss".into() },
        Event::NodeStarted { test: "t".into(), node: HOSTILE.into(), pid: 1, address: "127.0.0.1:1".into() },
    ]
}

fn finished() -> Event {
    Event::RunFinished { totals: Totals::default(), interrupted: false, duration: Duration::ZERO, rounds: 1 }
}

fn passed(case: usize) -> Event {
    Event::CaseFinished {
        test: "t".into(),
        package: "p".into(),
        case: format!("case-{case}"),
        outcome: Outcome::Passed,
        duration: Duration::ZERO,
        output: String::new(),
        attempts: 1,
        earlier_failures: Vec::new(),
        rewritten: None,
    }
}

#[test]
fn the_live_line_says_what_compiles_and_boots_with_hostile_names_escaped() {
    let (out, screen) = (Counting::default(), Screen::default());
    let mut reporter = reporter(&out, Some(&screen), false);
    let [compiling, booting] = long_work().try_into().unwrap();
    reporter.handle(&compiling);
    let drawn = screen.text();
    assert!(drawn.contains(&format!("compiling {HOSTILE_SHOWN} (cache miss)")), "{drawn:?}");
    reporter.handle(&booting);
    reporter.handle(&Event::ComponentCompiled { package: HOSTILE.into(), took: Duration::ZERO, from_cache: false });
    std::thread::sleep(Duration::from_millis(300));
    let drawn = screen.text();
    assert!(drawn.contains(&format!("booting node {HOSTILE_SHOWN} (test t)")), "{drawn:?}");
    assert!(!drawn.contains('\u{1b}') && !drawn.contains('\u{7}'), "{drawn:?}");
    reporter.handle(&finished());
    let _ = reporter.finish();
    assert!(!out.text().contains("ompil") && !out.text().contains("ooting"), "the live line is not in the output: {}", out.text());
}

#[test]
fn without_a_terminal_progress_is_silent_unless_verbose() {
    let out = Counting::default();
    let mut quiet = reporter(&out, None, false);
    for event in long_work() {
        quiet.handle(&event);
    }
    quiet.handle(&Event::ComponentCompiled { package: "p".into(), took: Duration::from_millis(1230), from_cache: false });
    quiet.handle(&Event::PackageBuilt { package: "p".into(), took: Duration::ZERO });
    quiet.handle(&finished());
    let _ = quiet.finish();
    let printed = out.text();
    for word in ["ompil", "ooting", "Built", "evil"] {
        assert!(!printed.contains(word), "{word} in {printed}");
    }

    let out = Counting::default();
    let mut verbose = reporter(&out, None, true);
    for event in long_work() {
        verbose.handle(&event);
    }
    verbose.handle(&Event::ComponentCompiled { package: "p".into(), took: Duration::from_millis(1230), from_cache: false });
    verbose.handle(&finished());
    let _ = verbose.finish();
    let printed = out.text();
    assert!(printed.contains(&format!("\n  Compiling {HOSTILE_SHOWN} (cache miss)\n")) || printed.starts_with("  Compiling"), "{printed}");
    assert!(printed.contains("   Compiled p in 1.23s"), "{printed}");
    assert!(printed.contains(&format!("    Booting node {HOSTILE_SHOWN} (test t), pid 1, at 127.0.0.1:1")), "{printed}");
    let summaries = printed.lines().filter(|line| line.contains(" passed, ")).filter(|line| line.starts_with(|c: char| c.is_ascii_digit())).count();
    assert_eq!(summaries, 1, "only the real summary line starts with a count: {printed}");
}

#[test]
fn passing_cases_are_written_in_batches_and_a_failure_at_once() {
    let out = Counting::default();
    let mut reporter = reporter(&out, None, false);
    reporter.handle(&Event::TestStarted { test: "t".into(), nodes: 0 });
    let before = out.writes();
    for case in 0..1000 {
        reporter.handle(&passed(case));
    }
    let writes = out.writes() - before;
    assert!(writes < 20, "1,000 passing cases took {writes} writes");
    let failure = FailureDetail { kind: crate::events::FailureKind::Fail, file: String::new(), line: 0, column: 0, message: "no".into() };
    let Event::CaseFinished { test, package, case, duration, output, attempts, earlier_failures, .. } = passed(1000) else { unreachable!() };
    let outcome = Outcome::Failed { failure };
    let failed = Event::CaseFinished { test, package, case, outcome, duration, output, attempts, earlier_failures, rewritten: None };
    assert!(batch::is_routine(&passed(0)) && !batch::is_routine(&failed));
    reporter.handle(&failed);
    let printed = out.text();
    assert!(printed.contains("case-999") && printed.contains("FAIL") && printed.contains("case-1000"), "a failure is written at once, with what came before");
    drop(reporter);
}

#[test]
fn a_case_break_shows_the_case_its_comment_the_nodes_and_how_to_go_on_escaped() {
    let out = Counting::default();
    let mut reporter = reporter(&out, None, false);
    let access = crate::events::NodeAccess {
        node: HOSTILE.into(),
        pid: Some(42),
        addresses: vec!["127.0.0.1:7".into()],
        home: "/tmp/home".into(),
        log_file: "/tmp/home.log".into(),
    };
    reporter.handle(&Event::BreakStarted {
        test: "t".into(),
        case: Some(format!("p/{HOSTILE}")),
        comment: Some(HOSTILE.into()),
        nodes: vec![access],
        how_to_continue: "press Enter, or Ctrl-C stops the run".into(),
    });
    reporter.handle(&Event::BreakEnded { test: "t".into(), why: "a line on stdin".into() });
    reporter.handle(&finished());
    let _ = reporter.finish();
    let text = out.text();
    assert!(text.contains(&format!("BREAK t/p/{HOSTILE_SHOWN} paused itself: its time stops until you continue")), "{text}");
    assert!(text.contains(&format!("\n            {HOSTILE_SHOWN}\n")), "the comment, escaped, on a line of its own: {text}");
    assert!(text.contains(&format!("node {HOSTILE_SHOWN} (pid 42) at 127.0.0.1:7")), "{text}");
    assert!(text.contains("to continue: press Enter, or Ctrl-C stops the run"), "{text}");
    assert!(text.contains("Continue test t (a line on stdin)"), "{text}");
    // One summary line: the run's own.
    assert!(!text.contains('\u{1b}') && text.lines().filter(|line| line.trim_start().starts_with("0 passed")).count() == 1, "{text}");
}

#[test]
fn the_live_line_says_a_break_holds_the_run_until_it_ends() {
    let (out, screen) = (Counting::default(), Screen::default());
    let mut reporter = reporter(&out, Some(&screen), false);
    reporter.handle(&Event::BreakStarted {
        test: "t".into(),
        case: Some(format!("p/{HOSTILE}")),
        comment: Some("look".into()),
        nodes: Vec::new(),
        how_to_continue: "press Enter, or Ctrl-C stops the run".into(),
    });
    let drawn = screen.text();
    assert!(drawn.contains(&format!("paused in t/p/{HOSTILE_SHOWN}: press Enter, or Ctrl-C stops the run")), "{drawn:?}");
    assert!(!drawn.contains('\u{1b}'), "{drawn:?}");
    reporter.handle(&Event::BreakEnded { test: "t".into(), why: "a line on stdin".into() });
    reporter.handle(&finished());
    let _ = reporter.finish();
    assert!(!out.text().contains("paused in"), "the live line is not in the output: {}", out.text());
}
