//! Reading an archive: every entry checked before it is written (a plain relative path,
//! a file or a directory — never an absolute path, `..`, a link or a device), every file
//! checked against the manifest's SHA-256, the manifest checked against this host.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use sha2::{Digest, Sha256};

use super::{CACHE_DIR, FORMAT, MANIFEST, Manifest, PROJECT_DIR};

/// The largest manifest read (a suite of 100,000 cases of long names fits).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// An extracted, verified archive. Its directory is removed when this is dropped if, and
/// only if, the host created it.
pub struct Extracted {
    dir: Workdir,
    pub manifest: Manifest,
}

struct Workdir {
    root: PathBuf,
    made: bool,
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if self.made {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

impl Extracted {
    /// Where the archive was extracted.
    pub fn root(&self) -> &Path {
        &self.dir.root
    }

    /// Whether the directory goes when this is dropped (the host made it).
    pub fn removed_afterwards(&self) -> bool {
        self.dir.made
    }

    /// The archive's tests.toml.
    pub fn tests_toml(&self) -> PathBuf {
        self.dir.root.join(PROJECT_DIR).join(crate::config::DEFAULT_FILE)
    }

    /// The archive's compile cache.
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.root.join(CACHE_DIR)
    }

    /// Each component's cases, as `list-cases` gave them when the archive was made.
    pub fn listed(&self) -> HashMap<PathBuf, Arc<[String]>> {
        self.manifest.packages.iter().map(|p| (self.dir.root.join(&p.path), p.cases.clone().into())).collect()
    }
}

/// Extract `archive` into `workdir` — created by the host when missing (and then removed
/// afterwards), or an empty directory, or one an earlier extraction filled — or, without
/// one, into a new temporary directory; and verify it.
pub fn extract(archive: &Path, workdir: Option<&Path>) -> Result<Extracted> {
    let dir = workdir_for(workdir)?;
    let shown = archive.display();
    let file = std::fs::File::open(archive).with_context(|| format!("--archive {shown}: cannot open"))?;
    let decoder = zstd::Decoder::new(file).with_context(|| format!("--archive {shown}: cannot read"))?;
    let mut tar = tar::Archive::new(decoder);
    let mut digests: BTreeMap<String, String> = BTreeMap::new();
    let mut directories: BTreeSet<String> = BTreeSet::new();
    let mut manifest: Option<Manifest> = None;
    let entries = tar.entries().with_context(|| format!("--archive {shown}: not a zstd-compressed tar"))?;
    for entry in entries {
        let mut entry = entry.with_context(|| format!("--archive {shown}: not a zstd-compressed tar, or a damaged one"))?;
        let name = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| anyhow!("--archive {shown}: an entry's path is not UTF-8"))?;
        let fail = |why: String| anyhow!("--archive {shown}: entry {name:?} {why}; refusing the archive");
        if let Some(why) = path_problem(&name) {
            return Err(fail(why));
        }
        let name = name.trim_end_matches('/').to_string();
        if digests.contains_key(&name) || directories.contains(&name) {
            return Err(fail("appears twice".into()));
        }
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Directory => {
                make_parents(&dir.root, &format!("{name}/x")).map_err(|e| fail(format!("cannot be created: {e}")))?;
                directories.insert(name);
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if name == MANIFEST {
                    let (read, bytes) = read_manifest(&mut entry).map_err(|e| anyhow!("--archive {shown}: {MANIFEST}: {e}"))?;
                    // Kept beside what it lists: it marks the directory as an extraction.
                    write_file(&dir.root, &name, 0o644, &mut bytes.as_slice()).map_err(|e| fail(format!("cannot be extracted: {e}")))?;
                    manifest = Some(read);
                    continue;
                }
                if manifest.is_none() {
                    return Err(fail(format!("comes before {MANIFEST}: not an archive made by `host archive`")));
                }
                let mode = if entry.header().mode().unwrap_or(0o644) & 0o111 != 0 { 0o755 } else { 0o644 };
                let digest = write_file(&dir.root, &name, mode, &mut entry).map_err(|e| fail(format!("cannot be extracted: {e}")))?;
                digests.insert(name, digest);
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default();
                return Err(fail(format!("is a link (to {target:?}); an archive holds only files and directories")));
            }
            other => return Err(fail(format!("is a {other:?} entry; an archive holds only files and directories"))),
        }
    }
    let manifest = manifest.ok_or_else(|| anyhow!("--archive {shown}: no {MANIFEST}: not an archive made by `host archive`"))?;
    for (name, expected) in &manifest.files {
        match digests.get(name) {
            None => bail!("--archive {shown}: {name} is in the manifest but not in the archive"),
            Some(found) if found != expected => {
                bail!("--archive {shown}: {name}: checksum mismatch (SHA-256 {found}, the manifest says {expected}); the archive was damaged or altered")
            }
            Some(_) => {}
        }
    }
    if let Some(name) = digests.keys().find(|name| !manifest.files.contains_key(*name)) {
        bail!("--archive {shown}: {name} is not in the manifest; refusing the archive");
    }
    if let Some(name) = manifest.directories.iter().find(|d| !directories.contains(*d)) {
        bail!("--archive {shown}: directory {name} is in the manifest but not in the archive");
    }
    let toml = format!("{PROJECT_DIR}/{}", crate::config::DEFAULT_FILE);
    if let Some(name) = std::iter::once(&toml).chain(manifest.packages.iter().map(|p| &p.path)).find(|n| !digests.contains_key(*n)) {
        bail!("--archive {shown}: {name} is not in the archive");
    }
    Ok(Extracted { dir, manifest })
}

