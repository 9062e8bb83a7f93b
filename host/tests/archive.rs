//! Archives, through the real binary: `host archive OUT` packs a suite (a cargo-built
//! node, a test package, a script and a data directory), the sources are deleted, and
//! `host run --archive OUT` runs it with no cargo or toolchain on PATH, building and
//! compiling nothing; damaged, foreign and hostile archives are refused with a clear
//! error, and nothing is written outside the directory the archive is extracted into;
//! an interrupted `host archive` kills its build and writes nothing.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Run, package, repo, run_in};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A suite of one test: kv-cases against a kvnode node (`RepoPath`), then a script of the
/// suite that reads a file of its data directory with shell builtins only, and a script
/// beside the suite's directory (`../shared/ok.sh`). Returns the directory holding both.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
runtime = {{ RepoPath = "{repo}/kvnode" }}

[sandbox]
data_dir = "data"

[[tests]]
name = "kv"
test_package_paths = ["{kv}"]
test_scripts = [{{ path = "scripts/check.sh", args = ["{{port:first.dev}}"] }}, "../shared/ok.sh"]

[[tests.nodes]]
fake_node_name = "first.dev"
home = "homes/first"
"#,
        repo = repo().display(),
        kv = package("kv-cases"),
    );
    let suite = dir.path().join("suite");
    for sub in ["suite/data", "suite/scripts", "shared"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    std::fs::write(suite.join("tests.toml"), text).unwrap();
    std::fs::write(suite.join("data/expected.txt"), "archived\n").unwrap();
    let check = "#!/bin/sh\nread -r expected < \"${0%/*}/../data/expected.txt\"\n[ \"$expected\" = archived ] && [ -n \"$1\" ]\n";
    for (path, text) in [(suite.join("scripts/check.sh"), check), (dir.path().join("shared/ok.sh"), "#!/bin/sh\nexit 0\n")] {
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    dir
}

/// `host archive` of [`project`] into `out`.
fn make_archive(out: &Path) {
    let dir = project();
    let made = run_in(&dir.path().join("suite"), &["archive", out.to_str().unwrap()]);
    assert_eq!(made.code, Some(0), "{}", made.both());
    assert!(made.stdout.contains("Archived 1 package(s)"), "{}", made.both());
}

/// The archive's entries in order: name, mode, bytes, kind.
fn entries(archive: &Path) -> Vec<(String, u32, Vec<u8>, tar::EntryType)> {
    let decoder = zstd::Decoder::new(std::fs::File::open(archive).unwrap()).unwrap();
    let mut tar = tar::Archive::new(decoder);
    tar.entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            let mode = entry.header().mode().unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (name, mode, bytes, entry.header().entry_type())
        })
        .collect()
}

/// One raw tar entry, written as given (no path checks, unlike `tar::Builder`'s).
struct Raw {
    name: Vec<u8>,
    kind: tar::EntryType,
    link: Vec<u8>,
    data: Vec<u8>,
    mode: u32,
}

fn file(name: &str, data: Vec<u8>) -> Raw {
    Raw { name: name.as_bytes().to_vec(), kind: tar::EntryType::Regular, link: Vec::new(), data, mode: 0o644 }
}

