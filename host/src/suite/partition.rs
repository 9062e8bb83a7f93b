//! Sharding a suite across CI machines: `--partition hash:K/N`, `slice:K/N` or
//! `duration:K/N` (K from 1), or `hash:ci` / `slice:ci` / `duration:ci` to take K and N
//! from the CI's environment: GitLab's `CI_NODE_INDEX` (1-based) and `CI_NODE_TOTAL`,
//! CircleCI's `CIRCLE_NODE_INDEX` (0-based) and `CIRCLE_NODE_TOTAL`, or Kubernetes'
//! `JOB_COMPLETION_INDEX` (0-based) with the total in `HOST_PARTITION_TOTAL`.
//!
//! `duration` deals whole tests, longest first, each to the shard with the least work so
//! far ([`balance`], LPT scheduling), by the durations of a record (`--from-record`).

use sha2::{Digest, Sha256};

/// How items are dealt to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// By a hash of the item's id: stable when other items come and go.
    Hash,
    /// Round-robin over the items in suite order: balanced counts.
    Slice,
    /// Whole tests, balanced by recorded durations (see [`balance`]).
    Duration,
}

/// Shard `index` (1-based) of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub scheme: Scheme,
    pub index: u64,
    pub total: u64,
}

impl Partition {
    /// Parse `hash:2/4`, `slice:1/3`, `hash:ci`; `env` reads environment variables.
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Partition, String> {
        let (scheme, shard) = text
            .split_once(':')
            .ok_or_else(|| format!("partition {text:?}: expected SCHEME:K/N or SCHEME:ci, SCHEME one of hash, slice, duration"))?;
        let scheme = match scheme {
            "hash" => Scheme::Hash,
            "slice" => Scheme::Slice,
            "duration" => Scheme::Duration,
            other => return Err(format!("partition {text:?}: unknown scheme {other:?} (hash, slice or duration)")),
        };
        let (index, total) = if shard == "ci" {
            from_ci(&env)?
        } else {
            let (k, n) = shard.split_once('/').ok_or_else(|| format!("partition {text:?}: expected K/N after the colon"))?;
            let parse = |s: &str| s.trim().parse::<u64>().map_err(|e| format!("partition {text:?}: {s:?}: {e}"));
            (parse(k)?, parse(n)?)
        };
        if total == 0 || index == 0 || index > total {
            return Err(format!("partition {text:?}: shard {index} of {total} does not exist (shards are 1..=N)"));
        }
        Ok(Partition { scheme, index, total })
    }

    /// Whether the item `id`, at `position` in suite order, belongs to this shard: for
    /// `hash` and `slice`, which decide item by item. `duration` decides for whole tests
    /// at once ([`balance`]); asked here, it keeps nothing.
    pub fn contains(&self, id: &str, position: usize) -> bool {
        let bucket = match self.scheme {
            Scheme::Hash => {
                let digest = Sha256::digest(id.as_bytes());
                u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % self.total
            }
            Scheme::Slice => position as u64 % self.total,
            Scheme::Duration => return false,
        };
        bucket + 1 == self.index
    }
}

/// The shard (0-based) of each of `tests` (name, estimated seconds) among `shards`:
/// longest first (ties by name, then by position), each to the shard with the least
/// total so far (ties to the lowest shard). Durations are compared in whole
/// microseconds, so the same record gives the same shards on every machine.
pub fn balance(tests: &[(&str, f64)], shards: u64) -> Vec<u64> {
    let micros = |seconds: f64| (seconds.max(0.0) * 1e6).round() as u64;
    let mut order: Vec<usize> = (0..tests.len()).collect();
    order.sort_by(|&a, &b| micros(tests[b].1).cmp(&micros(tests[a].1)).then(tests[a].0.cmp(tests[b].0)).then(a.cmp(&b)));
    let mut loads = vec![0u64; shards.max(1) as usize];
    let mut assigned = vec![0u64; tests.len()];
    for index in order {
        let (shard, load) = loads.iter_mut().enumerate().min_by_key(|(shard, load)| (**load, *shard)).expect("at least one shard");
        *load = load.saturating_add(micros(tests[index].1));
        assigned[index] = shard as u64;
    }
    assigned
}