/// The directory to extract into.
fn workdir_for(workdir: Option<&Path>) -> Result<Workdir> {
    let Some(dir) = workdir else {
        let temp = tempfile::Builder::new().prefix("host-archive-").tempdir().context("cannot create a directory to extract the archive into")?;
        return Ok(Workdir { root: temp.keep(), made: true });
    };
    let root = std::path::absolute(dir).with_context(|| format!("--workdir {}", dir.display()))?;
    match std::fs::symlink_metadata(&root) {
        Err(_) => {
            std::fs::create_dir(&root).with_context(|| format!("--workdir {}: cannot create the directory", dir.display()))?;
            Ok(Workdir { root, made: true })
        }
        Ok(meta) if !meta.is_dir() => bail!("--workdir {}: not a directory", dir.display()),
        Ok(_) => {
            let empty = std::fs::read_dir(&root).with_context(|| format!("--workdir {}", dir.display()))?.next().is_none();
            if !empty && !root.join(MANIFEST).is_file() {
                bail!("--workdir {}: not empty and not an archive extracted earlier; give an empty or a missing directory", dir.display());
            }
            Ok(Workdir { root, made: false })
        }
    }
}

/// Why `name` cannot be a path inside the archive's directory, or `None`.
fn path_problem(name: &str) -> Option<String> {
    if name.starts_with('/') {
        return Some("is an absolute path".into());
    }
    let parts: Vec<&str> = name.trim_end_matches('/').split('/').collect();
    if parts.contains(&"..") {
        return Some("leads out of the archive (`..`)".into());
    }
    if name.is_empty() || parts.iter().any(|part| part.is_empty() || *part == ".") || name.contains('\0') {
        return Some("is not a plain relative path".into());
    }
    None
}

/// Make the directories above `name` inside `root`, refusing any that is a link or a file.
fn make_parents(root: &Path, name: &str) -> std::io::Result<()> {
    let mut path = root.to_path_buf();
    let parts: Vec<&str> = name.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(std::io::Error::other(format!("{} is not a directory (a link?)", path.display()))),
            Err(_) => std::fs::create_dir(&path)?,
        }
    }
    Ok(())
}

/// Write entry `name` under `root`, never through a link; its SHA-256.
fn write_file(root: &Path, name: &str, mode: u32, data: &mut impl Read) -> std::io::Result<String> {
    make_parents(root, name)?;
    let path = root.join(name);
    if let Ok(meta) = std::fs::symlink_metadata(&path) {
        if meta.is_dir() {
            return Err(std::io::Error::other(format!("{} is a directory", path.display())));
        }
        // A file (or link) of an earlier extraction into the same --workdir.
        std::fs::remove_file(&path)?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).custom_flags(libc::O_NOFOLLOW).open(&path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = data.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        file.write_all(&buffer[..read])?;
    }
    Ok(crate::build::hex(&hasher.finalize()))
}

/// The manifest: its format, host version and target checked before its other fields are
/// read (another version may have other fields).
fn read_manifest(entry: &mut impl Read) -> Result<(Manifest, Vec<u8>)> {
    let mut bytes = Vec::new();
    entry.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        bail!("over {MAX_MANIFEST_BYTES} bytes");
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| anyhow!("not JSON: {e}"))?;
    let format = value.get("host_archive").and_then(serde_json::Value::as_u64);
    if format != Some(u64::from(FORMAT)) {
        bail!("archive format {}; this host reads format {FORMAT}", format.map_or("unknown".into(), |f| f.to_string()));
    }
    let version = value.get("host_version").and_then(serde_json::Value::as_str).unwrap_or("unknown");
    if version != super::host_version() {
        bail!(
            "made by host {:?}, and this is host {}: run it with that version, or make the archive again with this one",
            version.chars().take(64).collect::<String>(),
            super::host_version()
        );
    }
    let target = value.get("target").and_then(serde_json::Value::as_str).unwrap_or("unknown");
    if target != super::target() {
        bail!("made for {:?}; this host is built for {}", target.chars().take(64).collect::<String>(), super::target());
    }
    Ok((serde_json::from_value(value).map_err(|e| anyhow!("{e}"))?, bytes))
}

#[cfg(test)]
mod tests {
    use super::path_problem;

    #[test]
    fn only_plain_relative_paths_are_accepted() {
        for good in ["project/tests.toml", "cache/ab.cwasm", "project/data/", "a"] {
            assert_eq!(path_problem(good), None, "{good}");
        }
        for bad in ["/etc/passwd", "../x", "project/../../x", "a//b", "./a", "", "a/\0"] {
            assert!(path_problem(bad).is_some(), "{bad:?}");
        }
    }
}
