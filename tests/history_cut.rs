//! Issue #17, "the engine when history is cut": a client whose header chain starts near the tip
//! (a host-supplied start header) must still validate every active quorum whose base block,
//! work block, rotation lists or ChainLocks set lie before that start — by fetching the headers
//! below the start, linked by hash down from it — and must never validate a quorum from data it
//! cannot tie to that chain.
#![cfg(feature = "simnet")]

use dash_qrsync::chain::HeaderIndex;
use dash_qrsync::engine::select_non_rotated_quorum;
use dash_qrsync::simnet::server::{ServerConfig, SimServer};
use dash_qrsync::simnet::{SimChain, SimConfig, SimNode, SimService};
use dash_qrsync::store::MemoryStore;
use dash_qrsync::wire::header::BlockHeader;
use dash_qrsync::wire::locks::{ClSig, IsDLock};
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::qrinfo::{GetQrInfo, QrInfo};
use dash_qrsync::wire::Encode;
use dash_qrsync::{Client, Config, Hash256, LockStatus, Network};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

mod common;

/// The protocol version the client speaks (what its `verify_clsig` parses by).
const PROTOCOL: u32 = dash_qrsync::wire::version::OUR_PROTOCOL_VERSION;

use common::recorder::{synced, Recorder};

/// The regtest simulation with the ChainLocks type (LLMQ_TEST) keeping `active` quorums, so
/// that its active window spans that many DKG intervals (like LLMQ_400_85 on mainnet, whose
/// four quorums span 2,304 blocks).
fn sim_config(seed: u64, active: u32) -> SimConfig {
    let mut cfg = SimConfig::regtest(seed);
    // Masternode lists from height 2 (Core's `-dip3params=2:2`), so that every active quorum
    // of the longer window is a DIP-0003 one.
    cfg.params.set("dip3params", "2:2").unwrap();
    let mut llmq = cfg.params.llmq().clone();
    let cl = llmq.chainlocks;
    for p in llmq.types.iter_mut().filter(|p| p.llmq_type == cl) {
        p.signing_active_quorum_count = active;
        p.keep_old_connections = active + 1;
    }
    cfg.params = cfg
        .params
        .clone()
        .with_llmq(llmq)
        .expect("valid LLMQ configuration");
    cfg
}

struct Net {
    rt: tokio::runtime::Runtime,
    node: Arc<SimNode>,
    servers: Vec<SimServer>,
}

fn serve(node: Arc<SimNode>, services: Vec<Arc<dyn SimService>>) -> Net {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let servers = services
        .into_iter()
        .map(|s| {
            let sc = ServerConfig {
                announce_interval: Duration::from_millis(50),
                ..ServerConfig::default()
            };
            rt.block_on(SimServer::start(s, sc)).unwrap()
        })
        .collect();
    Net { rt, node, servers }
}

impl Net {
    fn shutdown(self) {
        for s in self.servers {
            self.rt.block_on(s.shutdown());
        }
    }
}

/// A client of `net` whose header chain starts at the simulated chain's block `start`.
fn client_from(net: &Net, cfg: &SimConfig, start: u32) -> (Client, Arc<Recorder>) {
    client_with_store(net, cfg, start, Arc::new(MemoryStore::new()))
}

fn client_with_store(
    net: &Net,
    cfg: &SimConfig,
    start: u32,
    store: Arc<MemoryStore>,
) -> (Client, Arc<Recorder>) {
    let (header, hash) = net
        .node
        .with_chain(|c| c.block(start).map(|b| (b.header, b.hash)))
        .unwrap();
    let mut c = Config::new(cfg.network());
    c.chain = cfg.params.clone();
    c.start_at_header(start, header, hash);
    c.peers = net.servers.iter().map(|s| s.addr()).collect();
    c.max_peers = c.peers.len();
    c.request_timeout = Duration::from_secs(3);
    c.connect_timeout = Duration::from_secs(3);
    let rec = Arc::new(Recorder::default());
    let client = Client::new(c, store, rec.clone()).unwrap();
    (client, rec)
}

/// What of the history before `start` the quorums active at the tip depend on.
#[derive(Debug, Default)]
struct Cut {
    /// Non-rotated quorums based before the start.
    non_rotated_below: usize,
    /// Of those, quorums of the ChainLocks type.
    chainlocks_below: usize,
    /// Rotated quorums whose cycle's H − 3C list lies before the start.
    rotated_lists_below: usize,
    /// The quorum that signs the tip's ChainLock is based before the start.
    tip_signer_below: bool,
    /// The tip's ChainLock is signed by the set at a height before the start.
    signing_height_below: bool,
}

