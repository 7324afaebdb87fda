//! The chain generator: deterministic from a seed, it produces real headers (X11, easy target),
//! coinbases with CbTx payloads computed from the simulated state, masternodes with real BLS
//! operator keys, quorum commitments formed with the library's own selection rules (so the
//! client checks exactly what it would check on mainnet), rotation snapshots, ChainLocks and
//! InstantSend locks.

use super::rng::Rng;
use crate::chain::{params as chain_params, pow, HeaderIndex};
use crate::engine::select_non_rotated_quorum;
use crate::hashes::{merkle_root, sha256d_parts, Hash256};
use crate::network::{ChainParams, Network};
use crate::quorum::bls::{sign_secure_aggregate, Scheme, SecretKey};
use crate::quorum::members;
use crate::quorum::params::LlmqConfig;
use crate::quorum::selection::{build_snapshot, modifier, quarters_from_snapshot};
use crate::quorum::verify::ListSource;
use crate::sml::{MasternodeList, QuorumKey};
use crate::wire::codec::{BitSet, Encode, Writer};
use crate::wire::commitment::FinalCommitment;
use crate::wire::header::BlockHeader;
use crate::wire::locks::{ClSig, IsDLock, OutPoint};
use crate::wire::qrinfo::QuorumSnapshot;
use crate::wire::sml_entry::{NetInfo, SmlEntry};
use crate::wire::tx::{BestChainLock, CbTx, Transaction, TxIn, TxOut};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Entries of a masternode list, shared between blocks while unchanged.
pub type Entries = BTreeMap<Hash256, Arc<SmlEntry>>;

/// How the masternode set changes over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Churn {
    /// A churn event happens every this many blocks (0 = never).
    pub every: u32,
    /// New registrations per event.
    pub registrations: usize,
    /// Service updates (new port) per event.
    pub updates: usize,
    /// PoSe bans per event.
    pub bans: usize,
    /// Revivals of banned masternodes per event.
    pub revivals: usize,
    /// Revocations (removal from the list) per event.
    pub revocations: usize,
}

/// Everything that determines a simulated chain.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed: the same config gives byte-identical chains.
    pub seed: u64,
    /// The chain parameters (network, activations, LLMQ types and their uses).
    pub params: ChainParams,
    /// Regular masternodes registered at [`SimConfig::masternodes_from`].
    pub masternodes: usize,
    /// Evonodes registered at [`SimConfig::masternodes_from`].
    pub evonodes: usize,
    /// The height at which the masternodes and evonodes register (1 = the first block; on a
    /// devnet at least 2, block 1 being the devnet's genesis). Below it the chain is cheap old
    /// history: headers and coinbases with an empty list, no churn, no DKG, no quorum, no lock.
    pub masternodes_from: u32,
    /// The height of the header a client should trust as its start (the long-chain presets'
    /// checkpoint, [`SimChain::checkpoint`]); `None` = clients start from genesis.
    pub checkpoint: Option<u32>,
    /// Heights above [`SimConfig::checkpoint`] of the trusted hashes the benchmark gives its
    /// clients (`Config::extra_checkpoints`); `None`: one every 576 blocks, as the built-in
    /// table's rows (`simnet::bench::SIM_CHECKPOINT_SPACING`).
    pub trusted_above_start: Option<Vec<u32>>,
    /// The tip height to generate (on a devnet block 1 is the devnet's genesis block, derived
    /// from [`ChainParams::devnet_name`] as Dash Core derives it).
    pub blocks: u32,
    /// Masternode churn.
    pub churn: Churn,
    /// Seconds between blocks.
    pub block_time: u32,
    /// InstantSend locks created per rotation cycle.
    pub islocks_per_cycle: usize,
    /// A deliberately bad signature in the chain itself (a dishonest DKG): every root, merkle
    /// proof and header stays consistent with it, so only BLS verification can reject it.
    pub bad_signature: Option<BadSignature>,
}

/// A commitment signed wrongly, kept in the chain (see [`SimConfig::bad_signature`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadSignature {
    /// Which signature is wrong (a valid point over another message).
    pub which: BadSigKind,
    /// The first commitment of this LLMQ type based at or above `from_height` gets it.
    pub llmq_type: u8,
    /// See `llmq_type`.
    pub from_height: u32,
}

/// Which signature of a commitment [`BadSignature`] breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadSigKind {
    /// `quorumSig`.
    QuorumSig,
    /// `membersSig`.
    MembersSig,
}

impl SimConfig {
    /// The network.
    pub fn network(&self) -> Network {
        self.params.network()
    }

    /// LLMQ types and their uses.
    pub fn llmq(&self) -> &LlmqConfig {
        self.params.llmq()
    }