fn from_ci(env: &impl Fn(&str) -> Option<String>) -> Result<(u64, u64), String> {
    let number = |name: &str| -> Result<Option<u64>, String> {
        env(name).map(|v| v.trim().parse::<u64>().map_err(|e| format!("{name}={v:?}: {e}"))).transpose()
    };
    if let (Some(index), Some(total)) = (number("CI_NODE_INDEX")?, number("CI_NODE_TOTAL")?) {
        return Ok((index, total));
    }
    if let (Some(index), Some(total)) = (number("CIRCLE_NODE_INDEX")?, number("CIRCLE_NODE_TOTAL")?) {
        return Ok((index + 1, total));
    }
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let total = number("HOST_PARTITION_TOTAL")?
            .ok_or("JOB_COMPLETION_INDEX is set but HOST_PARTITION_TOTAL (the number of shards) is not")?;
        return Ok((index + 1, total));
    }
    Err("partition ci: set CI_NODE_INDEX and CI_NODE_TOTAL (GitLab), CIRCLE_NODE_INDEX and CIRCLE_NODE_TOTAL (CircleCI), or JOB_COMPLETION_INDEX and HOST_PARTITION_TOTAL (Kubernetes)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn shards_are_disjoint_and_cover_everything() {
        let ids: Vec<String> = (0..100).map(|i| format!("test/pkg/case{i}")).collect();
        for scheme in ["hash", "slice"] {
            let shards: Vec<Partition> =
                (1..=3).map(|k| Partition::parse(&format!("{scheme}:{k}/3"), no_env).unwrap()).collect();
            for (position, id) in ids.iter().enumerate() {
                let owners = shards.iter().filter(|p| p.contains(id, position)).count();
                assert_eq!(owners, 1, "{scheme}: {id} is in {owners} shards");
            }
        }
    }

    #[test]
    fn ci_variables_name_the_shard() {
        let gitlab = |name: &str| match name {
            "CI_NODE_INDEX" => Some("2".into()),
            "CI_NODE_TOTAL" => Some("5".into()),
            _ => None,
        };
        assert_eq!(Partition::parse("hash:ci", gitlab).unwrap(), Partition { scheme: Scheme::Hash, index: 2, total: 5 });
        let k8s = |name: &str| match name {
            "JOB_COMPLETION_INDEX" => Some("0".into()),
            "HOST_PARTITION_TOTAL" => Some("4".into()),
            _ => None,
        };
        assert_eq!(Partition::parse("slice:ci", k8s).unwrap(), Partition { scheme: Scheme::Slice, index: 1, total: 4 });
        let circle = |name: &str| match name {
            "CIRCLE_NODE_INDEX" => Some("3".into()),
            "CIRCLE_NODE_TOTAL" => Some("4".into()),
            _ => None,
        };
        assert_eq!(Partition::parse("duration:ci", circle).unwrap(), Partition { scheme: Scheme::Duration, index: 4, total: 4 });
        assert!(Partition::parse("hash:ci", no_env).unwrap_err().contains("CI_NODE_INDEX"));
    }

    #[test]
    fn duration_shards_take_the_longest_tests_first_and_come_out_even() {
        let tests = [("a", 5.0), ("b", 4.0), ("c", 3.0), ("d", 3.0), ("e", 2.0), ("f", 2.0), ("g", 1.0)];
        let shards = balance(&tests, 2);
        assert_eq!(shards, vec![0, 1, 1, 0, 1, 0, 1]);
        let sums: Vec<f64> = (0..2).map(|k| tests.iter().zip(&shards).filter(|(_, s)| **s == k).map(|(t, _)| t.1).sum()).collect();
        assert_eq!(sums, vec![10.0, 10.0]);
        assert_eq!(balance(&tests, 2), shards, "deterministic");
        assert_eq!(balance(&[("x", 1.0), ("y", 1.0)], 5), vec![0, 1], "ties go by name to the lowest shard");
        assert_eq!(Partition::parse("duration:2/3", no_env).unwrap().scheme, Scheme::Duration);
    }

    #[test]
    fn bad_partitions_are_explained() {
        assert!(Partition::parse("hash:0/3", no_env).is_err());
        assert!(Partition::parse("hash:4/3", no_env).is_err());
        assert!(Partition::parse("mod:1/3", no_env).unwrap_err().contains("unknown scheme"));
        assert!(Partition::parse("hash", no_env).is_err());
    }
}
