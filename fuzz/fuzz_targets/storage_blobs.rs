//! The storage envelope (`persist::Envelope::open`) and the decoders of the two inner blob kinds
//! (`HeaderChain::from_bytes`, `Engine::from_bytes`) on arbitrary bytes, as given or sealed as
//! a valid envelope of the kind (so the payload decoders see them). Opening never panics, an
//! opened blob re-wraps to the same bytes, and a decoded blob re-encodes to one that decodes.
#![no_main]

#[path = "common.rs"]
mod common;

use dash_qrsync::chain::HeaderChain;
use dash_qrsync::engine::Engine;
use dash_qrsync::persist::{BlobKind, Envelope};
use dash_qrsync::store::state;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let b = common::base();
    let net = b.cfg.network();
    let env = match mode % 5 {
        0 => Envelope::header_chain(net),
        1 => Envelope::engine(net, b.cfg.params.fingerprint()),
        2 => Envelope::state(net),
        3 => Envelope::segmented_state(net),
        _ => Envelope::header_segment(net),
    };
    let blob = if mode & 0x80 != 0 {
        env.wrap(rest)
    } else {
        rest.to_vec()
    };
    match env.open(&blob) {
        Ok(payload) => assert_eq!(env.wrap(payload), blob, "open/wrap round trip"),
        Err(e) => assert_eq!(e.kind(), env.kind(), "the error names the kind"),
    }
    match env.kind() {
        BlobKind::HeaderChain => {
            if let Ok(c) = HeaderChain::from_bytes(net, &blob) {
                assert_eq!(c.to_bytes(), blob, "a loaded chain saves to the same bytes");
            }
        }
        BlobKind::Engine => {
            if let Ok(e) = Engine::from_bytes(b.cfg.clone(), &blob) {
                Engine::from_bytes(b.cfg.clone(), &e.to_bytes()).expect("a re-encoded engine loads");
            }
        }
        BlobKind::State => {
            if let Ok(s) = state::decode(&b.cfg, &blob) {
                let again = state::encode(&s.headers, &s.engine);
                state::decode(&b.cfg, &again).expect("a re-encoded state decodes");
            }
        }
        // The segmented state's decoder on a store without segments: only a state whose chain
        // fits in its partial segment can load.
        BlobKind::SegmentedState => {
            let _ = state::decode_in(&b.cfg, &blob, &dash_qrsync::store::MemoryStore::new());
        }
        // Segments are opened by the segmented state's decoder only.
        BlobKind::HeaderSegment => {}
    }
});