    /// Small and fast: regtest LLMQ test types (LLMQ_TEST for ChainLocks, the rotated
    /// LLMQ_TEST_DIP0024 for InstantSend), 40 masternodes, a few hundred blocks crossing V20.
    pub fn regtest(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            params: ChainParams::new(Network::Regtest),
            masternodes: 32,
            evonodes: 8,
            masternodes_from: 1,
            checkpoint: None,
            trusted_above_start: None,
            blocks: 480,
            churn: Churn {
                every: 10,
                registrations: 1,
                updates: 1,
                bans: 1,
                revivals: 1,
                revocations: 0,
            },
            block_time: 150,
            islocks_per_cycle: 2,
            bad_signature: None,
        }
    }

    /// The regtest preset running Dash Core v24's V24 deployment as version bits
    /// ([`V24_VBPARAMS`], Core's own `vbparams` option with masternode signalling off): every
    /// block signals bit 12 until V24 is active, which it is from height 500 (started at 100,
    /// locked in at 200, held back by the minimum activation height). From then the coinbases
    /// carry CbTx version 4 and masternodes move to SML entries of version 3 with mixed extended
    /// addresses (IPv4, IPv6, Tor v3, and for evonodes Platform P2P and HTTPS with domain
    /// names): about half of them at activation, then every registration and service update.
    /// 600 blocks.
    pub fn v24(seed: u64) -> SimConfig {
        let mut params = ChainParams::new(Network::Regtest);
        params
            .set("vbparams", V24_VBPARAMS)
            .expect("a valid vbparams value");
        SimConfig {
            params,
            blocks: 600,
            ..SimConfig::regtest(seed)
        }
    }

    /// A small devnet named [`DEVNET_NAME`]: Dash Core's devnet LLMQ types (`llmq_devnet` for
    /// ChainLocks, the rotated `llmq_devnet_dip0024` for InstantSend, `llmq_devnet_platform` on
    /// the evonodes), every fork active from height 2 as on a devnet, 40 masternodes of which 8
    /// evonodes, 480 blocks.
    /// Block 1 is the devnet's own genesis block (as on any simulated devnet).
    pub fn devnet(seed: u64) -> SimConfig {
        SimConfig {
            params: devnet_params(),
            masternodes_from: 2,
            ..SimConfig::regtest(seed)
        }
    }

    /// Mainnet-sized: a devnet (named [`DEVNET_NAME`]) running the mainnet LLMQ types and
    /// sizes, 3,600 masternodes of which 450 evonodes, and enough history for every active
    /// quorum and H − 4C.
    pub fn mainnet_scale(seed: u64) -> SimConfig {
        let params = devnet_params()
            .with_llmq(LlmqConfig::for_network(Network::Mainnet))
            .expect("mainnet's LLMQ types are a valid devnet configuration");
        SimConfig {
            seed,
            params,
            masternodes: 3_150,
            evonodes: 450,
            masternodes_from: 1,
            checkpoint: None,
            trusted_above_start: None,
            blocks: MAINNET_SCALE_BLOCKS,
            churn: Churn {
                every: 12,
                registrations: 2,
                updates: 2,
                bans: 1,
                revivals: 1,
                revocations: 1,
            },
            block_time: 150,
            islocks_per_cycle: 4,
            bad_signature: None,
        }
    }

    /// A long chain whose client starts from a trusted header `back` blocks below the tip
    /// ([`SimConfig::checkpoint`]): [`LONG_CHAIN_BELOW_CHECKPOINT`] blocks of history below the
    /// checkpoint, then old history without masternodes (headers and coinbases only, cheap to
    /// generate), then, for the newest [`MAINNET_SCALE_BLOCKS`] blocks, the
    /// [`SimConfig::mainnet_scale`] network (its masternodes register at the start of that
    /// part, its quorums and locks follow). `back` below that part's length is raised to it.
    /// Presets: [`LONG_30D_BLOCKS`] and [`LONG_1Y_BLOCKS`].
    pub fn long_chain(seed: u64, back: u32) -> SimConfig {
        let back = back.max(MAINNET_SCALE_BLOCKS);
        let blocks = back + LONG_CHAIN_BELOW_CHECKPOINT;
        SimConfig {
            blocks,
            masternodes_from: blocks - MAINNET_SCALE_BLOCKS + 1,
            checkpoint: Some(LONG_CHAIN_BELOW_CHECKPOINT),
            ..SimConfig::mainnet_scale(seed)
        }
    }
}

/// The [`SimConfig::v24`] preset's V24 deployment, as Dash Core's `vbparams` option:
/// `v24:START:END:MIN_ACTIVATION_HEIGHT:WINDOW:THRESHOLD:THRESHOLD_MIN:FALLOFF:USE_EHF` —
/// started from the first period, never timing out, active no lower than 500, periods of 100
/// blocks needing 80 signals, no EHF (the activation is visible in block versions).
pub const V24_VBPARAMS: &str = "v24:0:999999999999:500:100:80:60:5:0";

/// The name of the simulated devnets (`devnet=qrsync-simnet`): their block 1 is the genesis
/// block Dash Core derives from it (`devnet-qrsync-simnet`).
pub const DEVNET_NAME: &str = "qrsync-simnet";

fn devnet_params() -> ChainParams {
    let mut p = ChainParams::new(Network::Devnet);
    p.set("devnet", DEVNET_NAME).expect("a valid devnet name");
    p
}

/// Blocks of the [`SimConfig::mainnet_scale`] network (and of the recent part of the
/// [`SimConfig::long_chain`] presets).
pub const MAINNET_SCALE_BLOCKS: u32 = 2_600;
/// Blocks between a long chain's checkpoint and its tip for a client 30 days behind (576 blocks
/// a day at 2.5 min).
pub const LONG_30D_BLOCKS: u32 = 30 * 576;
/// Blocks between a long chain's checkpoint and its tip for a client a year behind.
pub const LONG_1Y_BLOCKS: u32 = 365 * 576;
/// History a long chain has below its checkpoint (one day).
pub const LONG_CHAIN_BELOW_CHECKPOINT: u32 = 576;

/// One generated block.
#[derive(Debug, Clone)]
pub struct SimBlock {
    /// The header.
    pub header: BlockHeader,
    /// Its X11 hash.
    pub hash: Hash256,
    /// Transactions: the coinbase first, then quorum commitments.
    pub txs: Vec<Transaction>,
    /// The coinbase's CbTx payload (None for genesis).
    pub cbtx: Option<CbTx>,
    /// The masternode list after this block.
    pub entries: Arc<Entries>,
    sml_root: Hash256,
}

