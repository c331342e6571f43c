//! Link options for the `reoffending` binary only (`cargo::rustc-link-arg-bins`): no
//! dependency is rebuilt for them, and the library is linked by its users as they choose.
//!
//! polars-core is compiled at opt-level 0 to keep a clean build short (see `Cargo.toml`), which
//! leaves many identical copies of its small generic functions and one dynamic relocation per
//! pointer in its tables. Two standard linker options take much of that back:
//!
//! - `--icf=safe` folds functions whose machine code is identical, except those whose address
//!   LLVM records as significant (`.llvm_addrsig`), so no two functions compared by address merge;
//! - `-z pack-relative-relocs` stores the relative relocations of a position-independent
//!   executable as a compact bitmap (`DT_RELR`), which glibc 2.36 or later loads.
//!
//! Both are understood by LLD, which rustc uses by default on x86_64 Linux since 1.90. They are
//! passed only there, only when no other linker or link flag is configured, and the second only
//! when this machine's glibc can start the result; elsewhere the binary links as before, larger.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=RUSTC_LINKER");
    if default_lld() {
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=safe");
        if glibc_at_least(2, 36) {
            println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        }
    }
}

/// Whether the binary will be linked by rustc's own LLD: the x86_64 GNU/Linux target with
/// rustc 1.90 or later, no linker configured for the target and no link flags of the user's.
fn default_lld() -> bool {
    if env::var("TARGET").as_deref() != Ok("x86_64-unknown-linux-gnu") {
        return false;
    }
    if env::var_os("RUSTC_LINKER").is_some() {
        return false;
    }
    if env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| flags.contains("link")) {
        return false;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let Ok(out) = Command::new(rustc).arg("-V").output() else {
        return false;
    };
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let text = String::from_utf8_lossy(&out.stdout);
    version_at_least(text.split_whitespace().nth(1).unwrap_or_default(), 1, 90)
}

/// Whether this machine's C library is glibc of at least this version (`getconf
/// GNU_LIBC_VERSION` prints e.g. "glibc 2.36").
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    version_at_least(
        text.trim().strip_prefix("glibc ").unwrap_or_default(),
        major,
        minor,
    )
}

/// Whether a dotted version ("1.95.0", "2.36") is at least `major.minor`.
fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}
