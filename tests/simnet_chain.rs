//! The simulated network's chain: deterministic, and everything it serves validates with the
//! library's own header chain and engine exactly as real data does.
#![cfg(feature = "simnet")]

use dash_qrsync::chain::{HeaderChain, HeaderIndex};
use dash_qrsync::engine::{Engine, EngineConfig, LockVerdict, SyncProfile};
use dash_qrsync::simnet::{SimChain, SimConfig};
use dash_qrsync::wire::qrinfo::GetQrInfo;
use dash_qrsync::wire::version::OUR_PROTOCOL_VERSION as P;
use dash_qrsync::wire::Encode;
use std::sync::OnceLock;

fn regtest() -> &'static SimChain {
    static CHAIN: OnceLock<SimChain> = OnceLock::new();
    CHAIN.get_or_init(|| SimChain::generate(SimConfig::regtest(7)))
}

fn headers_of(chain: &SimChain) -> HeaderChain {
    let mut hc = HeaderChain::from_genesis(chain.network());
    let hs: Vec<_> = (1..=chain.tip_height())
        .map(|h| chain.block(h).unwrap().header)
        .collect();
    for batch in hs.chunks(2000) {
        hc.connect(batch).expect("simnet headers are valid");
    }
    hc
}

fn engine_cfg(chain: &SimChain) -> EngineConfig {
    EngineConfig::new(chain.config.params.clone())
}

#[test]
fn same_seed_same_bytes_other_seed_other_chain() {
    let a = regtest();
    let b = SimChain::generate(SimConfig::regtest(7));
    assert_eq!(a.tip_height(), b.tip_height());
    assert_eq!(
        a.block(a.tip_height()).unwrap().hash,
        b.block(b.tip_height()).unwrap().hash
    );
    let tip = a.block(a.tip_height()).unwrap().hash;
    let da = a
        .build_mnlistdiff(&dash_qrsync::Hash256::ZERO, &tip, P)
        .unwrap();
    let db = b
        .build_mnlistdiff(&dash_qrsync::Hash256::ZERO, &tip, P)
        .unwrap();
    assert_eq!(da.to_bytes(P), db.to_bytes(P));
    let c = SimChain::generate(SimConfig {
        blocks: 40,
        ..SimConfig::regtest(8)
    });
    assert_ne!(c.block(40).unwrap().hash, a.block(40).unwrap().hash);
}

#[test]
fn the_header_chain_accepts_every_simnet_header() {
    let chain = regtest();
    let hc = headers_of(chain);
    assert_eq!(
        hc.tip(),
        (
            chain.tip_height(),
            chain.block(chain.tip_height()).unwrap().hash
        )
    );
}

#[test]
fn qrinfo_then_missing_lists_validates_every_active_quorum() {
    let chain = regtest();
    let hc = headers_of(chain);
    let mut engine = Engine::new(engine_cfg(chain));
    let tip = chain.block(chain.tip_height()).unwrap().hash;
    let q = chain
        .build_qrinfo(
            &GetQrInfo {
                base_block_hashes: Vec::new(),
                block_request_hash: tip,
                extra_share: true,
            },
            P,
        )
        .expect("enough history");
    let out = engine
        .feed_qrinfo(&q, &hc)
        .expect("simnet qrinfo validates");
    assert!(!out.quorums_validated.is_empty());
    // Fetch what is still missing with getmnlistd, as the sync will.
    for _ in 0..3 {
        let missing = engine.missing(&hc);
        if missing.is_empty() {
            break;
        }
        for req in engine.mnlistdiff_requests(&missing, &hc) {
            let d = chain
                .build_mnlistdiff(&req.base_block_hash, &req.block_hash, P)
                .unwrap();
            engine
                .feed_mnlistdiff(&d, &hc)
                .expect("simnet diff validates");
        }
    }
    let missing = engine.missing(&hc);
    assert!(missing.is_empty(), "{missing:?}");
    let active = chain.active_set(chain.tip_height());
    for (t, h) in active.keys() {
        assert!(
            engine.quorum(*t, h).is_some(),
            "type {t} quorum {h} not validated"
        );
    }
    let rotated = active
        .keys()
        .filter(|(t, _)| *t == chain.config.llmq().instantsend)
        .count();
    eprintln!(
        "active quorums at tip: {} ({rotated} rotated); validated {}",
        active.len(),
        engine.validated_count()
    );
    assert!(rotated >= 2, "{rotated}");
    assert!(active.len() >= 4, "{}", active.len());

    // The tip's ChainLock and every InstantSend lock verify.
    let tip_h = chain.tip_height();
    let cl = chain.clsig(tip_h).expect("tip is chain-locked");
    assert!(
        matches!(engine.verify_clsig(cl, &hc), LockVerdict::Valid { .. }),
        "{:?}",
        engine.verify_clsig(cl, &hc)
    );
    let recent: Vec<_> = chain
        .islocks()
        .iter()
        .filter(|(h, _)| *h + 24 > tip_h)
        .collect();
    assert!(!recent.is_empty());
    for (_, lock) in recent {
        let v = engine.verify_islock(lock, &hc, tip_h);
        assert!(matches!(v, LockVerdict::Valid { .. }), "{v:?}");
    }
    let _ = hc.hash_at(0);
}

