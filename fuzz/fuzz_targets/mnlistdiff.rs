//! `mnlistdiff` payloads at every protocol layout.
#![no_main]

use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::{Decode, Encode};
use libfuzzer_sys::fuzz_target;

const VERSIONS: [u32; 6] = [70218, 70225, 70227, 70228, 70229, 70230];

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, payload)) = data.split_first() else {
        return;
    };
    let p = VERSIONS[(ctl as usize) % VERSIONS.len()];
    if let Ok(d) = MnListDiff::from_bytes(payload, p) {
        let again = d.to_bytes(p);
        assert_eq!(MnListDiff::from_bytes(&again, p).ok(), Some(d));
    }
});
