//! Says, in the normal `cargo test` output (this test has no harness, so nothing captures it),
//! which groups of real-data tests run and which are skipped because their vectors are absent;
//! with `CI=true` a missing group fails the run.

use std::path::PathBuf;

fn main() {
    let dir = match std::env::var_os("DASH_QRSYNC_VECTORS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"),
    };
    let groups = [
        ("mainnet", "mainnet vectors: mnlistdiff, qrinfo, headers"),
        (
            "testnet",
            "testnet vectors: mnlistdiff, qrinfo, headers, locks",
        ),
        ("locks", "real ChainLocks and InstantSend locks"),
        ("checkpoints", "checkpoint headers"),
        (
            "core-regtest",
            "Dash Core v23.1 regtest captures (core_conformance)",
        ),
    ];
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let (mut present, mut skipped) = (0, 0);
    for (sub, what) in groups {
        let p = dir.join(sub);
        if p.is_dir() {
            present += 1;
            println!("vectors: {sub}: present at {}", p.display());
        } else {
            skipped += 1;
            println!(
                "*** SKIPPED: {what}: {} not found — set DASH_QRSYNC_VECTORS ***",
                p.display()
            );
        }
    }
    let failed = if ci { skipped } else { 0 };
    println!("vectors: {present} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        eprintln!("CI=true: every vector group must be present");
        std::process::exit(1);
    }
}
