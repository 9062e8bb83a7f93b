//! `[[event_handlers]]`: a component or a command each, unique names, a granted
//! directory that exists, a timeout and a queue in range.

use toml::Spanned;

use super::super::raw::RawHandler;
use super::Validator;
use crate::config::{DEFAULT_HANDLER_QUEUE, DEFAULT_HANDLER_TIMEOUT, HandlerSource, HandlerSpec};

/// Most events an asynchronous handler may have waiting.
const MAX_QUEUE: i64 = 1_000_000;

impl Validator<'_> {
    /// Every valid handler; each problem is reported with its place.
    pub(super) fn handlers(&self, raw: &[Spanned<RawHandler>]) -> Vec<HandlerSpec> {
        let mut specs: Vec<HandlerSpec> = Vec::new();
        for spanned in raw {
            let Some(spec) = self.handler(spanned) else { continue };
            if specs.iter().any(|other| other.name == spec.name) {
                let span = spanned.get_ref().name.as_ref().map_or(spanned.span(), Spanned::span);
                self.report(self.error(span, format!("event_handlers: two handlers are named {:?}; give one a `name`", spec.name)));
                continue;
            }
            specs.push(spec);
        }
        specs
    }

    fn handler(&self, spanned: &Spanned<RawHandler>) -> Option<HandlerSpec> {
        let raw = spanned.get_ref();
        let source = match (&raw.path, &raw.command) {
            (Some(path), None) => HandlerSource::Component(self.keep(self.package(path, "event_handlers.path"))?),
            (None, Some(command)) if !command.get_ref().is_empty() && !command.get_ref()[0].is_empty() => {
                HandlerSource::Command(command.get_ref().clone())
            }
            (None, Some(command)) => {
                self.report(self.error(command.span(), "event_handlers.command: needs a program"));
                return None;
            }
            _ => {
                self.report(self.error(spanned.span(), "event_handlers: give exactly one of `path` (a handler component) or `command`"));
                return None;
            }
        };
        let mut spec = HandlerSpec::new(source);
        if let Some(name) = &raw.name {
            if name.get_ref().is_empty() || name.get_ref().chars().any(char::is_control) {
                self.report(self.error(name.span(), "event_handlers.name: must be a non-empty name without control characters"));
                return None;
            }
            spec.name = name.get_ref().clone();
        }
        if let Some(dir) = &raw.dir {
            let resolved = self.keep(self.existing_path(dir, "event_handlers.dir"))?;
            if !resolved.is_dir() {
                self.report(self.error(dir.span(), format!("event_handlers.dir: {} is not a directory", resolved.display())));
                return None;
            }
            spec.dir = Some(resolved);
        }
        if matches!(spec.source, HandlerSource::Command(_)) && (raw.hooks || raw.dir.is_some()) {
            self.report(self.error(spanned.span(), "event_handlers: `hooks` and `dir` are for handler components; a command only reads events"));
            return None;
        }
        spec.timeout = self.keep(self.seconds(raw.timeout_secs.as_ref(), "event_handlers.timeout_secs", DEFAULT_HANDLER_TIMEOUT.as_secs_f64()))?;
        if let Some(queue) = &raw.queue {
            if !(1..=MAX_QUEUE).contains(queue.get_ref()) {
                self.report(self.error(queue.span(), format!("event_handlers.queue: {} is not between 1 and {MAX_QUEUE}", queue.get_ref())));
                return None;
            }
            spec.queue = *queue.get_ref() as usize;
        } else {
            spec.queue = DEFAULT_HANDLER_QUEUE;
        }
        (spec.args, spec.sync, spec.hooks, spec.priority) = (raw.args.clone(), raw.sync, raw.hooks, raw.priority);
        Some(spec)
    }
}