/// A generated chain with every secret needed to extend it and sign for it.
#[derive(Clone)]
pub struct SimChain {
    /// What it was generated from.
    pub config: SimConfig,
    blocks: Vec<SimBlock>,
    index: HashMap<Hash256, u32>,
    /// Commitments in mining order: (mined height, commitment).
    mined: Vec<(u32, Arc<FinalCommitment>)>,
    quorum_keys: HashMap<QuorumKey, SecretKey>,
    operator_keys: HashMap<Hash256, SecretKey>,
    registered_at: HashMap<Hash256, u32>,
    snapshots: BTreeMap<(u8, u32), QuorumSnapshot>,
    clsigs: BTreeMap<u32, ClSig>,
    islocks: Vec<(u32, IsDLock)>,
    /// Branch counter: bumped by [`SimChain::reorg`] so that replacement blocks differ.
    branch: u64,
    /// Whether the [`SimConfig::bad_signature`] commitment was made.
    bad_signed: bool,
}

impl std::fmt::Debug for SimChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimChain")
            .field("network", &self.config.network())
            .field("tip", &self.tip_height())
            .field("commitments", &self.mined.len())
            .finish()
    }
}

/// Lists prepared for one member computation (the `ListSource` of the generator).
struct Prepared<'a> {
    lists: HashMap<u32, MasternodeList>,
    snapshots: &'a BTreeMap<(u8, u32), QuorumSnapshot>,
    llmq_type: u8,
}

impl ListSource for Prepared<'_> {
    fn list_at(&self, height: u32) -> Option<&MasternodeList> {
        self.lists.get(&height)
    }
    fn snapshot_at(&self, cycle_height: u32) -> Option<&QuorumSnapshot> {
        self.snapshots.get(&(self.llmq_type, cycle_height))
    }
}

impl HeaderIndex for SimChain {
    fn height_of(&self, hash: &Hash256) -> Option<u32> {
        self.index.get(hash).copied()
    }
    fn hash_at(&self, height: u32) -> Option<Hash256> {
        self.blocks.get(height as usize).map(|b| b.hash)
    }
    fn merkle_root_of(&self, hash: &Hash256) -> Option<Hash256> {
        self.block_by_hash(hash).map(|b| b.header.merkle_root)
    }
    fn version_and_time_at(&self, height: u32) -> Option<(i32, u32)> {
        self.blocks
            .get(height as usize)
            .map(|b| (b.header.version, b.header.time))
    }
}

/// Serialized `CService` for 10.a.b.c:port (IPv4-mapped IPv6, big-endian port).
fn service(i: u64, port: u16) -> NetInfo {
    let mut b = [0u8; 18];
    b[10] = 0xff;
    b[11] = 0xff;
    b[12] = 10;
    b[13] = (i >> 16) as u8;
    b[14] = (i >> 8) as u8;
    b[15] = i as u8;
    b[16..].copy_from_slice(&port.to_be_bytes());
    NetInfo::Service(b)
}

/// `ExtNetInfo` entry types (Core v24 `NetInfoEntry`): an address with port, a domain with port.
const EXT_ENTRY_SERVICE: u8 = 0x01;
const EXT_ENTRY_DOMAIN: u8 = 0x02;
/// BIP-155 network ids (address lengths 4, 16 and 32 bytes).
const BIP155_IPV4: u8 = 1;
const BIP155_IPV6: u8 = 2;
const BIP155_TORV3: u8 = 4;
/// `ExtNetInfo` purposes: Core P2P (every masternode), Platform P2P and HTTPS (evonodes).
const PURPOSE_CORE_P2P: u8 = 0;
const PURPOSE_PLATFORM_P2P: u8 = 1;
const PURPOSE_PLATFORM_HTTPS: u8 = 2;

/// One `ExtNetInfo` entry: a BIP-155 address and a big-endian port.
fn ext_address(w: &mut Writer, net: u8, addr: &[u8], port: u16) {
    w.u8(EXT_ENTRY_SERVICE);
    w.u8(net);
    w.var_bytes(addr);
    w.bytes(&port.to_be_bytes());
}

/// The serialized `ExtNetInfo` (version 1) of masternode `i` in the layout the library decodes
/// (PROTOCOL.md §3.5): per purpose its entries, mixed by the simulator. Core P2P: an IPv4
/// address first, then sometimes an IPv6 address and a Tor v3 onion service; an evonode also
/// has Platform P2P (IPv4, sometimes IPv6) and Platform HTTPS (a domain name or an IPv4
/// address).
fn ext_net_info(i: u64, evo: bool, rng: &mut Rng) -> Vec<u8> {
    let ipv4 = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let mut ipv6 = [0u8; 16];
    ipv6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    ipv6[8..].copy_from_slice(&i.to_be_bytes());
    let mut w = Writer::new(0);
    w.u8(1); // ExtNetInfo version
    w.compact_size(if evo { 3 } else { 1 });
    // Core P2P.
    let v6 = rng.below(2) == 0;
    let onion = rng.below(3) == 0;
    w.u8(PURPOSE_CORE_P2P);
    w.compact_size(1 + u64::from(v6) + u64::from(onion));
    ext_address(&mut w, BIP155_IPV4, &ipv4, 19_999);
    if v6 {
        ext_address(&mut w, BIP155_IPV6, &ipv6, 19_999);
    }
    if onion {
        ext_address(&mut w, BIP155_TORV3, &rng.bytes32(), 19_999);
    }
    if evo {
        w.u8(PURPOSE_PLATFORM_P2P);
        w.compact_size(1 + u64::from(v6));
        ext_address(&mut w, BIP155_IPV4, &ipv4, 26_656);
        if v6 {
            ext_address(&mut w, BIP155_IPV6, &ipv6, 26_656);
        }
        w.u8(PURPOSE_PLATFORM_HTTPS);
        w.compact_size(1);
        if rng.below(2) == 0 {
            w.u8(EXT_ENTRY_DOMAIN);
            w.var_bytes(format!("evo{i}.qrsync-simnet.example").as_bytes());
            w.bytes(&443u16.to_be_bytes());
        } else {
            ext_address(&mut w, BIP155_IPV4, &ipv4, 443);
        }
    }
    w.into_bytes()
}

