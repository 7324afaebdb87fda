//! Client configuration: the network and its chain parameters, peers, the trusted start, the
//! strategy and profile, timeouts. Every setter that can fail validates at once and returns an
//! [`ErrorKind::InvalidConfig`] naming the field; [`Config::validate`] checks the whole value
//! (the one validation path behind the Rust, C and UniFFI surfaces).

use super::error::{ClientError, ErrorKind};
use crate::chain::HeaderIndex;
use crate::hashes::Hash256;
use crate::network::{ChainParams, Network};
use crate::wire::header::BlockHeader;
use std::net::SocketAddr;
use std::time::Duration;

/// How masternode lists are fetched. Only [`SyncStrategy::QrInfo`] is for apps; the C ABI and
/// the bindings do not offer a choice (the other variants are benchmark baselines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncStrategy {
    /// One `getqrinfo` with the held lists as bases, then the remaining lists with parallel
    /// `getmnlistd` against the nearest held base (the default).
    #[default]
    QrInfo,
    /// Benchmark baseline (b), the best sequential strategy: the full list at the tip, then
    /// exactly the lists still needed, one `getmnlistd` at a time, each against the nearest held
    /// list and waiting for the previous answer (rotation snapshots still come from one
    /// `getqrinfo`, which nothing else provides).
    #[doc(hidden)]
    Sequential,
    /// Benchmark baseline (a), the "before" of clients that did not track bases: like
    /// [`SyncStrategy::Sequential`] but every list requested from genesis (a full list each)
    /// and the `getqrinfo` without bases.
    #[doc(hidden)]
    SequentialFromGenesis,
}

use crate::engine::SyncProfile;

/// Where the header sync starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Height of the trusted block.
    pub height: u32,
    /// Its header (its hash is what is trusted).
    pub header: BlockHeader,
}

/// Where the header chain starts when [`Config::checkpoint`] is not set (docs/CHECKPOINTS.md).
///
/// Built-in starts come from the embedded table of real headers (mainnet and testnet only;
/// [`crate::chain::checkpoints`]): the chain is anchored 576 blocks below the chosen start and
/// must pass through the start's hash, so every header above the start is validated exactly as
/// from genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartPoint {
    /// The newest built-in checkpoint (the default); genesis on networks without a table
    /// (devnet, regtest).
    #[default]
    Newest,
    /// The newest built-in checkpoint at or below this wallet birth height.
    BirthHeight(u32),
    /// The newest built-in checkpoint whose block time is at least a day before this wallet
    /// birth time (Unix seconds).
    BirthTime(u64),
    /// Genesis: every header is downloaded.
    Genesis,
    /// A header the host supplies with the hash it trusts; the header's X11 hash must equal
    /// `hash`. The first 23 headers above it are not checked against Dark Gravity Wave and the
    /// first 10 not against the median time (their predecessors are unknown).
    Header {
        /// Height of the trusted block.
        height: u32,
        /// Its header.
        header: BlockHeader,
        /// Its hash as the host knows it (internal byte order).
        hash: Hash256,
    },
}

/// Client configuration. [`Config::new`] gives sensible defaults for a network.
#[derive(Debug, Clone)]
pub struct Config {
    /// The network to sync, described as Dash Core runs it: Core's defaults for the network,
    /// changed for regtest and devnets with Core's option names ([`Config::set_chain_param`],
    /// [`Config::from_dash_conf`]).
    pub chain: ChainParams,
    /// Peers to connect to.
    pub peers: Vec<SocketAddr>,
    /// Also resolve the network's DNS seeds for peers.
    pub use_dns_seeds: bool,
    /// Trusted starting point of the header chain supplied by the host; when set it takes
    /// precedence over [`Config::start`]. `None` = start as [`Config::start`] says.
    pub checkpoint: Option<Checkpoint>,
    /// Where the header chain starts when [`Config::checkpoint`] is `None` (default: the newest
    /// built-in checkpoint).
    pub start: StartPoint,
    /// Masternode list strategy.
    pub strategy: SyncStrategy,
    /// Which quorums to validate: all ([`SyncProfile::Full`], the default) or only the
    /// ChainLocks and InstantSend ones a wallet needs ([`SyncProfile::Wallet`]: one round trip
    /// after headers on a cold start).
    pub profile: SyncProfile,
    /// Peers kept connected at once.
    pub max_peers: usize,
    /// TCP connect and handshake timeout.
    pub connect_timeout: Duration,
    /// Time a peer has to answer one request before it is retried elsewhere.
    pub request_timeout: Duration,
    /// Protocol version advertised.
    pub protocol_version: u32,
    /// Keep following the tip after the first sync (new blocks, cycles, ChainLocks).
    pub follow_tip: bool,
    /// Hash-only checkpoints the host trusts in addition to the built-in ones (e.g. for a
    /// devnet or the simulator; default none): the header chain must pass through each one
    /// above its start, and the header sync uses them, like the built-in ones, as boundaries of
    /// ranges fetched from several peers at once (docs/PERFORMANCE.md).
    pub extra_checkpoints: Vec<crate::chain::Checkpoint>,
}