fn write_raw(out: &Path, entries: Vec<Raw>) {
    let encoder = zstd::Encoder::new(std::fs::File::create(out).unwrap(), 1).unwrap();
    let mut tar = tar::Builder::new(encoder);
    for entry in entries {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..entry.name.len()].copy_from_slice(&entry.name);
        header.as_old_mut().linkname[..entry.link.len()].copy_from_slice(&entry.link);
        header.set_entry_type(entry.kind);
        header.set_size(entry.data.len() as u64);
        header.set_mode(entry.mode);
        header.set_cksum();
        tar.append(&header, entry.data.as_slice()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

/// A directory holding only what kvnode runs besides itself (`kill`, for its CRASH
/// command): no cargo, rustc, componentize-py, wasm-tools, go or clang.
fn bare_path(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let kill = ["/usr/bin/kill", "/bin/kill"].into_iter().find(|p| Path::new(p).exists()).expect("kill is installed");
    std::os::unix::fs::symlink(kill, bin.join("kill")).unwrap();
    bin
}

/// `host ARGS…` in `cwd` with nothing of the environment but PATH = `bin`, and HOME and
/// TMPDIR inside `machine`.
fn run_bare(machine: &Path, bin: &Path, args: &[&str]) -> Run {
    for dir in ["home", "tmp"] {
        std::fs::create_dir_all(machine.join(dir)).unwrap();
    }
    Command::new(env!("CARGO_BIN_EXE_host"))
        .env_clear()
        .env("PATH", bin)
        .env("HOME", machine.join("home"))
        .env("TMPDIR", machine.join("tmp"))
        .current_dir(machine)
        .args(args)
        .output()
        .expect("cannot run host")
        .into()
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect()
}

#[test]
fn an_archive_runs_where_there_is_no_toolchain_and_compiles_nothing() {
    let machine = tempfile::tempdir().unwrap();
    let archive = machine.path().join("suite.tar.zst");
    make_archive(&archive);

    // What it holds: the rewritten tests.toml (no path back to the sources), the script
    // and data, the component and its compiled form, the node executable; each file's
    // SHA-256 in the manifest.
    let entries = entries(&archive);
    assert_eq!(entries[0].0, "host-archive.json", "the manifest comes first");
    let manifest: Value = serde_json::from_slice(&entries[0].2).unwrap();
    assert_eq!(manifest["host_version"], env!("CARGO_PKG_VERSION"));
    let names: Vec<&str> = entries.iter().map(|(name, ..)| name.as_str()).collect();
    let expected = ["project/tests.toml", "project/scripts/check.sh", "project/data/expected.txt", "outside/1/ok.sh", "packages/1/kv-cases.wasm", "bin/1/kvnode"];
    for expected in expected {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert_eq!(names.iter().filter(|n| n.starts_with("cache/") && n.ends_with(".cwasm")).count(), 1, "{names:?}");
    assert!(entries.iter().any(|(name, .., kind)| name == "project/data" && kind.is_dir()), "{names:?}");
    let files: Vec<_> = entries[1..].iter().filter(|(.., kind)| kind.is_file()).collect();
    for (name, mode, bytes, _) in &files {
        let digest: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(manifest["files"][name], digest, "{name}");
        let executable = ["bin/1/kvnode", "project/scripts/check.sh", "outside/1/ok.sh"].contains(&name.as_str());
        assert_eq!(mode & 0o111 != 0, executable, "{name}: mode {mode:o}");
    }
    assert_eq!(manifest["files"].as_object().unwrap().len(), files.len());
    let cases = manifest["packages"][0]["cases"].as_array().unwrap().len();
    assert!(cases > 0, "{manifest}");
    let toml = String::from_utf8(entries.iter().find(|(n, ..)| n == "project/tests.toml").unwrap().2.clone()).unwrap();
    let repo = repo().display().to_string();
    assert!(toml.lines().filter(|l| !l.starts_with('#')).all(|l| !l.contains(&repo)), "{toml}");

    // Another "machine": PATH without toolchains, a fresh HOME and TMPDIR.
    let bin = bare_path(machine.path());
    assert!(!bin.join("cargo").exists());
    let run = run_bare(machine.path(), &bin, &["run", "--archive", "suite.tar.zst", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = json_lines(&run.stdout);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"package_building") && !kinds.contains(&"component_compiling"), "{kinds:?}");
    let loads: Vec<&Value> = events.iter().filter(|e| e["type"] == "component_compiled").collect();
    assert!(!loads.is_empty() && loads.iter().all(|e| e["from_cache"] == true), "{loads:?}");
    let finished = events.last().unwrap();
    assert_eq!(finished["totals"]["passed"], cases + 2, "every case and both scripts: {finished}");
    assert_eq!(finished["totals"]["failed"], 0);
    // The temporary directory it was extracted into is gone.
    let left: Vec<_> = std::fs::read_dir(machine.path().join("tmp")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");

    // Positional arguments are filters; a missing --workdir is made and removed.
    let run = run_bare(machine.path(), &bin, &["run", "--archive", "suite.tar.zst", "--workdir", "w", "kv/kv-cases/ping*", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let ran: Vec<Value> = json_lines(&run.stdout).into_iter().filter(|e| e["type"] == "case_finished").collect();
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert!(!machine.path().join("w").exists(), "the host made w, so it removed it");

    // An existing --workdir is kept, with the last run's record: --rerun-failed works.
    std::fs::create_dir(machine.path().join("keep")).unwrap();
    let run = run_bare(machine.path(), &bin, &["run", "--archive", "suite.tar.zst", "--workdir", "keep"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(machine.path().join("keep/project/.host/last-run.json").is_file());
    let rerun = run_bare(machine.path(), &bin, &["run", "--archive", "suite.tar.zst", "--workdir", "keep", "--rerun-failed"]);
    assert_eq!(rerun.code, Some(0), "{}", rerun.both());
    assert!(rerun.stderr.contains("nothing to rerun"), "{}", rerun.both());
}

/// The manifest (the first entry) with `key` set to `value`.
fn set_in_manifest(raws: &mut [Raw], key: &str, value: Value) {
    let mut manifest: BTreeMap<String, Value> = serde_json::from_slice(&raws[0].data).unwrap();
    manifest.insert(key.into(), value);
    raws[0].data = serde_json::to_vec(&manifest).unwrap();
}

/// Run `--archive bad` with a `--workdir` the host makes: exit 2 with `expected` in the
/// error, and the workdir gone afterwards.
fn refused(dir: &Path, bad: &Path, expected: &str) {
    let run = run_in(dir, &["run", "--archive", bad.to_str().unwrap(), "--workdir", "w"]);
    assert_eq!(run.code, Some(2), "{expected}: {}", run.both());
    assert!(run.stderr.contains(expected), "expected {expected:?}\n{}", run.both());
    assert!(!run.stderr.contains("panicked") && !run.stdout.contains("Running"), "{}", run.both());
    assert!(!dir.join("w").exists(), "{expected}: the host's workdir is removed");
}

#[test]
fn a_damaged_foreign_or_hostile_archive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tar.zst");
    make_archive(&good);
    let original = entries(&good);
    let bad = dir.path().join("bad.tar.zst");
    let repack = |change: &dyn Fn(&mut Vec<Raw>)| {
        let mut raws: Vec<Raw> = original
            .iter()
            .map(|(name, mode, data, kind)| Raw { name: name.as_bytes().to_vec(), kind: *kind, link: Vec::new(), data: data.clone(), mode: *mode })
            .collect();
        change(&mut raws);
        write_raw(&bad, raws);
    };
    // The same entries written again are accepted (the test's writer is sound).
    repack(&|_| {});
    let run = run_in(dir.path(), &["run", "--archive", bad.to_str().unwrap(), "--workdir", "w"]);
    assert_eq!(run.code, Some(0), "{}", run.both());

    // A changed byte: the file is named.
    repack(&|raws| {
        let wasm = raws.iter_mut().find(|r| r.name == b"packages/1/kv-cases.wasm").unwrap();
        let last = wasm.data.len() - 1;
        wasm.data[last] ^= 1;
    });
    refused(dir.path(), &bad, "packages/1/kv-cases.wasm: checksum mismatch");
    // Another host version, engine or target.
    repack(&|raws| set_in_manifest(raws, "host_version", "0.0.1-other".into()));
    refused(dir.path(), &bad, "made by host \"0.0.1-other\", and this is host");
    repack(&|raws| set_in_manifest(raws, "engine", "0".repeat(64).into()));
    refused(dir.path(), &bad, "compiled for another engine");
    repack(&|raws| set_in_manifest(raws, "target", "riscv64gc-unknown-linux-gnu".into()));
    refused(dir.path(), &bad, "made for \"riscv64gc-unknown-linux-gnu\"; this host is built for");
    // A file the manifest does not list, or lists and the archive lacks.
    repack(&|raws| raws.push(file("project/extra.sh", b"echo".to_vec())));
    refused(dir.path(), &bad, "project/extra.sh is not in the manifest");
    repack(&|raws| raws.retain(|r| r.name != b"project/data/expected.txt"));
    refused(dir.path(), &bad, "project/data/expected.txt is in the manifest but not in the archive");

    // Hostile paths: nothing is written outside the workdir.
    let escaped = dir.path().join("escaped");
    repack(&|raws| raws.insert(1, file(&escaped.display().to_string(), b"pwned".to_vec())));
    refused(dir.path(), &bad, "is an absolute path");
    repack(&|raws| raws.insert(1, file("project/../../escaped", b"pwned".to_vec())));
    refused(dir.path(), &bad, "leads out of the archive (`..`)");
    repack(&|raws| {
        let link = Raw { name: b"project/up".to_vec(), kind: tar::EntryType::Symlink, link: b"../..".to_vec(), data: Vec::new(), mode: 0o777 };
        raws.insert(1, link);
        raws.insert(2, file("project/up/escaped", b"pwned".to_vec()));
    });
    refused(dir.path(), &bad, "is a link (to \"../..\")");
    repack(&|raws| {
        let link = Raw { name: b"project/hard".to_vec(), kind: tar::EntryType::Link, link: b"/etc/passwd".to_vec(), data: Vec::new(), mode: 0o644 };
        raws.insert(1, link);
    });
    refused(dir.path(), &bad, "is a link");
    assert!(!escaped.exists(), "an entry escaped the workdir");

    // Not an archive at all; a workdir that is somebody else's.
    std::fs::write(&bad, "just text").unwrap();
    refused(dir.path(), &bad, "bad.tar.zst");
    std::fs::create_dir(dir.path().join("mine")).unwrap();
    std::fs::write(dir.path().join("mine/notes.txt"), "mine").unwrap();
    let run = run_in(dir.path(), &["run", "--archive", good.to_str().unwrap(), "--workdir", "mine"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("--workdir mine: not empty"), "{}", run.both());
    assert_eq!(std::fs::read_to_string(dir.path().join("mine/notes.txt")).unwrap(), "mine");
}

/// Ctrl-C while `host archive` builds: exit 130, the build's processes (a grandchild
/// included) killed, and no archive — not even a partial one — left behind.
#[test]
fn an_interrupted_archive_kills_its_build_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    std::fs::write(dir.path().join("tests.toml"), "[[tests]]\nname = \"slow-build\"\ntest_package_paths = [\"pkg\"]\n").unwrap();
    // Sleeps told apart from any other by a duration of their own.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let unique = format!("{}.{nanos:09}", 300 + std::process::id() % 100);
    let build = format!("build = [\"sh\", \"-c\", \"sleep {unique} & sleep {unique}\"]\ninputs = [\"*.toml\"]\n");
    std::fs::write(pkg.join("host-package.toml"), build).unwrap();
    let sleeps = || -> usize {
        let cmdlines = std::fs::read_dir("/proc").unwrap().flatten().filter_map(|e| std::fs::read(e.path().join("cmdline")).ok());
        cmdlines.map(|raw| String::from_utf8_lossy(&raw).replace('\0', " ")).filter(|c| c.starts_with("sleep ") && c.contains(&unique)).count()
    };
    let child = common::host()
        .current_dir(dir.path())
        .args(["archive", "out.tar.zst", "--no-cache"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..400 {
        if sleeps() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert_eq!(sleeps(), 2, "the build's two sleeps started");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let run = Run::from(child.wait_with_output().unwrap());
    assert_eq!(run.code, Some(130));
    for _ in 0..100 {
        if sleeps() == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(sleeps(), 0, "the build's processes are gone");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(left.iter().all(|name| name == "tests.toml" || name == "pkg"), "{left:?}");
}
