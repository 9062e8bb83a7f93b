//! Pure checks of single values (no file system): node homes, environment variables.

use std::path::Path;

/// Why `raw`, a node's `home` resolved to `resolved`, cannot be a home the host clears
/// before each run, or `None` when it can. A home must be a directory of its own: not
/// empty, `.`, `..`, `~`, `/`, not the directory holding tests.toml (`base_dir`) nor the
/// user's home, nor an ancestor of either. Other absolute paths (`/tmp/x`) are allowed.
pub fn home_problem(raw: &str, resolved: &Path, base_dir: &Path, user_home: Option<&Path>) -> Option<String> {
    let trimmed = raw.trim();
    if matches!(trimmed, "" | "." | ".." | "~" | "~/" | "/" | "./" | "../") {
        return Some("must name a directory of the node's own (the host clears it before each run)".to_string());
    }
    if raw.contains('\0') {
        return Some("must not contain NUL".to_string());
    }
    if base_dir.starts_with(resolved) {
        return Some(format!(
            "{} is the directory holding tests.toml or one of its ancestors; a home must be a directory of the node's own",
            resolved.display()
        ));
    }
    if user_home.is_some_and(|home| home.starts_with(resolved)) {
        return Some(format!(
            "{} is your home directory or one of its ancestors; a home must be a directory of the node's own",
            resolved.display()
        ));
    }
    None
}

/// Why `name=value` cannot be an environment variable, or `None` when it can.
pub fn env_problem(name: &str, value: &str) -> Option<String> {
    if name.is_empty() {
        Some("an empty variable name".to_string())
    } else if name.contains('=') {
        Some(format!("variable name {name:?} contains '='"))
    } else if name.contains('\0') {
        Some(format!("variable name {name:?} contains NUL"))
    } else if value.contains('\0') {
        Some(format!("the value of {name} contains NUL"))
    } else {
        None
    }
}

/// Why `name` cannot name a node, if it cannot: node names appear in ids, placeholders
/// (`{port:NAME}`) and `{peers}` lists.
pub fn node_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.contains(['/', ',', ' ', ':', '{', '}']) || name.chars().any(char::is_control) {
        return Some("must be non-empty, without '/', ',', ':', braces, spaces or control characters");
    }
    if name.len() > 255 {
        return Some("must be at most 255 bytes long");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homes_that_would_clear_the_suite_or_the_user_are_refused() {
        let base = Path::new("/work/suite");
        let user = Some(Path::new("/home/me"));
        for raw in ["", ".", "..", "~", "~/", "/"] {
            assert!(home_problem(raw, base, base, user).is_some(), "{raw:?}");
        }
        assert!(home_problem("x", Path::new("/work"), base, user).is_some());
        assert!(home_problem("x", Path::new("/home"), base, user).is_some());
        assert!(home_problem("x", Path::new("/home/me"), base, user).is_some());
        assert!(home_problem("homes/a", Path::new("/work/suite/homes/a"), base, user).is_none());
        assert!(home_problem("/tmp/x", Path::new("/tmp/x"), base, user).is_none());
    }

    #[test]
    fn env_keys_and_values_that_cannot_reach_a_process_are_refused() {
        assert!(env_problem("", "v").is_some());
        assert!(env_problem("A=B", "v").is_some());
        assert!(env_problem("A\0", "v").is_some());
        assert!(env_problem("A", "v\0w").is_some());
        assert!(env_problem("A", "v w").is_none());
    }
}