fn cut_at(chain: &SimChain, start: u32) -> Cut {
    let cfg = &chain.config;
    let tip = chain.tip_height();
    let cl = cfg.llmq().chainlocks;
    let mut cut = Cut::default();
    for (t, h) in chain.active_set(tip).keys() {
        let base = chain.height_of(h).unwrap();
        let p = cfg.params.llmq_params(*t).unwrap();
        if cfg.params.is_rotation_enabled(*t, base) {
            let cycle = base - base % p.dkg_interval;
            if cycle.saturating_sub(3 * p.dkg_interval + 8) < start {
                cut.rotated_lists_below += 1;
            }
        } else if base < start {
            cut.non_rotated_below += 1;
            if *t == cl {
                cut.chainlocks_below += 1;
            }
        }
    }
    let clsig = chain.clsig(tip).expect("the tip has a ChainLock");
    let list = chain.list_at(tip - 8).unwrap();
    let signer = select_non_rotated_quorum(&list, cl, &clsig.request_id()).unwrap();
    cut.tip_signer_below = chain.height_of(&signer).unwrap() < start;
    cut.signing_height_below = tip - 8 < start;
    cut
}

/// Syncs from `start` and checks: synced, every active quorum at the tip validated, every
/// validated quorum one the chain really formed (same key), the tip's ChainLock verified, and
/// then, after more blocks, the new tip's ChainLock too.
fn sync_from(seed: u64, active: u32, start_below_tip: u32) -> Cut {
    let cfg = sim_config(seed, active);
    let node = Arc::new(SimNode::new(cfg.clone()));
    let net = serve(node.clone(), vec![node.clone(), node.clone()]);
    let tip = node.tip_height();
    let start = tip - start_below_tip;
    let cut = node.with_chain(|c| cut_at(c, start));
    let (client, rec) = client_from(&net, &cfg, start);
    client.start().unwrap();
    assert!(
        rec.wait_for(synced, Duration::from_secs(60)),
        "start {start}: not synced: {:?}",
        rec.log.lock().unwrap().errors
    );
    assert_eq!(client.status().header_height, tip);
    let (active, genuine) = node.with_chain(|c| {
        let genuine: HashMap<_, _> = c
            .mined_commitments()
            .iter()
            .map(|(_, q)| ((q.llmq_type, q.quorum_hash), q.quorum_public_key))
            .collect();
        (c.active_set(tip), genuine)
    });
    for (t, h) in active.keys() {
        assert!(
            client.quorum(*t, h).is_some(),
            "start {start}: active quorum type {t} {h} not validated; errors {:?}",
            rec.log.lock().unwrap().errors
        );
    }
    for q in &rec.log.lock().unwrap().quorums {
        assert_eq!(
            genuine.get(&(q.llmq_type, q.quorum_hash)),
            Some(&q.public_key),
            "start {start}: reported quorum {} is not one the chain formed",
            q.quorum_hash
        );
    }
    // The tip's ChainLock, signed by the quorum the rules select from the set at tip − 8.
    let (clsig, signer) = node.with_chain(|c| {
        let cl = c.clsig(tip).unwrap().clone();
        let list = c.list_at(tip - 8).unwrap();
        let signer = select_non_rotated_quorum(&list, cfg.llmq().chainlocks, &cl.request_id());
        (cl, signer.unwrap())
    });
    match client.verify_clsig(&clsig.to_bytes(PROTOCOL)).unwrap() {
        LockStatus::Valid { quorum_hash, .. } => assert_eq!(quorum_hash, signer),
        other => panic!("start {start}: tip ChainLock: {other:?}"),
    }
    // Below the start the client knows exactly the simulated chain's blocks.
    let lowest = (0..start)
        .rev()
        .take_while(|h| client.block_hash(*h).is_some())
        .last();
    if let Some(low) = lowest {
        for h in low..start {
            assert_eq!(
                client.block_hash(h),
                node.with_chain(|c| c.hash_at(h)),
                "start {start}: block {h}"
            );
        }
    }
    // Following the tip across a DKG window and a rotation cycle.
    node.mine(30);
    let new_tip = node.tip_height();
    assert!(
        rec.wait_for(
            |l| l.chainlocks.iter().any(|c| c.height == new_tip),
            Duration::from_secs(60)
        ),
        "start {start}: new tip ChainLock not verified"
    );
    client.stop();
    net.shutdown();
    cut
}