/// `entry` moved to an SML entry of version 3 (extended addresses, V24): the address becomes an
/// `ExtNetInfo` and an evonode's platform HTTP port is no longer a field of its own.
fn with_ext_addr(entry: &SmlEntry, rng: &mut Rng, id: u64) -> SmlEntry {
    let evo = entry.is_evo();
    SmlEntry {
        version: crate::wire::sml_entry::ENTRY_VERSION_EXT_ADDR,
        net_info: NetInfo::Extended(ext_net_info(id, evo, rng)),
        platform_http_port: 0,
        ..entry.clone()
    }
}

impl SimChain {
    /// Generates the chain `config` describes.
    pub fn generate(config: SimConfig) -> SimChain {
        let network = config.network();
        let genesis = chain_params::genesis_header(network);
        let hash = genesis.block_hash();
        let mut chain = SimChain {
            config,
            blocks: vec![SimBlock {
                header: genesis,
                hash,
                txs: Vec::new(),
                cbtx: None,
                entries: Arc::new(Entries::new()),
                sml_root: Hash256::ZERO,
            }],
            index: HashMap::from([(hash, 0)]),
            mined: Vec::new(),
            quorum_keys: HashMap::new(),
            operator_keys: HashMap::new(),
            registered_at: HashMap::new(),
            snapshots: BTreeMap::new(),
            bad_signed: false,
            clsigs: BTreeMap::new(),
            islocks: Vec::new(),
            branch: 0,
        };
        // A devnet's block 1 is its own genesis, derived from its name exactly as the client
        // derives the block its header chain starts at (one function for both).
        if let Some((header, coinbase)) = chain_params::devnet_genesis_of(&chain.config.params) {
            let hash = header.block_hash();
            chain.index.insert(hash, 1);
            chain.blocks.push(SimBlock {
                header,
                hash,
                txs: vec![coinbase],
                cbtx: None,
                entries: Arc::new(Entries::new()),
                sml_root: Hash256::ZERO,
            });
        }
        let target = chain.config.blocks.saturating_sub(chain.tip_height());
        chain.extend(target);
        chain
    }

    /// The first height the generator mines: 1, or 2 on a devnet (whose block 1 is its fixed
    /// genesis block).
    pub fn first_mined_height(&self) -> u32 {
        if self.network() == Network::Devnet {
            2
        } else {
            1
        }
    }

    /// The height the masternodes register at ([`SimConfig::masternodes_from`], at least the
    /// first mined block).
    fn masternodes_from(&self) -> u32 {
        self.config.masternodes_from.max(self.first_mined_height())
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.config.network()
    }

    /// Height of the tip.
    pub fn tip_height(&self) -> u32 {
        (self.blocks.len() - 1) as u32
    }

    /// A block of the chain.
    pub fn block(&self, height: u32) -> Option<&SimBlock> {
        self.blocks.get(height as usize)
    }

    /// A block by hash.
    pub fn block_by_hash(&self, hash: &Hash256) -> Option<&SimBlock> {
        self.index.get(hash).and_then(|h| self.block(*h))
    }

    /// Every commitment mined so far, with its mined height.
    pub fn mined_commitments(&self) -> &[(u32, Arc<FinalCommitment>)] {
        &self.mined
    }

    /// The snapshot the rotated type's cycle at `cycle_height` produced.
    pub fn snapshot(&self, llmq_type: u8, cycle_height: u32) -> Option<&QuorumSnapshot> {
        self.snapshots.get(&(llmq_type, cycle_height))
    }

    /// The ChainLock of the block at `height`.
    pub fn clsig(&self, height: u32) -> Option<&ClSig> {
        self.clsigs.get(&height)
    }

    /// The InstantSend locks created so far, with the height they were created at.
    pub fn islocks(&self) -> &[(u32, IsDLock)] {
        &self.islocks
    }

    /// The masternode list (entries, active quorums, CbTx) after the block at `height`.
    pub fn list_at(&self, height: u32) -> Option<MasternodeList> {
        let b = self.block(height)?;
        Some(MasternodeList {
            block_hash: b.hash,
            height,
            entries: (*b.entries).clone(),
            quorums: self.active_set(height),
            cbtx: b.cbtx.clone(),
        })
    }

