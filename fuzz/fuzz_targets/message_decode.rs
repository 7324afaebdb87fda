//! Every known command (and an unknown one) at every protocol layout, on arbitrary payloads.
#![no_main]

use dash_qrsync::wire::message::{Message, KNOWN_COMMANDS};
use libfuzzer_sys::fuzz_target;

const VERSIONS: [u32; 8] = [70218, 70225, 70227, 70228, 70229, 70230, 70235, 70240];

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, payload)) = data.split_first() else {
        return;
    };
    let p = VERSIONS[(ctl & 7) as usize];
    let ci = (ctl >> 3) as usize;
    let command = KNOWN_COMMANDS.get(ci).copied().unwrap_or("unknowncmd");
    if let Ok(m) = Message::decode(command, payload, p) {
        // Whatever decodes must re-encode and decode to the same value.
        let again = m.encode_payload(p);
        let back = Message::decode(command, &again, p).expect("re-encoded message decodes");
        assert_eq!(back, m);
    }
});
