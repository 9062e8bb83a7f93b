//! Before any node boots: build every package and runtime the plan needs, compile and
//! load every package. Problems here are reported before anything starts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::build;
use crate::config::{PackageRef, Plan, Program};
use crate::events::{Event, EventBus};
use crate::sandbox::{Package, Sandbox};

/// Everything built and loaded for a plan.
pub struct Prepared {
    packages: HashMap<PackageRef, Package>,
    runtimes: HashMap<Program, PathBuf>,
}

impl Prepared {
    /// The loaded form of `package` (prepared for the same plan).
    pub fn package(&self, package: &PackageRef) -> &Package {
        &self.packages[package]
    }

    /// Every loaded package's name and cases, for selection.
    pub fn index(&self) -> crate::suite::SuiteIndex {
        let mut index = crate::suite::SuiteIndex::default();
        for (package, loaded) in &self.packages {
            index.insert(package.clone(), loaded.name.clone(), loaded.cases.clone());
        }
        index
    }

    /// The executable of `program` (prepared for the same plan).
    pub fn runtime(&self, program: &Program) -> &PathBuf {
        &self.runtimes[program]
    }
}

/// Build and load what `plan` needs. With `with_runtimes` false (for `host list`) node
/// runtimes are not built.
pub async fn prepare(plan: &Plan, sandbox: &Sandbox, bus: &EventBus, with_runtimes: bool) -> Result<Prepared> {
    let mut prepared = Prepared { packages: HashMap::new(), runtimes: HashMap::new() };
    // Declared builds are cached next to compiled components (or in the temp dir).
    let builds = sandbox.cache_dir().map_or_else(|| std::env::temp_dir().join("host-builds"), Path::to_path_buf);
    // Build every source package (one at a time: cargo serialises on its target dir anyway)…
    let mut built: Vec<(String, &PackageRef, PathBuf)> = Vec::new();
    for test in &plan.tests {
        // Dependencies first, as kit does: they must build, but are never run.
        for dependency in &test.dependency_packages {
            announce(bus, dependency, &builds);
            build::package(dependency, &builds).await.with_context(|| format!("test {}: dependency package {}", test.name, dependency.name))?;
        }
        let runnable = test.setup_packages.iter().map(|setup| &setup.package).chain(&test.test_packages);
        for package in runnable {
            if built.iter().any(|(_, done, _)| *done == package) {
                continue;
            }
            announce(bus, package, &builds);
            let wasm = build::package(package, &builds).await.with_context(|| format!("test {}: package {}", test.name, package.name))?;
            built.push((test.name.clone(), package, wasm));
        }
    }
    // …then compile and load them all at once.
    let loads = built.iter().map(|(test, package, wasm)| async move {
        sandbox.load(&package.name, wasm).await.with_context(|| format!("test {test}: package {}", package.name))
    });
    for ((test, package, _), loaded) in built.iter().zip(futures::future::join_all(loads).await) {
        let loaded = loaded?;
        // Case ids are `test/package/case`: a name listed twice would be counted and
        // reported as one case, or overwrite the other's result.
        let mut seen = std::collections::HashSet::new();
        if let Some(case) = loaded.package.cases.iter().find(|case| !seen.insert(case.as_str())) {
            anyhow::bail!(
                "test {test}: package {} ({}) lists case {case:?} more than once; case names must be unique within a package",
                package.name,
                package.path.display()
            );
        }
        if let Some(message) = loaded.warning {
            bus.emit(Event::Warning { message });
        }
        prepared.packages.insert((*package).clone(), loaded.package);
    }
    if with_runtimes {
        for test in &plan.tests {
            for node in &test.nodes {
                let program = &node.runtime.program;
                if !prepared.runtimes.contains_key(program) {
                    let exe = build::runtime(program, &builds).await.with_context(|| format!("test {}: runtime of node {}", test.name, node.name))?;
                    prepared.runtimes.insert(program.clone(), exe);
                }
            }
        }
    }
    Ok(prepared)
}

/// Say that `package` is being built, and why — only when it is (a warm run is silent).
fn announce(bus: &EventBus, package: &PackageRef, cache: &Path) {
    if let Some(reason) = build::stale_reason(package, cache) {
        bus.emit(Event::PackageBuilding { package: package.name.clone(), path: package.path.display().to_string(), reason });
    }
}
