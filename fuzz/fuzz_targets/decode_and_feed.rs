//! Decode and feed into the engine: arbitrary or mutated real `qrinfo`/`mnlistdiff` payloads
//! are decoded and, when they decode, fed to an engine (fresh, or holding real lists). Feeding
//! must never panic, and an engine that accepted something must still save and load.
#![no_main]

#[path = "common.rs"]
mod common;

use dash_qrsync::store::state;
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::Decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let b = common::base();
    let mut engine = match mode % 4 {
        0 | 2 => b.fresh.clone(),
        _ => b.synced.clone(),
    };
    let fed = match mode % 4 {
        0 => QrInfo::from_bytes(rest, common::P)
            .ok()
            .map(|q| engine.feed_qrinfo(&q, &b.headers).is_ok()),
        1 => MnListDiff::from_bytes(rest, common::P)
            .ok()
            .map(|d| engine.feed_mnlistdiff(&d, &b.headers).is_ok()),
        2 => QrInfo::from_bytes(&common::mutate(&b.qrinfo, rest), common::P)
            .ok()
            .map(|q| engine.feed_qrinfo(&q, &b.headers).is_ok()),
        _ => MnListDiff::from_bytes(&common::mutate(&b.diff, rest), common::P)
            .ok()
            .map(|d| engine.feed_mnlistdiff(&d, &b.headers).is_ok()),
    };
    if fed == Some(true) {
        let blob = state::encode(&b.headers, &engine);
        state::decode(&b.cfg, &blob).expect("an engine that accepted data saves and loads");
    }
});
