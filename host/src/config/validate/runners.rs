//! `[[runners]]`: machines nodes run on over SSH, and the `runner = "NAME"` that picks one.

use std::sync::Arc;

use toml::Spanned;

use super::super::raw::RawRunner;
use super::{Result, Validator};
use crate::config::RunnerPlan;
use crate::config::disk::Expect;

/// Where node homes go on a runner when `work_dir` is not given.
const DEFAULT_WORK_DIR: &str = "/tmp";

impl Validator<'_> {
    /// Check every runner; the valid ones become the runners `runner = "…"` can name.
    pub(super) fn runners(&self, raw: &[Spanned<RawRunner>]) {
        let mut runners: Vec<Arc<RunnerPlan>> = Vec::new();
        for spanned in raw {
            let name = spanned.get_ref().name.get_ref();
            if runners.iter().any(|r| r.name == *name) {
                self.report(self.error(spanned.get_ref().name.span(), format!("runners: two runners are named {name:?}")));
                continue;
            }
            if let Some(runner) = self.keep(self.runner(spanned.get_ref())) {
                runners.push(Arc::new(runner));
            }
        }
        *self.runners.borrow_mut() = runners;
    }

    fn runner(&self, raw: &RawRunner) -> Result<RunnerPlan> {
        let name = raw.name.get_ref();
        if name.trim().is_empty() {
            return Err(self.error(raw.name.span(), "runners.name: must not be empty"));
        }
        let word = |value: &Spanned<String>, key: &str| -> Result<String> {
            let text = value.get_ref();
            if text.is_empty() || text.starts_with('-') || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(self.error(
                    value.span(),
                    format!("runners.{key} {text:?}: must be a non-empty word that does not start with '-'"),
                ));
            }
            Ok(text.clone())
        };
        let host = word(&raw.host, "host")?;
        let user = raw.user.as_ref().map(|user| word(user, "user")).transpose()?;
        if let Some(user) = raw.user.as_ref().filter(|user| user.get_ref().contains('@')) {
            return Err(self.error(user.span(), "runners.user: give the user name alone (the host goes in `host`)"));
        }
        let port = match &raw.port {
            None => None,
            Some(port) => match *port.get_ref() {
                p @ 1..=65535 => Some(p as u16),
                p => return Err(self.error(port.span(), format!("runners.port: {p} is not a TCP port (1-65535)"))),
            },
        };
        let file = |value: &Spanned<String>, key: &str| {
            let path = self.resolve(value.get_ref());
            self.expect(value.span(), key, &path, Expect::File);
            path
        };
        let identity_file = raw.identity_file.as_ref().map(|f| file(f, "runners.identity_file"));
        let known_hosts = raw.known_hosts.as_ref().map(|f| file(f, "runners.known_hosts"));
        let work_dir = match &raw.work_dir {
            None => DEFAULT_WORK_DIR.to_string(),
            Some(dir) => {
                let text = dir.get_ref();
                if !text.starts_with('/') || text.chars().any(char::is_control) {
                    return Err(self.error(dir.span(), format!("runners.work_dir {text:?}: must be an absolute path on the runner")));
                }
                text.trim_end_matches('/').to_string()
            }
        };
        let address = match &raw.address {
            Some(address) => word(address, "address")?,
            None => host.clone(),
        };
        Ok(RunnerPlan { name: name.clone(), host, user, port, identity_file, known_hosts, work_dir, address })
    }

    /// The runner `runner = "NAME"` names (`key` is where the name was written).
    pub(super) fn runner_named(&self, name: &Spanned<String>, key: &str) -> Result<Arc<RunnerPlan>> {
        let runners = self.runners.borrow();
        runners.iter().find(|r| r.name == *name.get_ref()).cloned().ok_or_else(|| {
            let known: Vec<&str> = runners.iter().map(|r| r.name.as_str()).collect();
            let known = if known.is_empty() { "there are no [[runners]]".to_string() } else { format!("runners: {}", known.join(", ")) };
            self.error(name.span(), format!("{key}: no runner named {:?} ({known})", name.get_ref()))
        })
    }
}