    /// The active quorum set committed by the block at `height` (§3.7).
    pub fn active_set(&self, height: u32) -> BTreeMap<QuorumKey, Arc<FinalCommitment>> {
        let mut out = BTreeMap::new();
        for &t in &self.config.llmq().configured_types {
            let Some(p) = self.config.params.llmq_params(t) else {
                continue;
            };
            let of_type = self
                .mined
                .iter()
                .filter(|(h, c)| *h <= height && c.llmq_type == t);
            if p.use_rotation {
                let mut per_index: BTreeMap<i16, Arc<FinalCommitment>> = BTreeMap::new();
                for (_, c) in of_type {
                    per_index.insert(c.quorum_index, c.clone());
                }
                for c in per_index.into_values() {
                    out.insert((t, c.quorum_hash), c);
                }
            } else {
                let all: Vec<_> = of_type.collect();
                let keep = p.signing_active_quorum_count as usize;
                for (_, c) in all.iter().skip(all.len().saturating_sub(keep)) {
                    out.insert((t, c.quorum_hash), c.clone());
                }
            }
        }
        out
    }

    /// The header clients should trust as their start ([`SimConfig::checkpoint`]): its
    /// height and header, or `None` when the configuration has none or the chain is shorter.
    pub fn checkpoint(&self) -> Option<(u32, BlockHeader)> {
        let h = self.config.checkpoint?;
        self.block(h).map(|b| (h, b.header))
    }

    /// The quorum secret key (the simulated network signs with it).
    pub fn quorum_key(&self, llmq_type: u8, quorum_hash: &Hash256) -> Option<&SecretKey> {
        self.quorum_keys.get(&(llmq_type, *quorum_hash))
    }

    /// Generates `n` more blocks.
    pub fn extend(&mut self, n: u32) {
        for _ in 0..n {
            self.next_block();
        }
        let tip = self.tip_height();
        self.make_clsig(tip);
    }

    /// Replaces the last `depth` blocks with a different branch of `depth + 1` blocks (a reorg
    /// a client following the tip must handle).
    pub fn reorg(&mut self, depth: u32) {
        let depth = depth.min(self.tip_height().saturating_sub(self.first_mined_height()));
        let fork = self.tip_height() - depth;
        self.cut_to(fork);
        self.extend(depth + 1);
    }

    /// Drops every block above `fork` (and what they made), ready to grow another branch.
    pub(super) fn cut_to(&mut self, fork: u32) {
        for b in self.blocks.drain(fork as usize + 1..) {
            self.index.remove(&b.hash);
        }
        self.mined.retain(|(h, _)| *h <= fork);
        self.clsigs.retain(|h, _| *h < fork);
        self.islocks.retain(|(h, _)| *h <= fork);
        self.snapshots.retain(|(_, cycle), _| *cycle <= fork);
        self.registered_at.retain(|_, h| *h <= fork);
        self.branch += 1;
    }

    /// Drops the ChainLocks above `height` (a competing fork has none: [`super::fork`]).
    pub(super) fn forget_clsigs_above(&mut self, height: u32) {
        self.clsigs.retain(|h, _| *h <= height);
    }

    fn rng_for(&self, height: u32, what: &str) -> Rng {
        Rng::new(
            self.config.seed,
            &[
                what.as_bytes(),
                &height.to_le_bytes(),
                &self.branch.to_le_bytes(),
            ],
        )
    }

    /// Whether V24 is active for the block at `height` (its version-bits deployment, when the
    /// chain parameters make it visible: `vbparams=v24:…:0`), by the library's own rule.
    pub fn v24_active_at(&self, height: u32) -> bool {
        height > 0
            && self
                .config
                .params
                .v24_active_after(height - 1, &|h| self.version_and_time_at(h))
                == Some(true)
    }

    fn next_block(&mut self) {
        let height = self.tip_height() + 1;
        let network = self.config.network();
        let a = *self.config.params.activations();
        let v24 = self.v24_active_at(height);
        let entries = self.masternode_events(height, v24);
        // The ChainLock of the previous block goes into this block's CbTx (V20+).
        let best_cl = self.make_clsig(height - 1);
        let commitments = self.form_quorums(height);
        for c in &commitments {
            self.mined.push((height, c.clone()));
        }
        let prev = &self.blocks[height as usize - 1];
        let sml_root = if Arc::ptr_eq(&entries, &prev.entries) {
            prev.sml_root
        } else {
            let list = MasternodeList {
                entries: (*entries).clone(),
                ..MasternodeList::empty()
            };
            list.sml_root()
        };
        let quorum_root = MasternodeList {
            quorums: self.active_set(height),
            ..MasternodeList::empty()
        }
        .quorum_root();
        let cbtx = if height >= a.v20 {
            CbTx {
                // V24 (Core v24 `CheckCbTx`): version 4, whose asset-unlock root is all zero for
                // a block without version 2 asset unlocks (the simulator mines none).
                version: if v24 { 4 } else { 3 },
                height: height as i32,
                merkle_root_mn_list: sml_root,
                merkle_root_quorums: Some(quorum_root),
                best_cl: Some(best_cl.map_or(
                    BestChainLock {
                        height_diff: 0,
                        signature: [0; 96],
                    },
                    |sig| BestChainLock {
                        height_diff: 0,
                        signature: sig,
                    },
                )),
                credit_pool_balance: Some(0),
                merkle_root_asset_unlocks: v24.then_some(Hash256::ZERO),
                unknown_fields: Vec::new(),
            }
        } else {
            CbTx {
                version: 2,
                height: height as i32,
                merkle_root_mn_list: sml_root,
                merkle_root_quorums: Some(quorum_root),
                best_cl: None,
                credit_pool_balance: None,
                merkle_root_asset_unlocks: None,
                unknown_fields: Vec::new(),
            }
        };
        let mut script_sig = vec![4u8];
        script_sig.extend_from_slice(&height.to_le_bytes());
        script_sig.extend_from_slice(&self.branch.to_le_bytes());
        let coinbase = Transaction {
            version: 3,
            tx_type: 5,
            inputs: vec![TxIn {
                prev_hash: Hash256::ZERO,
                prev_index: u32::MAX,
                script_sig,
                sequence: u32::MAX,
            }],
            outputs: vec![TxOut {
                value: 500_000_000,
                script_pubkey: vec![0x51],
            }],
            lock_time: 0,
            extra_payload: Some(cbtx.to_bytes(0)),
        };
        let mut txs = vec![coinbase];
        for c in &commitments {
            let mut w = Writer::new(0);
            w.u16_le(1);
            w.u32_le(height);
            c.encode(&mut w);
            txs.push(Transaction {
                version: 3,
                tx_type: 6,
                inputs: Vec::new(),
                outputs: Vec::new(),
                lock_time: 0,
                extra_payload: Some(w.into_bytes()),
            });
        }
        let txids: Vec<Hash256> = txs.iter().map(|t| t.txid()).collect();
        let prev = &self.blocks[height as usize - 1];
        let mut header = BlockHeader {
            // Miners signal V24 (bit 12) until it is active, when its deployment is tracked.
            version: if self.config.params.v24().is_some() && !v24 {
                0x2000_0000 | (1 << crate::network::params::V24_BIT)
            } else {
                0x2000_0000
            },
            prev_block_hash: prev.hash,
            merkle_root: merkle_root(&txids),
            time: prev.header.time + self.config.block_time,
            bits: prev.header.bits,
            nonce: 0,
        };
        let hash = loop {
            let h = header.block_hash();
            if pow::check_proof_of_work(&h, header.bits, network).is_ok() {
                break h;
            }
            header.nonce += 1;
        };
        self.index.insert(hash, height);
        self.blocks.push(SimBlock {
            header,
            hash,
            txs,
            cbtx: Some(cbtx),
            entries,
            sml_root,
        });
        self.make_islocks(height);
    }

