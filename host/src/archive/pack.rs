//! Writing an archive: the manifest first, then every member, into a tar stream
//! compressed with zstd, written to a temporary file renamed over the destination.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};

use super::layout::{Layout, Source};
use super::{FORMAT, MANIFEST, Manifest};
use crate::config::Plan;
use crate::runner::Prepared;
use crate::sandbox::Sandbox;

/// What [`create`] wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    pub packages: usize,
    pub files: usize,
    /// The archive's size on disk.
    pub bytes: u64,
}

/// Write the archive of `plan` (built and loaded as `prepared`, compiled for `sandbox`'s
/// engine) to `out`.
pub async fn create(plan: &Plan, prepared: &Prepared, sandbox: &Sandbox, out: &Path) -> Result<Summary> {
    let layout = Layout::of(plan, prepared, sandbox).await?;
    let mut manifest = Manifest {
        host_archive: FORMAT,
        host_version: super::host_version().into(),
        wasmtime_version: super::wasmtime_version().into(),
        engine: sandbox.engine_fingerprint(),
        target: super::target().into(),
        source: std::path::absolute(&plan.file).unwrap_or_else(|_| plan.file.clone()).display().to_string(),
        packages: layout.packages.clone(),
        files: Default::default(),
        directories: Vec::new(),
    };
    for (name, member) in &layout.members {
        let digest = match &member.source {
            Source::Directory => {
                manifest.directories.push(name.clone());
                continue;
            }
            Source::Bytes(bytes) => Sha256::digest(bytes).to_vec(),
            Source::File(path) => digest_file(path)?,
        };
        manifest.files.insert(name.clone(), crate::build::hex(&digest));
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let partial = tempfile::NamedTempFile::new_in(parent).with_context(|| format!("cannot write in {}", parent.display()))?;
    let encoder = zstd::Encoder::new(partial.reopen()?, 3)?;
    let mut tar = tar::Builder::new(encoder);
    let json = serde_json::to_vec_pretty(&manifest)?;
    append(&mut tar, MANIFEST, 0o644, json.len() as u64, json.as_slice())?;
    for (name, member) in &layout.members {
        let mode = if member.executable { 0o755 } else { 0o644 };
        match &member.source {
            Source::Directory => {
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                header.set_mtime(0);
                tar.append_data(&mut header, name, std::io::empty())?;
            }
            Source::Bytes(bytes) => append(&mut tar, name, mode, bytes.len() as u64, bytes.as_slice())?,
            Source::File(path) => {
                let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
                let size = file.metadata()?.len();
                // Exactly the bytes that were hashed: a file that changed in between fails
                // the tar writer's length check rather than the later verification.
                append(&mut tar, name, mode, size, file.take(size))?;
            }
        }
    }
    let mut file = tar.into_inner()?.finish()?;
    file.flush()?;
    file.sync_all()?;
    partial.persist(out).with_context(|| format!("cannot write {}", out.display()))?;
    let bytes = std::fs::metadata(out)?.len();
    Ok(Summary { packages: manifest.packages.len(), files: manifest.files.len(), bytes })
}

fn append(tar: &mut tar::Builder<impl Write>, name: &str, mode: u32, size: u64, data: impl Read) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(0);
    tar.append_data(&mut header, name, data).with_context(|| format!("cannot archive {name}"))
}

fn digest_file(path: &Path) -> Result<Vec<u8>> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hasher.finalize().to_vec())
}