impl Config {
    /// Defaults for `network`: no peers (add some or enable DNS seeds), QrInfo strategy,
    /// 3 peers, 10 s connect and 20 s request timeouts, following the tip.
    pub fn new(network: Network) -> Config {
        Config {
            chain: ChainParams::new(network),
            peers: Vec::new(),
            use_dns_seeds: false,
            checkpoint: None,
            start: StartPoint::Newest,
            strategy: SyncStrategy::QrInfo,
            profile: SyncProfile::Full,
            max_peers: 3,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(20),
            protocol_version: crate::wire::version::OUR_PROTOCOL_VERSION,
            follow_tip: true,
            extra_checkpoints: Vec::new(),
        }
    }

    /// Checks the configuration; every problem is an [`ErrorKind::InvalidConfig`].
    pub fn validate(&self) -> Result<(), ClientError> {
        let bad = |m: &str| Err(ClientError::new(ErrorKind::InvalidConfig, m, false));
        if self.peers.is_empty() && !self.use_dns_seeds {
            return bad("no peers configured and DNS seeds disabled");
        }
        if self.use_dns_seeds && self.network().dns_seeds().is_empty() {
            return bad("this network has no DNS seeds; configure peers");
        }
        if self.max_peers == 0 || self.max_peers > 16 {
            return bad("max_peers must be between 1 and 16");
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            return bad("timeouts must be positive");
        }
        if self.protocol_version < crate::wire::version::MIN_MNLIST_SYNC_VERSION {
            return bad("protocol_version is below the lowest version that can sync lists");
        }
        self.chain
            .validate()
            .map_err(|e| ClientError::new(ErrorKind::InvalidConfig, e.to_string(), false))?;
        self.check_extra_checkpoints()?;
        self.resolve_start().map(|_| ())
    }

    /// Checks [`Config::extra_checkpoints`]: none may contradict a checkpoint the library knows
    /// at its height (the built-in table, Core's hash-only list, the genesis block) or another
    /// extra checkpoint at the same height. [`ErrorKind::InvalidConfig`] naming the height and
    /// both hashes.
    pub fn check_extra_checkpoints(&self) -> Result<(), ClientError> {
        let net = self.network();
        let bad = |m: String| Err(ClientError::new(ErrorKind::InvalidConfig, m, false));
        for (i, c) in self.extra_checkpoints.iter().enumerate() {
            let known = if c.height == 0 {
                Some(crate::chain::params::genesis_hash(net))
            } else {
                crate::chain::params::checkpoint_at(net, c.height).or_else(|| {
                    crate::chain::checkpoints::at(net, c.height).map(|k| k.header.block_hash())
                })
            };
            if let Some(k) = known.filter(|k| *k != c.hash) {
                return bad(format!(
                    "extra checkpoint at height {} is {}, but the {net} checkpoint there is {k}",
                    c.height, c.hash
                ));
            }
            if let Some(o) = self.extra_checkpoints[..i]
                .iter()
                .find(|o| o.height == c.height && o.hash != c.hash)
            {
                return bad(format!(
                    "two extra checkpoints at height {}: {} and {}",
                    c.height, o.hash, c.hash
                ));
            }
        }
        Ok(())
    }