    /// Registrations, confirmations, updates, bans, revivals and revocations for `height`.
    fn masternode_events(&mut self, height: u32, v24: bool) -> Arc<Entries> {
        let prev = self.blocks[height as usize - 1].entries.clone();
        let mut changed: Option<Entries> = None;
        let prev_hash = self.blocks[height as usize - 1].hash;
        // Confirm registrations of the previous block: confirmedHash = that block's hash.
        let to_confirm: Vec<Hash256> = prev
            .values()
            .filter(|e| {
                e.confirmed_hash.is_zero()
                    && self.registered_at.get(&e.pro_reg_tx_hash) == Some(&(height - 1))
            })
            .map(|e| e.pro_reg_tx_hash)
            .collect();
        for pro in to_confirm {
            let m = changed.get_or_insert_with(|| (*prev).clone());
            if let Some(e) = m.get_mut(&pro) {
                let mut ne = (**e).clone();
                ne.confirmed_hash = prev_hash;
                *e = Arc::new(ne);
            }
        }
        // V24's first block: about half of the masternodes (evonodes among them) have moved to
        // extended addresses (a ProUpServTx of version 3).
        if v24 && !self.v24_active_at(height - 1) {
            let mut rng = self.rng_for(height, "extaddr");
            let m = changed.get_or_insert_with(|| (*prev).clone());
            for e in m.values_mut() {
                if e.pro_reg_tx_hash.0[0] % 2 == 0 {
                    let id = u64::from_le_bytes(e.pro_reg_tx_hash.0[..8].try_into().expect("8"));
                    *e = Arc::new(with_ext_addr(e, &mut rng, id));
                }
            }
        }
        let mut rng = self.rng_for(height, "churn");
        let register = |chain: &mut SimChain, m: &mut Entries, evo: bool, rng: &mut Rng| {
            let id = rng.next_u64();
            let pro = Hash256(rng.bytes32());
            let sk = SecretKey::from_seed(&[&chain.config.seed.to_le_bytes()[..], &pro.0].concat());
            let entry = SmlEntry {
                version: 2,
                pro_reg_tx_hash: pro,
                confirmed_hash: Hash256::ZERO,
                net_info: service(id, 19_999),
                operator_key: sk.public_key().to_bytes(Scheme::Basic),
                voting_key_id: {
                    let mut v = [0u8; 20];
                    v.copy_from_slice(&rng.bytes32()[..20]);
                    v
                },
                is_valid: true,
                mn_type: if evo { 1 } else { 0 },
                platform_http_port: if evo { 443 } else { 0 },
                platform_node_id: if evo {
                    let mut v = [0u8; 20];
                    v.copy_from_slice(&rng.bytes32()[..20]);
                    v
                } else {
                    [0; 20]
                },
            };
            // From V24 new registrations use extended addresses.
            let entry = if v24 {
                with_ext_addr(&entry, rng, id)
            } else {
                entry
            };
            chain.operator_keys.insert(pro, sk);
            chain.registered_at.insert(pro, height);
            m.insert(pro, Arc::new(entry));
        };
        let from = self.masternodes_from();
        if height < from {
            return prev;
        }
        if height == from {
            let mut m = (*prev).clone();
            for i in 0..self.config.masternodes + self.config.evonodes {
                register(self, &mut m, i >= self.config.masternodes, &mut rng);
            }
            return Arc::new(m);
        }
        let churn = self.config.churn.clone();
        if churn.every > 0 && height % churn.every == 0 {
            let m = changed.get_or_insert_with(|| (*prev).clone());
            for _ in 0..churn.registrations {
                let evo = rng.below(8) == 0;
                register(self, m, evo, &mut rng);
            }
            let pick = |m: &Entries, rng: &mut Rng, f: &dyn Fn(&SmlEntry) -> bool| {
                let c: Vec<Hash256> = m
                    .values()
                    .filter(|e| f(e))
                    .map(|e| e.pro_reg_tx_hash)
                    .collect();
                (!c.is_empty()).then(|| c[rng.below(c.len() as u64) as usize])
            };
            for _ in 0..churn.updates {
                if let Some(pro) = pick(m, &mut rng, &|e| e.is_valid) {
                    let mut ne = (*m[&pro]).clone();
                    if v24 {
                        // From V24 a service update moves the entry to extended addresses.
                        let id = rng.next_u64();
                        ne = with_ext_addr(&ne, &mut rng, id);
                    } else {
                        ne.net_info = service(rng.next_u64(), 20_000 + rng.below(1000) as u16);
                    }
                    m.insert(pro, Arc::new(ne));
                }
            }
            for _ in 0..churn.bans {
                if let Some(pro) = pick(m, &mut rng, &|e| e.is_valid) {
                    let mut ne = (*m[&pro]).clone();
                    ne.is_valid = false;
                    m.insert(pro, Arc::new(ne));
                }
            }
            for _ in 0..churn.revivals {
                if let Some(pro) = pick(m, &mut rng, &|e| !e.is_valid) {
                    let mut ne = (*m[&pro]).clone();
                    ne.is_valid = true;
                    m.insert(pro, Arc::new(ne));
                }
            }
            for _ in 0..churn.revocations {
                if let Some(pro) = pick(m, &mut rng, &|_| true) {
                    m.remove(&pro);
                }
            }
        }
        match changed {
            Some(m) => Arc::new(m),
            None => prev,
        }
    }

