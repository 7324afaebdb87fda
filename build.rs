//! Generates the C header with cbindgen from `src/c_api/` into `$OUT_DIR/dash_qrsync.h`.
//!
//! The checked-in copy `include/dash_qrsync.h` is compared with it by `tests/c_header.rs`, so CI
//! fails on drift. To refresh the checked-in header run `DQS_UPDATE_HEADER=1 cargo build`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/c_api");
    println!("cargo:rerun-if-changed=ffi/cbindgen.toml");
    println!("cargo:rerun-if-env-changed=DQS_UPDATE_HEADER");

    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let config = cbindgen::Config::from_file(crate_dir.join("ffi/cbindgen.toml"))
        .expect("ffi/cbindgen.toml is valid");

    // cbindgen follows the `mod` declarations of src/c_api/mod.rs (and their `cfg`s).
    let builder = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/c_api/mod.rs"));
    let bindings = builder
        .generate()
        .expect("cbindgen could not generate the C header");
    let generated = out_dir.join("dash_qrsync.h");
    bindings.write_to_file(&generated);
    if std::env::var_os("DQS_UPDATE_HEADER").is_some() {
        std::fs::copy(&generated, crate_dir.join("include/dash_qrsync.h"))
            .expect("include/ is writable");
    }
}
