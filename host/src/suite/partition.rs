//! Sharding a suite across CI machines: `--partition hash:K/N` or `slice:K/N` (K from 1),
//! or `hash:ci` / `slice:ci` to take K and N from the CI's environment: GitLab's
//! `CI_NODE_INDEX` (1-based) and `CI_NODE_TOTAL`, or Kubernetes' `JOB_COMPLETION_INDEX`
//! (0-based) with the total in `HOST_PARTITION_TOTAL`.

use sha2::{Digest, Sha256};

/// How items are dealt to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// By a hash of the item's id: stable when other items come and go.
    Hash,
    /// Round-robin over the items in suite order: balanced counts.
    Slice,
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
            .ok_or_else(|| format!("partition {text:?}: expected hash:K/N, slice:K/N, hash:ci or slice:ci"))?;
        let scheme = match scheme {
            "hash" => Scheme::Hash,
            "slice" => Scheme::Slice,
            other => return Err(format!("partition {text:?}: unknown scheme {other:?} (hash or slice)")),
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

    /// Whether the item `id`, at `position` in suite order, belongs to this shard.
    pub fn contains(&self, id: &str, position: usize) -> bool {
        let bucket = match self.scheme {
            Scheme::Hash => {
                let digest = Sha256::digest(id.as_bytes());
                u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % self.total
            }
            Scheme::Slice => position as u64 % self.total,
        };
        bucket + 1 == self.index
    }
}

fn from_ci(env: &impl Fn(&str) -> Option<String>) -> Result<(u64, u64), String> {
    let number = |name: &str| -> Result<Option<u64>, String> {
        env(name).map(|v| v.trim().parse::<u64>().map_err(|e| format!("{name}={v:?}: {e}"))).transpose()
    };
    if let (Some(index), Some(total)) = (number("CI_NODE_INDEX")?, number("CI_NODE_TOTAL")?) {
        return Ok((index, total));
    }
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let total = number("HOST_PARTITION_TOTAL")?
            .ok_or("JOB_COMPLETION_INDEX is set but HOST_PARTITION_TOTAL (the number of shards) is not")?;
        return Ok((index + 1, total));
    }
    Err("partition ci: set CI_NODE_INDEX and CI_NODE_TOTAL (GitLab), or JOB_COMPLETION_INDEX and HOST_PARTITION_TOTAL (Kubernetes)".into())
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
        assert!(Partition::parse("hash:ci", no_env).unwrap_err().contains("CI_NODE_INDEX"));
    }

    #[test]
    fn bad_partitions_are_explained() {
        assert!(Partition::parse("hash:0/3", no_env).is_err());
        assert!(Partition::parse("hash:4/3", no_env).is_err());
        assert!(Partition::parse("mod:1/3", no_env).unwrap_err().contains("unknown scheme"));
        assert!(Partition::parse("hash", no_env).is_err());
    }
}
