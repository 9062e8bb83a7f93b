//! Showing where a case failed as a path the user can open — without letting a package
//! probe the host's disk.
//!
//! A failure's file is whatever the package says: trusted only as text. The host looks
//! for it inside the package's own sources and nowhere else: the package directory and,
//! for a cargo package, the cargo workspace that holds it (rustc names files relative to
//! the workspace root). A path that leads out of those — `../../etc/passwd`, an absolute
//! path elsewhere, a symbolic link out — is shown exactly as given, and its existence
//! is never checked.

use std::path::{Path, PathBuf};

use crate::config::{PackageKind, PackageRef, normalize};

/// `file` as a path to open (relative to the working directory when it is below it), if
/// it names a file of `package`'s own sources.
pub fn locate(package: &PackageRef, file: &str) -> Option<String> {
    if file.is_empty() || file.contains('\0') {
        return None;
    }
    let given = Path::new(file);
    let found = source_roots(package).into_iter().find_map(|root| {
        let candidate = if given.is_absolute() { given.to_path_buf() } else { root.join(given) };
        // Lexically first: a path that climbs out is never looked at on disk.
        if !normalize(&candidate).starts_with(&root) {
            return None;
        }
        let real = candidate.canonicalize().ok()?;
        (real.starts_with(&root) && real.is_file()).then_some(real)
    })?;
    let shown = std::env::current_dir().ok().and_then(|cwd| found.strip_prefix(cwd).ok().map(Path::to_path_buf));
    Some(shown.unwrap_or(found).display().to_string())
}

/// Where `package`'s sources live, canonical: its directory and, for cargo packages, the
/// workspace root above it.
fn source_roots(package: &PackageRef) -> Vec<PathBuf> {
    let Ok(dir) = package.path.canonicalize() else { return Vec::new() };
    if !dir.is_dir() {
        // A prebuilt component: no sources to find.
        return Vec::new();
    }
    let mut roots = vec![dir.clone()];
    if package.kind == PackageKind::Cargo {
        let workspace = dir.ancestors().skip(1).find(|ancestor| {
            std::fs::read_to_string(ancestor.join("Cargo.toml")).is_ok_and(|text| text.contains("[workspace]"))
        });
        roots.extend(workspace.map(Path::to_path_buf));
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package_in(dir: &Path) -> PackageRef {
        PackageRef { name: "p".into(), path: dir.to_path_buf(), kind: PackageKind::Cargo }
    }

    #[test]
    fn a_path_out_of_the_package_is_never_resolved() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        let package = root.join("pkg");
        std::fs::create_dir_all(package.join("src")).unwrap();
        std::fs::write(package.join("src/lib.rs"), "").unwrap();
        std::fs::write(root.join("secret"), "").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), package.join("link")).unwrap();
        let package = package_in(&package);
        assert!(locate(&package, "src/lib.rs").is_some_and(|p| p.ends_with("pkg/src/lib.rs")));
        for outside in ["../secret", "/etc/passwd", "../../../../etc/passwd", "link", "src/../../secret"] {
            assert_eq!(locate(&package, outside), None, "{outside}");
        }
    }
}
