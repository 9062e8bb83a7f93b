//! Sets of ids kept as digests: 16 bytes an id, whatever its length. A suite of 100,000
//! cases is checked against several such sets (what is selected, what was reported, what
//! was counted); holding each id's text in each was most of the host's memory.
//!
//! The digest is SHA-256 (cut to 128 bits) of the id's parts, each prefixed by its length,
//! so `("a/b", "c")` and `("a", "b/c")` differ. Case names come from packages, which are
//! untrusted: a non-cryptographic hash would let a package name two cases that collide and
//! have the second one's failure dropped as "already counted". Finding a collision of this
//! digest takes about 2^64 work.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

/// A set of ids, each given as its parts (test, package, case…).
#[derive(Debug, Clone, Default)]
pub struct IdSet {
    digests: HashSet<[u8; 16]>,
}

impl IdSet {
    /// Add the id made of `parts`; false when it was there already.
    pub fn insert(&mut self, parts: &[&str]) -> bool {
        self.digests.insert(digest(parts))
    }

    /// Whether the id made of `parts` is in the set.
    pub fn contains(&self, parts: &[&str]) -> bool {
        self.digests.contains(&digest(parts))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.digests.len()
    }
}

fn digest(parts: &[&str]) -> [u8; 16] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let full = hasher.finalize();
    let mut short = [0; 16];
    short.copy_from_slice(&full[..16]);
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_in_the_set_once() {
        let mut set = IdSet::default();
        assert!(set.insert(&["test", "package", "case"]));
        assert!(!set.insert(&["test", "package", "case"]));
        assert!(set.contains(&["test", "package", "case"]));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn parts_are_not_confused_across_their_boundaries() {
        let mut set = IdSet::default();
        set.insert(&["a/b", "c"]);
        assert!(!set.contains(&["a", "b/c"]));
        assert!(!set.contains(&["a/bc"]));
        assert!(!set.contains(&["a/b", "c", ""]));
    }
}
