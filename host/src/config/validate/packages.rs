//! The package and sandbox parts of a test: package references, their report names,
//! and the sandbox policy.

use std::path::Path;

use toml::Spanned;

use super::super::raw::RawSandbox;
use super::{Result, Validator};
use crate::config::checks;
use crate::config::disk::Expect;
use crate::config::{ConfigError, PackageKind, PackageRef, SandboxPolicy};

/// The largest sandbox limit, in its own unit (bytes, instances…): 2^40 (1 TiB of memory).
const MAX_SANDBOX_VALUE: usize = 1 << 40;

impl Validator<'_> {
    /// Two packages of one test (setup or test packages) must not share a report name
    /// (`a/kv` and `b/kv` are both "kv"): their case ids would collide. `packages` are
    /// those that were found, each with the span of its path.
    pub(super) fn package_names_unique(&self, packages: &[(&Spanned<String>, &PackageRef)]) {
        for (i, (path, package)) in packages.iter().enumerate() {
            let earlier = &packages[..i];
            if let Some((_, first)) = earlier.iter().find(|(_, p)| p.name == package.name && p.path != package.path) {
                self.report(self.error(
                    path.span(),
                    format!(
                        "tests: packages {} and {} are both named {:?} in reports; their case ids would collide (rename one)",
                        first.path.display(),
                        package.path.display(),
                        package.name
                    ),
                ));
            }
        }
    }

    /// The test's policy: its own `[tests.sandbox]` keys over the file's `[sandbox]` over defaults.
    pub(super) fn sandbox(&self, file: Option<&Spanned<RawSandbox>>, test: Option<&Spanned<RawSandbox>>) -> Result<SandboxPolicy> {
        let mut policy = SandboxPolicy::default();
        for spanned in [file, test].into_iter().flatten() {
            let layer = spanned.get_ref();
            let size = |value: &Option<Spanned<i64>>, key: &str, unit: usize| -> Result<Option<usize>> {
                match value {
                    None => Ok(None),
                    Some(v) if *v.get_ref() > 0 => usize::try_from(*v.get_ref())
                        .ok()
                        .and_then(|n| n.checked_mul(unit))
                        .filter(|bytes| *bytes <= MAX_SANDBOX_VALUE)
                        .map(Some)
                        .ok_or_else(|| {
                            self.error(v.span(), format!("sandbox.{key}: {} is too large (at most {})", v.get_ref(), MAX_SANDBOX_VALUE / unit))
                        }),
                    Some(v) => Err(self.error(v.span(), format!("sandbox.{key}: must be greater than 0"))),
                }
            };
            policy.memory = size(&layer.memory_mib, "memory_mib", 1 << 20)?.unwrap_or(policy.memory);
            policy.output = size(&layer.output_kib, "output_kib", 1 << 10)?.unwrap_or(policy.output);
            policy.instances = size(&layer.instances, "instances", 1)?.unwrap_or(policy.instances);
            policy.tables = size(&layer.tables, "tables", 1)?.unwrap_or(policy.tables);
            policy.table_elements = size(&layer.table_elements, "table_elements", 1)?.unwrap_or(policy.table_elements);
            if layer.case_timeout_secs.is_some() {
                policy.case_timeout = Some(self.seconds(layer.case_timeout_secs.as_ref(), "sandbox.case_timeout_secs", 0.0)?);
            }
            if let Some(dir) = &layer.data_dir {
                let path = self.resolve(dir.get_ref());
                self.expect(dir.span(), "sandbox.data_dir", &path, Expect::Directory);
                policy.data_dir = Some(path);
            }
            if let Some(env) = &layer.env {
                self.env(env, spanned.span(), "sandbox.env", false)?;
                policy.env = env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            }
            if let Some(names) = &layer.pass_env {
                for name in names {
                    if let Some(problem) = checks::env_problem(name.get_ref(), "") {
                        return Err(self.error(name.span(), format!("sandbox.pass_env: {problem}")));
                    }
                    // A listed variable that the host does not have is simply not passed.
                    if let Ok(value) = std::env::var(name.get_ref()) {
                        policy.env.retain(|(k, _)| k != name.get_ref());
                        policy.env.push((name.get_ref().clone(), value));
                    }
                }
            }
        }
        Ok(policy)
    }

    pub(super) fn package(&self, path: &Spanned<String>, key: &str) -> Result<PackageRef> {
        let resolved = self.existing_path(path, key)?;
        let name = resolved
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.get_ref().clone());
        let kind = if resolved.is_dir() {
            let manifest = resolved.join(crate::config::PACKAGE_MANIFEST);
            if manifest.is_file() {
                PackageKind::Declared(package_manifest(&manifest)?)
            } else if resolved.join("Cargo.toml").is_file() {
                PackageKind::Cargo
            } else {
                return Err(self.error(path.span(), format!("{key}: {} is a directory without Cargo.toml or {}; give a package directory or a .wasm component", resolved.display(), crate::config::PACKAGE_MANIFEST)));
            }
        } else if resolved.extension().is_some_and(|ext| ext == "wasm") {
            PackageKind::Component
        } else {
            return Err(self.error(path.span(), format!("{key}: {} is neither a .wasm component nor a cargo package directory", resolved.display())));
        };
        Ok(PackageRef { name, path: resolved, kind })
    }
}

/// Read a package's `host-package.toml`; its errors point into that file.
pub(in crate::config) fn package_manifest(file: &Path) -> Result<crate::config::BuildSpec> {
    let text = std::fs::read_to_string(file).map_err(|e| ConfigError::whole_file(file, format!("cannot read: {e}")))?;
    let raw: super::super::raw::RawPackageManifest = toml::from_str(&text).map_err(|e| match e.span() {
        Some(span) => ConfigError::at(file, &text, span, e.message().trim()),
        None => ConfigError::whole_file(file, e.message().trim()),
    })?;
    if raw.build.get_ref().is_empty() {
        return Err(ConfigError::at(file, &text, raw.build.span(), "build: give the program and its arguments"));
    }
    Ok(crate::config::BuildSpec {
        command: raw.build.into_inner(),
        inputs: raw.inputs.unwrap_or_else(|| vec!["**/*".to_string()]),
    })
}
