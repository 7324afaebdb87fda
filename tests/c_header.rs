//! The checked-in C header `include/dash_qrsync.h` must equal what cbindgen generates from
//! `src/c_api/` with `ffi/cbindgen.toml`. cbindgen is a dev-dependency: app builds never run it.
//!
//! Refresh the header with `scripts/update-c-header.sh` (it runs this test with
//! `DQS_UPDATE_HEADER=1`, the only case in which the test writes into the source tree).

use std::path::PathBuf;

fn generate() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("ffi/cbindgen.toml"))
        .expect("ffi/cbindgen.toml is valid");
    // cbindgen follows the `mod` declarations of src/c_api/mod.rs (and their `cfg`s).
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/c_api/mod.rs"))
        .generate()
        .expect("cbindgen generates the C header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn checked_in_header_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/dash_qrsync.h");
    let generated = generate();
    if std::env::var_os("DQS_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("include/ is writable");
    }
    let checked_in = std::fs::read_to_string(&path).expect("include/dash_qrsync.h exists");
    assert!(
        generated == checked_in,
        "include/dash_qrsync.h is stale: run scripts/update-c-header.sh and commit it"
    );
    assert!(checked_in.contains("const char *dqs_version(void);"));
}
