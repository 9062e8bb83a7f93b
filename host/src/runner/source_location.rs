//! Where a failure's source file is on the host's disk — looked for only inside the
//! package's own sources, never elsewhere.
//!
//! A package names its failure's file as its compiler saw it (for cargo, relative to the
//! workspace root). That name is untrusted: `../../../../etc/passwd` or `/etc/passwd`
//! must not become a probe of the host's files. So the file is looked for only inside
//! the package's *source root*: the nearest directory at or above the package that holds
//! a cargo workspace manifest (`Cargo.toml` with a `[workspace]` table), or else the
//! package's own directory (a component file's directory). A candidate is first checked
//! lexically (`..` resolved without touching the disk), then canonicalized and checked
//! again, so a symlink that leads out does not count. Anything not found there is shown
//! exactly as given.

use std::path::{Component, Path, PathBuf};

use crate::config::PackageRef;

/// `file` as found inside `package`'s source root, relative to the working directory
/// when it is below it; `None` when the file is not there (show it as given).
pub fn locate_source(package: &PackageRef, file: &str) -> Option<String> {
    if file.is_empty() {
        return None;
    }
    let root = source_root(&package.path)?;
    let package_dir = package_dir(&package.path)?;
    let given = Path::new(file);
    // Relative names are tried against the package's directory and each directory up
    // to the root (cargo names files relative to the workspace root).
    let found = package_dir
        .ancestors()
        .take_while(|base| base.starts_with(&root))
        .map(|base| lexical_join(base, given))
        .filter(|candidate| candidate.starts_with(&root))
        .filter_map(|candidate| candidate.canonicalize().ok())
        .find(|canonical| canonical.starts_with(&root) && canonical.is_file())?;
    let shown = std::env::current_dir().ok().and_then(|cwd| found.strip_prefix(cwd).ok().map(Path::to_path_buf));
    Some(shown.unwrap_or(found).display().to_string())
}

/// The package's directory, canonical (a component file's directory).
fn package_dir(path: &Path) -> Option<PathBuf> {
    let dir = if path.is_dir() { path } else { path.parent()? };
    dir.canonicalize().ok()
}

/// The directory a package's failure files may be found in: the nearest cargo workspace
/// at or above the package, or the package's own directory.
fn source_root(path: &Path) -> Option<PathBuf> {
    let dir = package_dir(path)?;
    let workspace = dir.ancestors().find(|candidate| is_cargo_workspace(candidate)).map(Path::to_path_buf);
    Some(workspace.unwrap_or(dir))
}

fn is_cargo_workspace(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|manifest| manifest.contains_key("workspace"))
}

/// `base` joined with `path`, `.` and `..` resolved without touching the disk (an
/// absolute `path` replaces `base`).
fn lexical_join(base: &Path, path: &Path) -> PathBuf {
    let mut joined = base.to_path_buf();
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => joined = PathBuf::from(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                joined.pop();
            }
            Component::Normal(part) => joined.push(part),
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PackageKind;

    fn package(dir: &Path) -> PackageRef {
        PackageRef { name: "pkg".into(), path: dir.to_path_buf(), kind: PackageKind::Cargo }
    }

    #[test]
    fn only_files_inside_the_source_root_are_found() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "x").unwrap();
        let workspace = tempfile::tempdir().unwrap();
        let root = workspace.path().canonicalize().unwrap();
        std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"pkg\"]\n").unwrap();
        std::fs::create_dir_all(root.join("pkg/src")).unwrap();
        std::fs::write(root.join("pkg/src/lib.rs"), "").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("pkg/src/link.rs")).unwrap();
        let pkg = package(&root.join("pkg"));

        let found = |file: &str| locate_source(&pkg, file).map(PathBuf::from);
        assert_eq!(found("pkg/src/lib.rs"), Some(root.join("pkg/src/lib.rs")));
        assert_eq!(found("src/lib.rs"), Some(root.join("pkg/src/lib.rs")));
        assert_eq!(found(root.join("pkg/src/lib.rs").to_str().unwrap()), Some(root.join("pkg/src/lib.rs")));
        let secret = outside.path().join("secret.txt");
        let escapes = ["../../../../etc/passwd", "/etc/passwd", "pkg/src/link.rs", secret.to_str().unwrap()];
        for escape in escapes {
            assert_eq!(found(escape), None, "{escape}");
        }
        let climb = format!("{}{}", "../".repeat(root.components().count()), secret.display());
        assert_eq!(found(&climb), None, "{climb}");
    }
}