#[test]
fn start_four_blocks_below_the_tip_validates_every_active_quorum() {
    // Every active quorum is based before the start, the rotated cycles' lists (H − 3C, and
    // H − 4C for the previous cycle) lie far before it, and the tip's ChainLock is signed by
    // the set at tip − 8, before the start.
    let cut = sync_from(31, 6, 4);
    assert!(cut.non_rotated_below > 0, "{cut:?}");
    assert!(cut.chainlocks_below >= 6, "{cut:?}");
    assert!(cut.rotated_lists_below > 0, "{cut:?}");
    assert!(cut.tip_signer_below, "{cut:?}");
    assert!(cut.signing_height_below, "{cut:?}");
}

#[test]
fn start_a_cycle_below_the_tip_validates_every_active_quorum() {
    // A start between the bases of the active ChainLocks quorums: some above, some (with
    // their work blocks) below; rotated lists partly below.
    let cut = sync_from(32, 6, 40);
    assert!(cut.chainlocks_below > 0, "{cut:?}");
    assert!(cut.rotated_lists_below > 0, "{cut:?}");
    assert!(!cut.signing_height_below, "{cut:?}");
}

/// A peer on the trusted chain from `cut` up, but serving another chain's blocks before it:
/// headers, lists, and qrinfo diffs for the work blocks before `cut`.
struct ForkedBelow {
    honest: Arc<SimNode>,
    other: SimChain,
    cut: u32,
}

impl ForkedBelow {
    fn other_block(&self, hash: &Hash256) -> Option<u32> {
        self.other.height_of(hash).filter(|h| *h < self.cut)
    }
}

impl SimService for ForkedBelow {
    fn network(&self) -> Network {
        self.honest.network()
    }
    fn tip_height(&self) -> u32 {
        self.honest.tip_height()
    }
    fn hash_at(&self, height: u32) -> Option<Hash256> {
        if height < self.cut {
            self.other.hash_at(height)
        } else {
            self.honest.hash_at(height)
        }
    }
    fn height_of(&self, hash: &Hash256) -> Option<u32> {
        self.other_block(hash)
            .or_else(|| self.honest.height_of(hash).filter(|h| *h >= self.cut))
    }
    fn header(&self, height: u32) -> Option<BlockHeader> {
        if height < self.cut {
            self.other.block(height).map(|b| b.header)
        } else {
            self.honest.header(height)
        }
    }
    fn mnlistdiff(&self, base: &Hash256, block: &Hash256, p: u32) -> Option<MnListDiff> {
        if self.other_block(block).is_some() {
            return self.other.build_mnlistdiff(&Hash256::ZERO, block, p);
        }
        self.honest.mnlistdiff(base, block, p)
    }
    fn qrinfo(&self, request: &GetQrInfo, p: u32) -> Option<QrInfo> {
        let mut q = self.honest.qrinfo(request, p)?;
        let swap = |d: &mut MnListDiff| {
            let h = self.honest.height_of(&d.block_hash).unwrap_or(u32::MAX);
            if h < self.cut {
                if let Some(o) = self.other.hash_at(h) {
                    if let Some(fake) = self.other.build_mnlistdiff(&Hash256::ZERO, &o, p) {
                        *d = fake;
                    }
                }
            }
        };
        swap(&mut q.mn_list_diff_h);
        swap(&mut q.mn_list_diff_h_minus_c);
        swap(&mut q.mn_list_diff_h_minus_2c);
        swap(&mut q.mn_list_diff_h_minus_3c);
        if let Some(e) = q.extra_share.as_mut() {
            swap(&mut e.mn_list_diff_h_minus_4c);
        }
        q.mn_list_diff_list.iter_mut().for_each(swap);
        Some(q)
    }
    fn clsig(&self, height: u32) -> Option<ClSig> {
        self.honest.clsig(height)
    }
    fn isdlock(&self, inv_hash: &Hash256) -> Option<IsDLock> {
        self.honest.isdlock(inv_hash)
    }
}

