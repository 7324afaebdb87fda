//! Shared helpers for the integration tests: locating the real-network vectors.
#![allow(dead_code)]

pub mod expected;
pub mod headers;
#[cfg(feature = "simnet")]
pub mod recorder;
#[cfg(feature = "simnet")]
pub mod simnet;

use std::path::PathBuf;

/// The vectors directory: `$DASH_QRSYNC_VECTORS`, else `../shared/vectors` next to the crate.
/// Returns None — after printing a loud notice — when it is absent, so the caller can skip;
/// with `CI=true` a missing directory fails the test instead (CI must never pass by skipping).
/// `tests/vectors_present.rs` prints the skipped groups in the normal `cargo test` output.
pub fn vectors_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("DASH_QRSYNC_VECTORS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"),
    };
    if dir.join("manifest.json").is_file() {
        Some(dir)
    } else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true: real-network vectors not found at {} — set DASH_QRSYNC_VECTORS",
                dir.display()
            );
        }
        eprintln!(
            "\n*** SKIPPED: real-network vectors not found at {} — set DASH_QRSYNC_VECTORS ***\n",
            dir.display()
        );
        None
    }
}

/// Reads a vector file; `*.hex` files are hex text (whitespace ignored).
pub fn read_vector(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    let path = dir.join(rel);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if rel.ends_with(".hex") {
        let text: String = String::from_utf8(data)
            .expect("hex file is text")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        hex::decode(text).expect("valid hex")
    } else {
        data
    }
}

/// The payload of a vector: full P2P messages (`*.msg.hex`) have their 24-byte header removed
/// after checking its length and checksum.
pub fn read_payload(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    let data = read_vector(dir, rel);
    if rel.ends_with(".msg.hex") {
        let len = u32::from_le_bytes(data[16..20].try_into().unwrap()) as usize;
        let payload = data[24..].to_vec();
        assert_eq!(payload.len(), len, "{rel}: frame length");
        let sum = dash_qrsync::hashes::sha256d(&payload);
        assert_eq!(&sum.0[..4], &data[20..24], "{rel}: frame checksum");
        payload
    } else {
        data
    }
}