    /// Adds a hash-only checkpoint the header chain must pass through
    /// ([`Config::extra_checkpoints`]) after checking it against the checkpoints already known
    /// ([`Config::check_extra_checkpoints`]); on error the configuration is unchanged.
    ///
    /// ```
    /// use dash_qrsync::{Config, Hash256, Network};
    /// let mut config = Config::new(Network::Mainnet);
    /// // What `dash-cli getblockhash 2500000` printed on a node the wallet team trusts
    /// // (display order, as Core prints it).
    /// let hash = Hash256::from_display_hex(
    ///     "0000000000000010a5e5b8c5ddd3c5e7bb0f8cdb42b8ba7f0d3e7cbb4a2f1c9d",
    /// )
    /// .unwrap();
    /// config.add_extra_checkpoint(2_500_000, hash).unwrap();
    /// // Another hash at the same height, or one that contradicts Core's checkpoint at
    /// // 2,421,800, is refused and leaves the configuration as it was.
    /// assert!(config.add_extra_checkpoint(2_500_000, Hash256([1; 32])).is_err());
    /// assert!(config.add_extra_checkpoint(2_421_800, Hash256([1; 32])).is_err());
    /// assert_eq!(config.extra_checkpoints.len(), 1);
    /// ```
    pub fn add_extra_checkpoint(&mut self, height: u32, hash: Hash256) -> Result<(), ClientError> {
        let mut trial = self.extra_checkpoints.clone();
        trial.push(crate::chain::Checkpoint { height, hash });
        let before = std::mem::replace(&mut self.extra_checkpoints, trial);
        if let Err(e) = self.check_extra_checkpoints() {
            self.extra_checkpoints = before;
            return Err(e);
        }
        Ok(())
    }

    /// Whether a saved header chain agrees with every [`Config::extra_checkpoints`] entry it
    /// covers; the first one it contradicts otherwise (height).
    pub(crate) fn saved_chain_contradicts_extra(
        &self,
        chain: &crate::chain::HeaderChain,
    ) -> Option<u32> {
        self.extra_checkpoints
            .iter()
            .find(|c| chain.hash_at(c.height).is_some_and(|h| h != c.hash))
            .map(|c| c.height)
    }

    /// Starts at the newest built-in checkpoint at or below `birth_height` (clears
    /// [`Config::checkpoint`]).
    pub fn start_at_birth_height(&mut self, birth_height: u32) -> &mut Config {
        self.checkpoint = None;
        self.start = StartPoint::BirthHeight(birth_height);
        self
    }

    /// Starts at the newest built-in checkpoint at least a day before `birth_time` (Unix
    /// seconds; clears [`Config::checkpoint`]).
    pub fn start_at_birth_time(&mut self, birth_time: u64) -> &mut Config {
        self.checkpoint = None;
        self.start = StartPoint::BirthTime(birth_time);
        self
    }

    /// Starts at a header the host trusts, with the hash it claims (clears
    /// [`Config::checkpoint`]).
    pub fn start_at_header(
        &mut self,
        height: u32,
        header: BlockHeader,
        hash: Hash256,
    ) -> &mut Config {
        self.checkpoint = None;
        self.start = StartPoint::Header {
            height,
            header,
            hash,
        };
        self
    }

