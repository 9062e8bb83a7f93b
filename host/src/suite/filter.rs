//! Name filters: `kv`, `replication/kv-cases/*`, `!*slow*`, `tag:redis`.
//!
//! A filter without glob characters matches as a substring of the item's id
//! (`test/package/case`); with `*`, `?` or `[…]` it must match the whole id. A leading `!`
//! excludes. `tag:NAME` matches the items of tests tagged NAME. An item is selected when
//! it matches at least one including filter (or there are none) and no excluding one.

use globset::{Glob, GlobMatcher};

/// One compiled filter.
#[derive(Debug, Clone)]
enum Pattern {
    Substring(String),
    Glob(GlobMatcher),
    Tag(String),
}

impl Pattern {
    fn matches(&self, id: &str, tags: &[String]) -> bool {
        match self {
            Pattern::Substring(text) => id.contains(text.as_str()),
            Pattern::Glob(glob) => glob.is_match(id),
            Pattern::Tag(tag) => tags.iter().any(|t| t == tag),
        }
    }
}

/// The filters of a command line.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl Filters {
    /// Compile `filters`; the error names the bad one.
    pub fn new<S: AsRef<str>>(filters: &[S]) -> Result<Filters, String> {
        let mut compiled = Filters::default();
        for filter in filters {
            let filter = filter.as_ref();
            let (negated, text) = match filter.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, filter),
            };
            if text.is_empty() {
                return Err(format!("filter {filter:?} is empty"));
            }
            let pattern = if let Some(tag) = text.strip_prefix("tag:") {
                Pattern::Tag(tag.to_string())
            } else if text.contains(['*', '?', '[']) {
                let glob = Glob::new(text).map_err(|e| format!("filter {filter:?}: {e}"))?;
                Pattern::Glob(glob.compile_matcher())
            } else {
                Pattern::Substring(text.to_string())
            };
            if negated { compiled.exclude.push(pattern) } else { compiled.include.push(pattern) }
        }
        Ok(compiled)
    }

    /// Whether the item `id` of a test tagged `tags` is selected.
    pub fn matches(&self, id: &str, tags: &[String]) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(id, tags)))
            && !self.exclude.iter().any(|p| p.matches(id, tags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selected(filters: &[&str], id: &str) -> bool {
        Filters::new(filters).unwrap().matches(id, &["redis".to_string()])
    }

    #[test]
    fn substrings_globs_tags_and_exclusions() {
        assert!(selected(&[], "a/b/c"));
        assert!(selected(&["b/c"], "a/b/c"));
        assert!(!selected(&["x"], "a/b/c"));
        assert!(selected(&["a/*/c"], "a/b/c"));
        assert!(!selected(&["a/*"], "b/a/c"), "globs match the whole id");
        assert!(selected(&["tag:redis"], "a/b/c"));
        assert!(!selected(&["tag:slow"], "a/b/c"));
        assert!(!selected(&["a", "!*/c"], "a/b/c"));
        assert!(selected(&["!tag:slow"], "a/b/c"));
    }

    #[test]
    fn bad_filters_are_named() {
        assert!(Filters::new(&["!"]).unwrap_err().contains("empty"));
        assert!(Filters::new(&["a/[b"]).unwrap_err().contains("a/[b"));
    }
}
