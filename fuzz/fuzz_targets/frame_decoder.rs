//! Arbitrary byte streams, split into arbitrary chunks, through the incremental frame decoder;
//! every complete frame is then decoded as a message.
#![no_main]

use dash_qrsync::wire::frame::FrameDecoder;
use dash_qrsync::wire::message::Message;
use dash_qrsync::Network;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let network = Network::ALL[(ctl & 3) as usize];
    let chunk = (ctl >> 2) as usize + 1;
    // Start with the right magic so the header checks are reached.
    let mut stream = network.magic().to_vec();
    stream.extend_from_slice(rest);
    let mut d = FrameDecoder::new(network);
    for c in stream.chunks(chunk) {
        if d.push(c).is_err() {
            return;
        }
        while let Ok(Some(raw)) = d.pop() {
            let _ = Message::from_raw(&raw, 70237);
        }
    }
});
