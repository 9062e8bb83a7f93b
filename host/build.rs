//! What an archive's manifest records of the machine and engine it was made for (see
//! `src/archive`): the target triple this host is built for, and the wasmtime version
//! Cargo.lock resolved. Nothing else is generated here.

// Rebuilt whenever the checkout it was last built for is another: see .cargo/config.toml.
const _: Option<&str> = option_env!("HOST_CHECKOUT");

fn main() {
    let target = std::env::var("TARGET").expect("cargo sets TARGET for build scripts");
    println!("cargo:rustc-env=HOST_TARGET_TRIPLE={target}");
    println!("cargo:rerun-if-changed=../Cargo.lock");
    println!("cargo:rerun-if-changed=build.rs");
    let lock = std::fs::read_to_string("../Cargo.lock").unwrap_or_default();
    // `name = "wasmtime"` followed by its `version = "…"` line.
    let version = lock
        .split("[[package]]")
        .find(|package| package.lines().any(|line| line.trim() == "name = \"wasmtime\""))
        .and_then(|package| package.lines().find_map(|line| line.trim().strip_prefix("version = \"")?.strip_suffix('"')))
        .unwrap_or("unknown");
    println!("cargo:rustc-env=HOST_WASMTIME_VERSION={version}");
}