#[test]
fn mainnet_scale_preset_has_mainnet_shape() {
    let started = std::time::Instant::now();
    let chain = SimChain::generate(SimConfig::mainnet_scale(1));
    let elapsed = started.elapsed();
    let tip = chain.tip_height();
    let list = chain.list_at(tip).unwrap();
    let evo = list.entries.values().filter(|e| e.mn_type == 1).count();
    eprintln!(
        "mainnet-scale: {} blocks, {} masternodes ({evo} evonodes), generated in {:.1} s",
        tip,
        list.entries.len(),
        elapsed.as_secs_f64()
    );
    assert!(list.entries.len() >= 3_500, "{}", list.entries.len());
    assert!(evo >= 400, "{evo}");
    // Active quorums per type equal mainnet's: 24 × LLMQ_50_60, 4 × LLMQ_400_60,
    // 4 × LLMQ_400_85, 24 × LLMQ_100_67, 32 × LLMQ_60_75.
    let mut per_type = std::collections::BTreeMap::new();
    for (t, _) in list.quorums.keys() {
        *per_type.entry(*t).or_insert(0) += 1;
    }
    assert_eq!(
        per_type,
        std::collections::BTreeMap::from([(1u8, 24), (2, 4), (3, 4), (4, 24), (5, 32)])
    );
    // Quorum sizes are mainnet's.
    for c in list.quorums.values() {
        let p = dash_qrsync::quorum::params::params_of(c.llmq_type).unwrap();
        assert_eq!(c.valid_members.len(), p.size as usize);
        assert!(c.valid_members.count_ones() >= p.min_size as usize);
    }
}

/// The cold-start plan, computed from the tip height alone, covers every list the engine needs:
/// after its chain of diffs and its qrinfo nothing is missing, every active quorum is validated,
/// exactly one full list is downloaded, and the qrinfo's diffs are based on lists of the chain.
#[test]
fn the_cold_start_plan_needs_no_second_round() {
    let chain = regtest();
    let hc = headers_of(chain);
    let mut engine = Engine::new(engine_cfg(chain));
    let (tip_height, tip) = hc.tip();
    let plan = engine.cold_start_plan(&hc, tip_height, tip);
    assert!(!plan.diffs.is_empty());
    let from_genesis = plan
        .diffs
        .iter()
        .filter(|d| d.base_block_hash.is_zero())
        .count();
    assert_eq!(from_genesis, 1, "one full list");
    for w in plan.diffs.windows(2) {
        assert_eq!(w[1].base_block_hash, w[0].block_hash, "a chain");
    }
    for b in &plan.qrinfo.base_block_hashes {
        assert!(plan.diffs.iter().any(|d| d.block_hash == *b));
    }
    for req in &plan.diffs {
        let d = chain
            .build_mnlistdiff(&req.base_block_hash, &req.block_hash, P)
            .expect("the simulated node answers");
        engine.feed_mnlistdiff(&d, &hc).expect("valid link");
    }
    // Operator keys decoded by one feed are kept for the next ones.
    assert!(engine.cached_keys() > 0);
    let q = chain.build_qrinfo(&plan.qrinfo, P).expect("qrinfo");
    for d in q.diffs_in_application_order() {
        assert!(!d.base_block_hash.is_zero(), "no qrinfo diff from genesis");
    }
    engine.feed_qrinfo(&q, &hc).expect("valid qrinfo");
    let missing = engine.missing(&hc);
    assert!(missing.is_empty(), "{missing:?}");
    let active = chain.active_set(tip_height);
    for (t, h) in active.keys() {
        let base = hc.height_of(h).expect("base block in the chain");
        if engine
            .config()
            .params
            .is_type_enabled(*t, base, &|h| hc.version_and_time_at(h))
        {
            assert!(
                engine.quorum(*t, h).is_some(),
                "quorum {t}/{h} not validated"
            );
        }
    }
}

/// Pruning bounds the engine: commitments that left the tip's quorum set are forgotten, old
/// validated ones too once past the retention, active ones and the lists they need stay, under
/// both profiles.
#[test]
fn pruning_forgets_what_left_the_active_set() {
    let chain = regtest();
    let hc = headers_of(chain);
    for profile in [SyncProfile::Full, SyncProfile::Wallet] {
        let mut cfg = engine_cfg(chain);
        cfg.profile = profile;
        let mut engine = Engine::new(cfg);
        let (tip_height, tip) = hc.tip();
        let plan = engine.cold_start_plan(&hc, tip_height, tip);
        for req in &plan.diffs {
            let d = chain
                .build_mnlistdiff(&req.base_block_hash, &req.block_hash, P)
                .unwrap();
            engine.feed_mnlistdiff(&d, &hc).unwrap();
        }
        let q = chain.build_qrinfo(&plan.qrinfo, P).unwrap();
        engine.feed_qrinfo(&q, &hc).unwrap();
        assert!(engine.missing(&hc).is_empty());
        let active = chain.active_set(tip_height);
        let validated_before = engine.validated_count();
        engine.prune_with_retention(4, 0);
        assert!(
            engine.missing(&hc).is_empty(),
            "{profile:?}: pruning created needs"
        );
        let wanted = |t: u8| engine.config().wants_type(t);
        let active_validated = active
            .keys()
            .filter(|(t, h)| wanted(*t) && engine.quorum(*t, h).is_some())
            .count();
        assert_eq!(
            engine.validated_count(),
            active_validated,
            "{profile:?}: only active quorums remain"
        );
        assert!(validated_before >= engine.validated_count());
        let tip_keys: std::collections::HashSet<_> = active.keys().copied().collect();
        assert!(engine.pending().iter().all(|k| tip_keys.contains(k)));
    }
}
