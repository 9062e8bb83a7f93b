//! The seam between the runner and hooks (Common Test hooks): before a case's result is
//! reported — and so before the [`Recorder`](super::Recorder) counts it — the runner asks
//! the run's [`CaseHooks`] whether to attach diagnostics to a failure or rewrite it into
//! a skip. The hooks themselves (sandboxed components) live in `handlers`; the CLI hands
//! them to the runner, so the runner knows only this trait.

use serde::Serialize;

use super::{FailureDetail, NodeLogTail, Outcome};

/// Most bytes of diagnostics one hook may attach to a failure; more is cut with a marker.
pub const MAX_DIAGNOSTICS: usize = 16 << 10;

/// Which case a hook is asked about.
#[derive(Debug, Clone, Copy)]
pub struct CaseRef<'a> {
    pub test: &'a str,
    pub package: &'a str,
    pub case: &'a str,
}

/// A failure a hook turned into a skip: reported with the skip in every report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rewritten {
    /// The hook's name (its handler's name).
    pub by: String,
    /// The failure the case ended with before the hook.
    pub original: FailureDetail,
}

/// Hooks the runner asks about every finished case, in their priority order. A hook that
/// fails or takes too long is the implementation's to report: it answers `None`.
pub trait CaseHooks: Send + Sync {
    /// A case failed: diagnostics to attach, `(hook name, text)` per hook that had any.
    /// `nodes` gives the last lines of each of the test's nodes (read only when asked).
    fn on_failure(&self, case: CaseRef<'_>, failure: &FailureDetail, nodes: &dyn Fn() -> Vec<NodeLogTail>) -> Vec<(String, String)>;

    /// A case ended with `outcome`: `(hook name, reason)` to turn its failure into a skip.
    fn post_case(&self, case: CaseRef<'_>, outcome: &Outcome) -> Option<(String, String)>;

    /// The run is about to end (its `run_finished` comes next): what to warn about — a
    /// handler that was stopped, events a handler dropped.
    fn run_ending(&self) -> Vec<String> {
        Vec::new()
    }
}

/// What the hooks made of a case's outcome.
pub struct HookVerdict {
    pub outcome: Outcome,
    pub rewritten: Option<Rewritten>,
}

/// Ask `hooks` about a finished case: a failure first gets the on-failure hooks'
/// diagnostics appended to its message (each bounded), then the post-case hooks may turn
/// it into a skip whose reason names the hook and the failure. Other outcomes are kept.
pub fn apply_hooks(
    hooks: &dyn CaseHooks,
    case: CaseRef<'_>,
    mut outcome: Outcome,
    nodes: &dyn Fn() -> Vec<NodeLogTail>,
) -> HookVerdict {
    if let Outcome::Failed { failure } = &mut outcome {
        for (hook, text) in hooks.on_failure(case, failure, nodes) {
            failure.message.push_str(&format!("\n\ndiagnostics from hook `{hook}`:\n{}", bounded(&text)));
        }
    }
    let rewrite = match &outcome {
        Outcome::Failed { .. } => hooks.post_case(case, &outcome),
        _ => None,
    };
    match (rewrite, outcome) {
        (Some((hook, reason)), Outcome::Failed { failure }) => HookVerdict {
            // The user's own hook decided it, as a case that skips itself does: a user skip.
            outcome: Outcome::user_skip(format!(
                "rewritten by hook `{hook}`: {} (was a failure: {})",
                bounded(&reason),
                failure.summary()
            )),
            rewritten: Some(Rewritten { by: hook, original: failure }),
        },
        (_, outcome) => HookVerdict { outcome, rewritten: None },
    }
}

/// `text` cut to [`MAX_DIAGNOSTICS`] bytes (on a character boundary), with a marker.
fn bounded(text: &str) -> String {
    if text.len() <= MAX_DIAGNOSTICS {
        return text.to_string();
    }
    let mut end = MAX_DIAGNOSTICS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes cut]", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::FailureKind;

    struct Fixed;

    impl CaseHooks for Fixed {
        fn on_failure(&self, _: CaseRef<'_>, _: &FailureDetail, nodes: &dyn Fn() -> Vec<NodeLogTail>) -> Vec<(String, String)> {
            vec![("diag".into(), format!("{} node(s); {}", nodes().len(), "x".repeat(MAX_DIAGNOSTICS + 5)))]
        }

        fn post_case(&self, case: CaseRef<'_>, _: &Outcome) -> Option<(String, String)> {
            (case.case == "flaky").then(|| ("quarantine".to_string(), "known flaky".to_string()))
        }
    }

    fn failed() -> Outcome {
        let failure = FailureDetail { kind: FailureKind::Fail, file: "a.rs".into(), line: 3, column: 1, message: "boom".into() };
        Outcome::Failed { failure }
    }

    #[test]
    fn a_failure_gets_bounded_diagnostics_and_may_become_a_skip_that_says_so() {
        let case = CaseRef { test: "t", package: "p", case: "other" };
        let kept = apply_hooks(&Fixed, case, failed(), &Vec::new);
        let Outcome::Failed { failure } = &kept.outcome else { panic!("{:?}", kept.outcome) };
        assert!(failure.message.starts_with("boom\n\ndiagnostics from hook `diag`:\n0 node(s); xxx"));
        assert!(failure.message.ends_with("[16 more bytes cut]"), "{}", &failure.message[failure.message.len() - 40..]);
        assert!(kept.rewritten.is_none());
        let rewritten = apply_hooks(&Fixed, CaseRef { case: "flaky", ..case }, failed(), &Vec::new);
        let Outcome::Skipped { reason, kind: crate::events::SkipKind::User } = &rewritten.outcome else { panic!("{:?}", rewritten.outcome) };
        assert!(reason.starts_with("rewritten by hook `quarantine`: known flaky (was a failure: a.rs:3:1: boom)"), "{reason}");
        assert_eq!(rewritten.rewritten.as_ref().map(|r| r.by.as_str()), Some("quarantine"));
        let passed = apply_hooks(&Fixed, CaseRef { case: "flaky", ..case }, Outcome::Passed, &Vec::new);
        assert!(matches!(passed.outcome, Outcome::Passed) && passed.rewritten.is_none());
    }
}