#[test]
fn lists_before_the_start_that_are_not_on_the_trusted_chain_validate_nothing() {
    let cfg = sim_config(33, 6);
    let honest = Arc::new(SimNode::new(cfg.clone()));
    let tip = honest.tip_height();
    let start = tip - 4;
    // Another chain of the same network (other seed): its blocks before the start are what
    // the peer serves there.
    let mut other_cfg = cfg.clone();
    other_cfg.seed = 9_033;
    let other = SimChain::generate(other_cfg);
    assert_ne!(other.hash_at(start - 1), honest.hash_at(start - 1));
    let liar: Arc<dyn SimService> = Arc::new(ForkedBelow {
        honest: honest.clone(),
        other,
        cut: start,
    });
    let net = serve(honest.clone(), vec![liar]);
    let (client, rec) = client_from(&net, &cfg, start);
    client.start().unwrap();
    // The peer is caught (its headers before the start do not link to it) and, banned three
    // times, no longer dialled; or the sync settles without what it cannot prove.
    let settled = rec.wait_for(
        |l| {
            l.errors
                .iter()
                .filter(|e| e.kind == dash_qrsync::ErrorKind::PeerMisbehaved)
                .count()
                >= 3
                || synced(l)
        },
        Duration::from_secs(60),
    );
    assert!(settled, "errors: {:?}", rec.log.lock().unwrap().errors);
    std::thread::sleep(Duration::from_millis(300));
    client.stop();
    // Nothing validated depends on a list before the start: the served ones are not on the
    // trusted chain, and no header linking them to it exists.
    let requirements: BTreeMap<_, _> = honest.with_chain(|c| {
        c.mined_commitments()
            .iter()
            .map(|(_, q)| {
                let base = c.height_of(&q.quorum_hash).unwrap();
                let r = dash_qrsync::quorum::members::requirements(&cfg.params, q.llmq_type, base);
                ((q.llmq_type, q.quorum_hash), (q.quorum_public_key, r))
            })
            .collect()
    });
    let log = rec.log.lock().unwrap();
    // Caught by the linkage: its headers before the start do not lead up to the start.
    assert!(
        log.errors
            .iter()
            .any(|e| e.kind == dash_qrsync::ErrorKind::PeerMisbehaved
                && e.message.contains("not linked")),
        "errors: {:?}",
        log.errors
    );
    // Before the start the client holds nothing of the other chain.
    for h in 0..start {
        if let Some(b) = client.block_hash(h) {
            assert_eq!(Some(b), honest.hash_at(h), "block {h}");
        }
    }
    for q in &log.quorums {
        let (key, req) = requirements
            .get(&(q.llmq_type, q.quorum_hash))
            .expect("reported quorum exists on the trusted chain");
        assert_eq!(*key, q.public_key);
        assert!(
            req.list_heights.iter().all(|h| *h >= start),
            "quorum {} validated from lists {:?} before the start {start}",
            q.quorum_hash,
            req.list_heights
        );
    }
    // The case really occurred: active quorums needed lists before the start.
    let active = honest.with_chain(|c| c.active_set(tip));
    let needing_history = active
        .keys()
        .filter(|k| requirements[k].1.list_heights.iter().any(|h| *h < start))
        .count();
    assert!(needing_history > 0);
    for k in active.keys() {
        if requirements[k].1.list_heights.iter().any(|h| *h < start) {
            assert!(client.quorum(k.0, &k.1).is_none(), "{k:?} validated");
        }
    }
    drop(log);
    net.shutdown();
}

#[test]
fn restart_after_a_cut_sync_resumes_from_the_saved_state() {
    let cfg = sim_config(34, 6);
    let node = Arc::new(SimNode::new(cfg.clone()));
    let net = serve(node.clone(), vec![node.clone()]);
    let tip = node.tip_height();
    let start = tip - 4;
    let store = Arc::new(MemoryStore::new());
    let (client, rec) = client_with_store(&net, &cfg, start, store.clone());
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(60)));
    client.stop();
    drop(client);
    // The saved state loads (no CorruptState), and the resumed client validates the active
    // set again, fetching what it did not save (the headers and lists before the start).
    let (client, rec) = client_with_store(&net, &cfg, start, store);
    client.start().unwrap();
    assert!(rec.wait_for(synced, Duration::from_secs(60)));
    let log = rec.log.lock().unwrap();
    assert!(
        !log.errors
            .iter()
            .any(|e| e.kind == dash_qrsync::ErrorKind::CorruptState),
        "{:?}",
        log.errors
    );
    drop(log);
    for (t, h) in node.with_chain(|c| c.active_set(tip)).keys() {
        assert!(client.quorum(*t, h).is_some(), "type {t} {h} not validated");
    }
    let clsig = node.with_chain(|c| c.clsig(tip).unwrap().clone());
    assert!(matches!(
        client.verify_clsig(&clsig.to_bytes(PROTOCOL)).unwrap(),
        LockStatus::Valid { .. }
    ));
    client.stop();
    net.shutdown();
}