    /// Where the header chain will start: the anchor it is built on and, for built-in starts,
    /// the checkpoint it must pass through. Errors ([`ErrorKind::InvalidConfig`]) for a birth
    /// height or time before the oldest built-in start, a birth on a network without built-in
    /// checkpoints, or a host header that does not hash to what it claims, has invalid proof of
    /// work, or contradicts a known checkpoint at its height.
    pub fn resolve_start(&self) -> Result<ResolvedStart, ClientError> {
        use crate::chain::checkpoints as cps;
        let bad = |m: String| Err(ClientError::new(ErrorKind::InvalidConfig, m, false));
        let net = self.network();
        let host = |height: u32, header: &BlockHeader| -> Result<ResolvedStart, ClientError> {
            let hash = header.block_hash();
            if height == 0 && hash != crate::chain::params::genesis_hash(net) {
                return bad(format!("checkpoint at height 0 is not the {net} genesis"));
            }
            let known = crate::chain::params::checkpoint_at(net, height)
                .or_else(|| cps::at(net, height).map(|c| c.header.block_hash()));
            if let Some(k) = known {
                if k != hash {
                    return bad(format!(
                        "checkpoint header at height {height} hashes to {hash}, but the {net} \
                         checkpoint there is {k}"
                    ));
                }
            }
            if let Err(e) = crate::chain::pow::check_proof_of_work(&hash, header.bits, net) {
                return bad(format!("checkpoint header at height {height}: {e}"));
            }
            Ok(ResolvedStart {
                anchor_height: height,
                anchor_hash: hash,
                through: None,
                builtin: None,
            })
        };
        if let Some(c) = &self.checkpoint {
            return host(c.height, &c.header);
        }
        let builtin = |s: Option<cps::BuiltinStart>, what: String| match s {
            Some(s) => Ok(ResolvedStart::from_builtin(s)),
            None => bad(what),
        };
        match self.start {
            StartPoint::Genesis => Ok(self.genesis_start()),
            StartPoint::Newest => Ok(cps::newest_start(net)
                .map(ResolvedStart::from_builtin)
                .unwrap_or_else(|| self.genesis_start())),
            StartPoint::BirthHeight(h) => builtin(
                cps::start_for_height(net, h),
                match cps::oldest_start_height(net) {
                    Some(o) => format!(
                        "birth height {h} is below the oldest built-in {net} checkpoint {o}; \
                         start from genesis instead"
                    ),
                    None => {
                        format!("{net} has no built-in checkpoints to start a birth height from")
                    }
                },
            ),
            StartPoint::BirthTime(t) => builtin(
                cps::start_for_time(net, t),
                match cps::oldest_start_time(net) {
                    Some(o) => format!(
                        "birth time {t} is not a day after the oldest built-in {net} checkpoint \
                         (block time {o}); start from genesis instead"
                    ),
                    None => format!("{net} has no built-in checkpoints to start a birth time from"),
                },
            ),
            StartPoint::Header {
                height,
                header,
                hash,
            } => {
                let actual = header.block_hash();
                if actual != hash {
                    return bad(format!(
                        "start header at height {height} hashes to {actual}, not the claimed {hash}"
                    ));
                }
                host(height, &header)
            }
        }
    }

    /// The header chain the configured start gives (genesis if the start is invalid, which
    /// [`Config::validate`] reports first).
    pub(crate) fn initial_header_chain(&self) -> crate::chain::HeaderChain {
        let mut chain = self.initial_header_chain_base();
        for c in &self.extra_checkpoints {
            chain = chain.with_required_checkpoint(*c);
        }
        chain
    }

    fn initial_header_chain_base(&self) -> crate::chain::HeaderChain {
        use crate::chain::HeaderChain;
        if let Some(c) = &self.checkpoint {
            return HeaderChain::new(self.network(), c.height, c.header);
        }
        match (self.start, self.resolve_start()) {
            (
                _,
                Ok(ResolvedStart {
                    builtin: Some(s), ..
                }),
            ) => HeaderChain::from_builtin_start(self.network(), &s),
            (StartPoint::Header { height, header, .. }, Ok(_)) => {
                HeaderChain::new(self.network(), height, header)
            }
            _ => match self.devnet_genesis() {
                Some(g) => HeaderChain::new(Network::Devnet, 1, g),
                None => HeaderChain::from_genesis(self.network()),
            },
        }
    }

    /// A devnet's own genesis block (height 1), derived as Dash Core derives it from the
    /// devnet's name (`devnet-NAME`, or `devnet` for an empty name); `None` on other networks.
    pub(crate) fn devnet_genesis(&self) -> Option<BlockHeader> {
        crate::chain::params::devnet_genesis_of(&self.chain).map(|(h, _)| h)
    }

