//! The checked-in C header must equal the one build.rs generates from `src/c_api/`.

#[test]
fn checked_in_header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/dash_qrsync.h"));
    let checked_in = include_str!("../include/dash_qrsync.h");
    assert!(
        generated == checked_in,
        "include/dash_qrsync.h is stale: run `DQS_UPDATE_HEADER=1 cargo build` and commit it"
    );
    assert!(checked_in.contains("const char *dqs_version(void);"));
}