/// The engine alone, with a header chain started at `tip − 4`: the active quorums based before
/// the start are reported as unplaced (never validated); a list for a block before the start
/// is refused until the headers linking it to the start are held, and then accepted.
#[test]
fn engine_places_history_only_through_linked_headers() {
    use dash_qrsync::chain::HeaderChain;
    use dash_qrsync::engine::{Engine, EngineConfig, EngineError};
    let cfg = sim_config(35, 6);
    let chain = SimChain::generate(cfg.clone());
    let tip = chain.tip_height();
    let start = tip - 4;
    let mut headers = HeaderChain::new(cfg.network(), start, chain.block(start).unwrap().header);
    let above: Vec<BlockHeader> = (start + 1..=tip)
        .map(|h| chain.block(h).unwrap().header)
        .collect();
    headers.connect(&above).unwrap();
    let mut engine = Engine::new(EngineConfig::new(cfg.params.clone()));
    let p = dash_qrsync::wire::version::OUR_PROTOCOL_VERSION;
    let tip_hash = chain.hash_at(tip).unwrap();
    engine
        .feed_mnlistdiff(
            &chain
                .build_mnlistdiff(&Hash256::ZERO, &tip_hash, p)
                .unwrap(),
            &headers,
        )
        .unwrap();
    // Based before the start, except the one at start − 1 (its hash is the start's prev).
    let below: std::collections::BTreeSet<Hash256> = chain
        .active_set(tip)
        .keys()
        .map(|k| k.1)
        .filter(|h| chain.height_of(h).unwrap() + 1 < start)
        .collect();
    assert!(!below.is_empty());
    let m = engine.missing(&headers);
    assert_eq!(m.unplaced_bases, below);
    assert_eq!(engine.validated_count(), 0);
    // The list at a block before the start: refused while its header is not held.
    let work = start - 20;
    let work_hash = chain.hash_at(work).unwrap();
    let diff = chain
        .build_mnlistdiff(&Hash256::ZERO, &work_hash, p)
        .unwrap();
    assert_eq!(
        engine.feed_mnlistdiff(&diff, &headers).unwrap_err(),
        EngineError::UnknownBlock(work_hash)
    );
    // A header from another chain at that height does not link, so it is never held.
    let mut other_cfg = cfg.clone();
    other_cfg.seed = 9_035;
    let other = SimChain::generate(other_cfg);
    let forged: Vec<BlockHeader> = (work..start)
        .map(|h| other.block(h).unwrap().header)
        .collect();
    assert!(headers.connect_below(&forged, usize::MAX).is_err());
    assert_eq!(headers.below_anchor_len(), 0);
    // The real headers link: now the list is accepted, and the bases are placed.
    let real: Vec<BlockHeader> = (work..=start)
        .map(|h| chain.block(h).unwrap().header)
        .collect();
    assert_eq!(
        headers.connect_below(&real, usize::MAX).unwrap() as u32,
        start - work
    );
    assert_eq!(headers.lowest_height(), work);
    engine.feed_mnlistdiff(&diff, &headers).unwrap();
    let m = engine.missing(&headers);
    for h in &m.unplaced_bases {
        assert!(chain.height_of(h).unwrap() < work, "{h} placeable");
    }
}

/// How deep below the tip the client searches, from Core's mainnet LLMQ table (hand-derived):
/// LLMQ_400_85 keeps 4 quorums of a 576-block interval, mined by offset 48, so 6 · 576 + 48 +
/// 8 = 3,512; a wallet needs only LLMQ_400_60 (6 · 288 + 28 + 8 = 1,764) and the rotated
/// LLMQ_60_75 (6 · 288 + 50 + 8 = 1,786).
#[test]
fn history_depth_follows_the_llmq_table() {
    use dash_qrsync::engine::{Engine, EngineConfig, SyncProfile};
    let full = Engine::new(EngineConfig::for_network(Network::Mainnet));
    assert_eq!(full.history_depth(), 3_512);
    let mut cfg = EngineConfig::for_network(Network::Mainnet);
    cfg.profile = SyncProfile::Wallet;
    assert_eq!(Engine::new(cfg).history_depth(), 1_786);
}
