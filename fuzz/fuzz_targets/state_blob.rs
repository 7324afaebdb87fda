//! The saved-state decoder (`store::state::decode`): arbitrary bytes, and a real state blob with
//! byte flips, with and without a recomputed checksum (so mutations reach the layers). A blob
//! that decodes must re-encode to one that decodes again.
#![no_main]

#[path = "common.rs"]
mod common;

use dash_qrsync::store::state;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn real_blob() -> &'static Vec<u8> {
    static BLOB: OnceLock<Vec<u8>> = OnceLock::new();
    BLOB.get_or_init(|| {
        let b = common::base();
        state::encode(&b.headers, &b.synced)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let cfg = &common::base().cfg;
    let blob = match mode % 3 {
        0 => rest.to_vec(),
        m => {
            let mut b = common::mutate(real_blob(), rest);
            if m == 2 && b.len() >= 32 {
                let body_len = b.len() - 32;
                let sum = dash_qrsync::hashes::sha256d(&b[..body_len]);
                b[body_len..].copy_from_slice(&sum.0);
            }
            b
        }
    };
    if let Ok(s) = state::decode(cfg, &blob) {
        let again = state::encode(&s.headers, &s.engine);
        state::decode(cfg, &again).expect("a re-encoded state decodes");
    }
});
