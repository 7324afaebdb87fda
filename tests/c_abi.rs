//! The C ABI from C: `ffi/tests/test_c_api.c` is compiled with gcc against
//! `include/dash_qrsync.h`, linked to the library built for this test run (static and shared),
//! run, and run again under valgrind memcheck when valgrind is installed. Also builds
//! `ffi/examples/sync.c`.
#![cfg(feature = "simnet")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Link flags a static link needs (`cargo rustc -- --print native-static-libs`).
const NATIVE_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

fn lib_dir() -> PathBuf {
    // target/debug/deps/c_abi-HASH → the library of the same build is in target/debug/deps.
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn gcc(src: &Path, out: &Path, shared: bool) {
    let lib = lib_dir();
    let mut cmd = Command::new("gcc");
    cmd.args([
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-g",
        "-DDQS_SIMNET",
    ])
    .arg("-I")
    .arg(root().join("include"))
    .arg(src)
    .arg("-o")
    .arg(out);
    if shared {
        cmd.arg(format!("-L{}", lib.display()))
            .arg("-ldash_qrsync")
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-lpthread");
    } else {
        cmd.arg(lib.join("libdash_qrsync.a")).args(NATIVE_LIBS);
    }
    let o = cmd.output().expect("gcc runs");
    assert!(
        o.status.success(),
        "gcc failed for {}:\n{}",
        src.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn run(bin: &Path, valgrind: bool) -> String {
    let mut cmd = if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "--error-exitcode=3",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
            "-q",
        ])
        .arg(bin);
        c
    } else {
        Command::new(bin)
    };
    // `cargo test` puts target/debug first in LD_LIBRARY_PATH, which overrides the binary's
    // rpath: the shared run would load target/debug/libdash_qrsync.so, left by the last
    // `cargo build` (possibly older code), instead of the one built with this test in deps/.
    cmd.env_remove("LD_LIBRARY_PATH");
    let o = cmd.output().expect("test program runs");
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{} failed ({:?}):\n{stdout}\n{}",
        bin.display(),
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dqs-c-abi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn c_tests_pass_with_static_and_shared_linking() {
    let src = root().join("ffi/tests/test_c_api.c");
    for shared in [false, true] {
        let bin = tmp(if shared { "test_shared" } else { "test_static" });
        gcc(&src, &bin, shared);
        let out = run(&bin, false);
        assert!(out.contains("all C tests passed"), "{out}");
    }
}

#[test]
fn c_tests_are_clean_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("!! SKIPPED: valgrind is not installed; memcheck of the C tests did not run");
        return;
    }
    let bin = tmp("test_valgrind");
    gcc(&root().join("ffi/tests/test_c_api.c"), &bin, true);
    let out = run(&bin, true);
    assert!(out.contains("all C tests passed"), "{out}");
}

#[test]
fn the_c_example_builds() {
    let bin = tmp("sync_example");
    gcc(&root().join("ffi/examples/sync.c"), &bin, false);
    // Without arguments it syncs the built-in simulated network and exits 0 when synced.
    let out = run(&bin, false);
    assert!(out.contains("synced"), "{out}");
    // The simulator's locks, verified by the example through the C ABI.
    assert!(out.contains("ChainLock of block"), "{out}");
    assert!(
        out.contains(": valid\nnewest InstantSend lock: valid"),
        "{out}"
    );
}