    /// Lists and snapshots for a member computation of `llmq_type` based at `base_height`.
    fn prepare(&self, llmq_type: u8, base_height: u32) -> Prepared<'_> {
        let req = members::requirements(&self.config.params, llmq_type, base_height);
        let lists = req
            .list_heights
            .iter()
            .filter_map(|h| self.list_at(*h).map(|l| (*h, l)))
            .collect();
        Prepared {
            lists,
            snapshots: &self.snapshots,
            llmq_type,
        }
    }

    /// DKGs whose commitments are mined in the block at `height`.
    fn form_quorums(&mut self, height: u32) -> Vec<Arc<FinalCommitment>> {
        let cfg = self.config.params.clone();
        let mut out = Vec::new();
        for &t in &cfg.llmq().configured_types {
            let Some(p) = cfg.llmq_params(t).copied() else {
                continue;
            };
            let cycle = height - height % p.dkg_interval;
            if height % p.dkg_interval != p.dkg_mining_window_start || cycle < 8 {
                continue;
            }
            // Before the masternodes register there is nobody to form a quorum; a rotated type
            // still records each cycle's (empty) snapshot, which later cycles build on.
            let quiet = cycle < self.masternodes_from() + 7;
            let rotated = cfg.is_rotation_enabled(t, cycle);
            if quiet && !rotated {
                continue;
            }
            if rotated {
                // The cycle's new quarter and snapshot, then every index's members.
                let prepared = self.prepare(t, cycle);
                let Ok(nq) = members::cycle_new_quarter(&cfg, t, cycle, &prepared) else {
                    continue;
                };
                let work = prepared.list_at(cycle - 8).expect("prepared").clone();
                let m = modifier(&cfg, t, true, &work.block_hash, Some(&work), cycle - 8)
                    .expect("work list");
                let snap = build_snapshot(&work, &m, &nq);
                // The snapshot must reproduce the quarter a client will decode from it.
                let n = p.signing_active_quorum_count as usize;
                let decoded = quarters_from_snapshot(&work, &m, &snap, n, (p.size / 4) as usize);
                let same = decoded.iter().zip(&nq.quarters).all(|(a, b)| {
                    a.iter()
                        .map(|e| e.pro_reg_tx_hash)
                        .eq(b.iter().map(|e| e.pro_reg_tx_hash))
                });
                assert!(
                    same,
                    "simnet: snapshot of cycle {cycle} does not round-trip"
                );
                self.snapshots.insert((t, cycle), snap);
                if quiet {
                    continue;
                }
                let prepared = self.prepare(t, cycle);
                let Ok(all) = members::rotated_cycle_members(&cfg, t, cycle, &prepared) else {
                    continue;
                };
                for (i, members) in all.into_iter().enumerate() {
                    let base = cycle + i as u32;
                    if cfg.is_type_enabled(t, base, &|h| self.version_and_time_at(h))
                        && members.len() >= p.min_size as usize
                    {
                        out.push(self.commit(t, base, i as i16, &members, true));
                    }
                }
            } else {
                if !cfg.is_type_enabled(t, cycle, &|h| self.version_and_time_at(h)) {
                    continue;
                }
                let prepared = self.prepare(t, cycle);
                let Ok(members) = members::members_for(&cfg, t, cycle, &*self, &prepared) else {
                    continue;
                };
                if members.len() >= p.min_size as usize {
                    out.push(self.commit(t, cycle, 0, &members, false));
                }
            }
        }
        out
    }

    /// A final commitment signed by its members and its quorum key.
    fn commit(
        &mut self,
        llmq_type: u8,
        base: u32,
        index: i16,
        members: &[Arc<SmlEntry>],
        rotated: bool,
    ) -> Arc<FinalCommitment> {
        let p = *self
            .config
            .params
            .llmq_params(llmq_type)
            .expect("configured");
        let a = self.config.params.activations();
        let basic = base + 1 >= a.v19;
        let scheme = if basic { Scheme::Basic } else { Scheme::Legacy };
        let quorum_hash = self.blocks[base as usize].hash;
        let mut rng = self.rng_for(base, "dkg");
        // Occasionally one member fails to sign (still above minSize).
        let absent = (members.len() > p.min_size as usize && rng.below(3) == 0)
            .then(|| rng.below(members.len() as u64) as usize);
        let mut signers = BitSet::new(p.size as usize);
        let mut valid = BitSet::new(p.size as usize);
        let mut signer_keys = Vec::new();
        for (i, m) in members.iter().enumerate() {
            valid.set(i, true);
            if Some(i) != absent {
                signers.set(i, true);
                signer_keys.push(self.operator_keys[&m.pro_reg_tx_hash].clone());
            }
        }
        let qsk = SecretKey::from_seed(
            &[
                &self.config.seed.to_le_bytes()[..],
                &[llmq_type],
                &quorum_hash.0,
            ]
            .concat(),
        );
        let mut c = FinalCommitment {
            version: match (basic, rotated) {
                (false, false) => 1,
                (false, true) => 2,
                (true, false) => 3,
                (true, true) => 4,
            },
            llmq_type,
            quorum_hash,
            quorum_index: index,
            signers,
            valid_members: valid,
            quorum_public_key: qsk.public_key().to_bytes(scheme),
            quorum_vvec_hash: sha256d_parts(&[b"vvec", &quorum_hash.0, &[llmq_type]]),
            quorum_sig: [0; 96],
            members_sig: [0; 96],
        };
        let msg = c.commitment_hash();
        // A dishonest DKG signs another message: a valid signature encoding that does not verify.
        let bad = self
            .config
            .bad_signature
            .filter(|b| b.llmq_type == llmq_type && base >= b.from_height && !self.bad_signed);
        let mut other = msg.0;
        other[0] ^= 0xff;
        let (qmsg, mmsg) = match bad.map(|b| b.which) {
            Some(BadSigKind::QuorumSig) => (other, msg.0),
            Some(BadSigKind::MembersSig) => (msg.0, other),
            None => (msg.0, msg.0),
        };
        self.bad_signed |= bad.is_some();
        c.quorum_sig = qsk.sign(&qmsg, scheme).to_bytes(scheme);
        c.members_sig = sign_secure_aggregate(&signer_keys, &mmsg, scheme).to_bytes(scheme);
        self.quorum_keys.insert((llmq_type, quorum_hash), qsk);
        Arc::new(c)
    }

    /// Signs the ChainLock of the block at `height` with the quorum §9.1 selects; returns the
    /// signature (None when no ChainLocks quorum is active yet).
    fn make_clsig(&mut self, height: u32) -> Option<[u8; 96]> {
        if let Some(c) = self.clsigs.get(&height) {
            return Some(c.signature);
        }
        if height < 8 {
            return None;
        }
        let cl_type = self.config.llmq().chainlocks;
        let set = MasternodeList {
            quorums: self.active_set(height - 8),
            ..MasternodeList::empty()
        };
        let mut clsig = ClSig {
            height: height as i32,
            block_hash: self.blocks[height as usize].hash,
            signature: [0; 96],
        };
        let q = select_non_rotated_quorum(&set, cl_type, &clsig.request_id())?;
        let sk = self.quorum_keys.get(&(cl_type, q))?;
        clsig.signature = sk
            .sign(&clsig.sign_hash(cl_type, &q).0, Scheme::Basic)
            .to_bytes(Scheme::Basic);
        let sig = clsig.signature;
        self.clsigs.insert(height, clsig);
        Some(sig)
    }

    /// InstantSend locks signed by the rotated quorum §9.3 selects for the current cycle.
    fn make_islocks(&mut self, height: u32) {
        let is_type = self.config.llmq().instantsend;
        let Some(p) = self.config.params.llmq_params(is_type).copied() else {
            return;
        };
        if self.config.islocks_per_cycle == 0
            || height % p.dkg_interval != p.dkg_mining_window_end + 1
        {
            return;
        }
        let cycle = height - height % p.dkg_interval;
        let set = self.active_set(height);
        let n = p.signing_active_quorum_count.trailing_zeros();
        let mut rng = self.rng_for(height, "islock");
        for _ in 0..self.config.islocks_per_cycle {
            let mut lock = IsDLock {
                version: 1,
                inputs: vec![OutPoint {
                    hash: Hash256(rng.bytes32()),
                    index: rng.below(4) as u32,
                }],
                txid: Hash256(rng.bytes32()),
                cycle_hash: self.blocks[cycle as usize].hash,
                signature: [0; 96],
            };
            let id = lock.request_id();
            let b = u64::from_le_bytes(id.0[24..32].try_into().expect("8 bytes"));
            let signer = ((b >> (64 - n - 1)) & ((1u64 << n) - 1)) as i16;
            let Some(c) = set
                .values()
                .find(|c| c.llmq_type == is_type && c.quorum_index == signer)
                .cloned()
            else {
                continue;
            };
            let Some(sk) = self.quorum_keys.get(&(is_type, c.quorum_hash)) else {
                continue;
            };
            lock.signature = sk
                .sign(&lock.sign_hash(is_type, &c.quorum_hash).0, Scheme::Basic)
                .to_bytes(Scheme::Basic);
            self.islocks.push((height, lock));
        }
    }
}
