//! `suite`: the suite as the host knows it once packages are loaded — every case of every
//! package ([`SuiteIndex`], from their `list-cases`), the ids of cases and scripts — and
//! which of them run: name filters, tags, partitions and the last run's leftovers
//! ([`Selection`]); records of earlier runs ([`record`], [`last_run`]).
//!
//! The unit of selection is an *item*: a case of a test package (`test/package/case`) or a
//! test script (`test/script:NAME`). Setup packages are not items: they run whenever
//! their test runs. A test runs when at least one of its items is selected.

mod filter;
mod ids;
mod junit_times;
pub mod last_run;
mod partition;
pub mod record;

use std::collections::{HashMap, HashSet};

pub use filter::Filters;
pub use ids::IdSet;
pub use partition::{Partition, Scheme, balance};
pub use record::Durations;

use crate::config::{PackageRef, Plan, Script, TestPlan};

/// The cases of every package of a plan, as each package's `list-cases` gave them, and
/// each package's name in ids.
#[derive(Debug, Clone, Default)]
pub struct SuiteIndex {
    packages: HashMap<PackageRef, (String, std::sync::Arc<[String]>)>,
}

impl SuiteIndex {
    /// Record `package`'s report name and cases.
    pub fn insert(&mut self, package: PackageRef, name: String, cases: std::sync::Arc<[String]>) {
        self.packages.insert(package, (name, cases));
    }

    /// `package`'s report name and cases (none for a package that was not loaded).
    pub fn cases<'a>(&'a self, package: &'a PackageRef) -> (&'a str, &'a [String]) {
        self.packages.get(package).map_or((package.name.as_str(), &[][..]), |(name, cases)| (name.as_str(), &cases[..]))
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    pub filters: Filters,
    pub partition: Option<Partition>,
    /// The recorded durations a `duration:K/N` partition balances (`--from-record`);
    /// without them such a partition selects nothing.
    pub durations: Option<Durations>,
    /// Only these ids, when set (`--rerun-failed`: what the last run left to do).
    pub only: Option<HashSet<String>>,
}

/// One selectable thing, in suite order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// The test and package names are shared by all the items of a package (a package
    /// may have 100,000 cases).
    Case { test: std::sync::Arc<str>, package: std::sync::Arc<str>, case: String },
    Script { test: String, name: String },
}

impl Item {
    /// `test/package/case` or `test/script:NAME`.
    pub fn id(&self) -> String {
        match self {
            Item::Case { test, package, case } => case_id(test, package, case),
            Item::Script { test, name } => script_id(test, name),
        }
    }

    pub fn test(&self) -> &str {
        match self {
            Item::Case { test, .. } => test,
            Item::Script { test, .. } => test,
        }
    }
}

/// The id of a case.
pub fn case_id(test: &str, package: &str, case: &str) -> String {
    format!("{test}/{package}/{case}")
}

/// The id of a test script.
pub fn script_id(test: &str, name: &str) -> String {
    format!("{test}/script:{name}")
}

/// The name a script goes by in ids and reports: its file name.
pub fn script_name(script: &Script) -> String {
    script.path.file_name().map_or_else(|| script.path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The selected items of a plan.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    items: Vec<Item>,
    ids: IdSet,
}

impl Selection {
    /// Every item of `plan` (cases from the `index`) that `selector` keeps: those the
    /// filters and `only` keep, then the partition's share of them — item by item for
    /// `hash` and `slice` (by position in the whole suite), whole tests for `duration`.
    pub fn new(plan: &Plan, index: &SuiteIndex, selector: &Selector) -> Selection {
        let all = plan.tests.iter().flat_map(|test| items_of(test, index));
        let kept: Vec<(usize, Item)> = all
            .enumerate()
            .filter(|(_, item)| {
                let id = item.id();
                let tags = &plan.tests.iter().find(|t| t.name == item.test()).expect("item of a test").tags;
                selector.filters.matches(&id, tags) && selector.only.as_ref().is_none_or(|only| only.contains(&id))
            })
            .collect();
        let items: Vec<Item> = match selector.partition {
            None => kept.into_iter().map(|(_, item)| item).collect(),
            Some(partition) if partition.scheme == Scheme::Duration => {
                let shard = duration_shard(&kept, partition, selector.durations.as_ref());
                kept.into_iter().map(|(_, item)| item).filter(|item| shard.contains(item.test())).collect()
            }
            Some(partition) => kept.into_iter().filter(|(position, item)| partition.contains(&item.id(), *position)).map(|(_, item)| item).collect(),
        };
        let mut ids = IdSet::default();
        for item in &items {
            ids.insert(&[&item.id()]);
        }
        Selection { items, ids }
    }

    /// The selected items, in suite order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether `id` (from [`Item::id`]) is selected.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(&[id])
    }

    /// Whether any item of `test` is selected.
    pub fn runs(&self, test: &str) -> bool {
        self.items.iter().any(|item| item.test() == test)
    }
}

/// The tests of `kept` that fall in `partition`'s shard when whole tests are balanced
/// by `durations` (unknown tests at the median of the known ones).
fn duration_shard(kept: &[(usize, Item)], partition: Partition, durations: Option<&Durations>) -> HashSet<String> {
    let Some(durations) = durations else { return HashSet::new() };
    let mut tests: Vec<&str> = Vec::new();
    for (_, item) in kept {
        if tests.last() != Some(&item.test()) {
            tests.push(item.test());
        }
    }
    let estimate = durations.default_estimate(tests.iter().copied());
    let weighted: Vec<(&str, f64)> = tests.iter().map(|test| (*test, durations.get(test).unwrap_or(estimate))).collect();
    let shards = balance(&weighted, partition.total);
    tests.iter().zip(shards).filter(|(_, shard)| shard + 1 == partition.index).map(|(test, _)| test.to_string()).collect()
}

fn items_of(test: &TestPlan, index: &SuiteIndex) -> Vec<Item> {
    let test_name: std::sync::Arc<str> = test.name.as_str().into();
    let cases = test.test_packages.iter().flat_map(|package| {
        let (name, cases) = index.cases(package);
        let (test, name): (std::sync::Arc<str>, std::sync::Arc<str>) = (test_name.clone(), name.into());
        cases.iter().map(move |case| Item::Case { test: test.clone(), package: name.clone(), case: case.clone() })
    });
    let scripts = test.test_scripts.iter().map(|script| Item::Script { test: test.name.clone(), name: script_name(script) });
    cases.chain(scripts).collect()
}