    /// Where a chain from genesis starts: height 0, or on a devnet its own genesis at height 1
    /// (fixed by its name; a peer on another devnet does not link to it).
    fn genesis_start(&self) -> ResolvedStart {
        match self.devnet_genesis() {
            Some(g) => ResolvedStart {
                anchor_height: 1,
                anchor_hash: g.block_hash(),
                through: None,
                builtin: None,
            },
            None => ResolvedStart::genesis(self.network()),
        }
    }

    /// Whether a saved header chain fits this configuration: the same anchor, or, for built-in
    /// and newest starts, genesis or a built-in checkpoint at or below the configured anchor (a
    /// longer chain the library validated from an older start).
    pub fn accepts_saved_chain(&self, chain: &crate::chain::HeaderChain) -> bool {
        let height = chain.anchor_height();
        let Some(hash) = chain.hash_at(height) else {
            return false;
        };
        let Ok(r) = self.resolve_start() else {
            return false;
        };
        if (height, hash) == (r.anchor_height, r.anchor_hash) {
            return true;
        }
        let builtin_or_genesis = height == 0
            || crate::chain::checkpoints::at(self.network(), height)
                .is_some_and(|c| c.header.block_hash() == hash);
        let widening = self.checkpoint.is_none()
            && matches!(
                self.start,
                StartPoint::Newest | StartPoint::BirthHeight(_) | StartPoint::BirthTime(_)
            );
        widening && builtin_or_genesis && height <= r.anchor_height
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.chain.network()
    }

    /// Sets one chain parameter with Dash Core's option name and syntax, e.g.
    /// `set_chain_param("testactivationheight", "v20@100")` (`docs/CONFORMANCE.md` lists them).
    /// An unknown option or a bad value is an [`ErrorKind::InvalidConfig`] naming the option.
    ///
    /// ```
    /// use dash_qrsync::{Config, Network};
    /// let mut c = Config::new(Network::Regtest);
    /// c.set_chain_param("dip3params", "2:2").unwrap();
    /// c.set_chain_param("testactivationheight", "v20@100").unwrap();
    /// c.set_chain_param("testactivationheight", "mn_rr@100").unwrap();
    /// let e = c.set_chain_param("llmqtestparams", "4:9").unwrap_err();
    /// assert!(e.message.contains("llmqtestparams"));
    /// ```
    pub fn set_chain_param(&mut self, key: &str, value: &str) -> Result<(), ClientError> {
        self.chain
            .set(key, value)
            .map_err(|e| ClientError::new(ErrorKind::InvalidConfig, e.to_string(), false))
    }

    /// Defaults for the network a Dash Core `dash.conf` describes, with its chain parameters
    /// (keys that do not concern a light client are ignored).
    pub fn from_dash_conf(text: &str) -> Result<Config, ClientError> {
        let conf = crate::network::conf::DashConf::parse(text)
            .map_err(|e| ClientError::new(ErrorKind::InvalidConfig, e.to_string(), false))?;
        let mut c = Config::new(conf.params.network());
        c.chain = conf.params;
        Ok(c)
    }
}

/// Where a configuration's header chain starts ([`Config::resolve_start`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedStart {
    /// Height of the header the chain is built on.
    pub anchor_height: u32,
    /// Its hash.
    pub anchor_hash: Hash256,
    /// For built-in starts: the start (height, hash) the chain must pass through, 576 blocks
    /// above the anchor.
    pub through: Option<crate::chain::Checkpoint>,
    /// The built-in start, when one was chosen.
    pub builtin: Option<crate::chain::BuiltinStart>,
}

impl ResolvedStart {
    fn genesis(network: Network) -> ResolvedStart {
        ResolvedStart {
            anchor_height: 0,
            anchor_hash: crate::chain::params::genesis_hash(network),
            through: None,
            builtin: None,
        }
    }

    fn from_builtin(s: crate::chain::BuiltinStart) -> ResolvedStart {
        ResolvedStart {
            anchor_height: s.anchor.height,
            anchor_hash: s.anchor.header.block_hash(),
            through: Some(s.start),
            builtin: Some(s),
        }
    }

    /// The height the wallet's sync effectively starts from: the built-in start, or the
    /// anchor for genesis and host-supplied headers.
    pub fn start_height(&self) -> u32 {
        self.through.map_or(self.anchor_height, |c| c.height)
    }
}
