//! [`ChainParams`]: one value that describes a Dash network the way Dash Core runs it — the
//! network's activation heights, its LLMQ types with their sizes and roles, and the version-bits
//! deployment that enables `LLMQ_TEST_V17` — starting from Core's defaults and changed with
//! Core's own option names and syntax (`src/chainparams.cpp`, `SetupChainParamsOptions`).
//!
//! `docs/CONFORMANCE.md` lists every option Dash Core v23 accepts and what this library does with
//! it. Values are checked one by one as they are set ([`ChainParams::set`]) and as a whole by
//! [`ChainParams::validate`]; a problem is a [`ParamError`] naming the option.

use super::llmq::{LlmqConfig, LlmqParams};
use super::{Activations, Network};

/// Why a chain parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// Not an option Dash Core knows (or not one that concerns chain parameters).
    #[error("unknown chain parameter {0:?} (see docs/CONFORMANCE.md for the supported ones)")]
    UnknownKey(String),
    /// The value does not parse as Core's syntax for the option.
    #[error("invalid value {value:?} for {key}: expected {expected}")]
    BadValue {
        /// The option.
        key: String,
        /// The value given.
        value: String,
        /// What Core's syntax is.
        expected: &'static str,
    },
    /// The option exists only for another network (Core reads it only there).
    #[error("{key} is a {only}-only parameter, but the network is {network}")]
    WrongNetwork {
        /// The option.
        key: String,
        /// The network the option is for.
        only: Network,
        /// The configured network.
        network: Network,
    },
    /// An option Core accepts whose effect this library does not implement; refused rather than
    /// silently validating by other rules.
    #[error("{key}={value} is not supported: {why}")]
    Unsupported {
        /// The option.
        key: String,
        /// The value given.
        value: String,
        /// What is missing.
        why: &'static str,
    },
    /// The parameters contradict each other (Core refuses to start with them).
    #[error("inconsistent chain parameters: {0}")]
    Inconsistent(String),
    /// A line of a `dash.conf` could not be read.
    #[error("dash.conf line {line}: {message}")]
    Conf {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

/// Core's `BIP9Deployment::ALWAYS_ACTIVE`.
pub const ALWAYS_ACTIVE: i64 = -1;
/// Core's `BIP9Deployment::NEVER_ACTIVE`.
pub const NEVER_ACTIVE: i64 = -2;
/// Core's `BIP9Deployment::NO_TIMEOUT`.
pub const NO_TIMEOUT: i64 = i64::MAX;

/// A version-bits (BIP9, with Dash's falling threshold) deployment (Core `Consensus::BIP9Deployment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bip9Deployment {
    /// Core's name (`-vbparams` key).
    pub name: &'static str,
    /// Version bit signalled by miners.
    pub bit: u8,
    /// Median time past from which signalling counts ([`ALWAYS_ACTIVE`], [`NEVER_ACTIVE`] or a time).
    pub start_time: i64,
    /// Median time past after which a started deployment fails ([`NO_TIMEOUT`] for never).
    pub timeout: i64,
    /// Lowest height at which a locked-in deployment becomes active.
    pub min_activation_height: u32,
    /// Blocks per signalling period; 0 = the network's miner confirmation window.
    pub window: u32,
    /// Signals needed in the first period; 0 = the network's rule-change threshold.
    pub threshold_start: u32,
    /// Lowest threshold the falling threshold reaches (0 = no fall-off).
    pub threshold_min: u32,
    /// Fall-off coefficient (0 = no fall-off).
    pub falloff_coeff: u32,
}

/// States of a version-bits deployment (Core `ThresholdState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdState {
    /// Before its start time.
    Defined,
    /// Signalling is counted.
    Started,
    /// Enough signals; active from the next period (or the minimum activation height).
    LockedIn,
    /// In force.
    Active,
    /// Timed out.
    Failed,
}

/// Version and time of the block at a height, when known (`None` below the first header held).
pub type BlockVersionTime<'a> = &'a dyn Fn(u32) -> Option<(i32, u32)>;

/// Core's `VERSIONBITS_TOP_MASK` / `VERSIONBITS_TOP_BITS`.
const TOP_MASK: u32 = 0xE000_0000;
const TOP_BITS: u32 = 0x2000_0000;

impl Bip9Deployment {
    /// Appends every parameter that decides the deployment's state (for
    /// [`ChainParams::fingerprint`]).
    fn fingerprint_into(&self, b: &mut Vec<u8>) {
        b.push(self.bit);
        for v in [self.start_time, self.timeout] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [
            self.min_activation_height,
            self.window,
            self.threshold_start,
            self.threshold_min,
            self.falloff_coeff,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn period(&self, miner_window: u32) -> u32 {
        if self.window != 0 {
            self.window
        } else {
            miner_window
        }
    }

    fn threshold(&self, default_threshold: u32, period: u32, attempt: u64) -> u64 {
        if self.threshold_start == 0 {
            return u64::from(default_threshold);
        }
        if self.threshold_min == 0 || self.falloff_coeff == 0 {
            return u64::from(self.threshold_start);
        }
        let fall = attempt * attempt * u64::from(period) / 100 / u64::from(self.falloff_coeff);
        u64::from(self.threshold_min).max(u64::from(self.threshold_start).saturating_sub(fall))
    }

    /// The state of this deployment for the block at `height`, computed from the versions and
    /// times of the blocks below it as Core's `AbstractThresholdConditionChecker::GetStateFor`
    /// does (every block of a period shares the state of the period's first block). `None` when
    /// a block it needs is unknown.
    pub fn state_at(
        &self,
        height: u32,
        miner_window: u32,
        default_threshold: u32,
        block: BlockVersionTime<'_>,
    ) -> Option<ThresholdState> {
        match self.start_time {
            ALWAYS_ACTIVE => return Some(ThresholdState::Active),
            NEVER_ACTIVE => return Some(ThresholdState::Failed),
            _ => {}
        }
        let period = self.period(miner_window).max(1);
        let target = height - height % period;
        let mut state = ThresholdState::Defined;
        let mut started_at = 0u32;
        let mut first = period;
        while first <= target {
            let prev = first - 1;
            let mtp = median_time_past(prev, block)?;
            state = match state {
                ThresholdState::Defined if mtp >= self.start_time => {
                    started_at = first;
                    ThresholdState::Started
                }
                ThresholdState::Started => {
                    let mut count = 0u64;
                    for h in (first - period)..first {
                        let (version, _) = block(h)?;
                        let v = version as u32;
                        if v & TOP_MASK == TOP_BITS && v & (1u32 << self.bit) != 0 {
                            count += 1;
                        }
                    }
                    let attempt = u64::from((prev - started_at) / period);
                    if count >= self.threshold(default_threshold, period, attempt) {
                        ThresholdState::LockedIn
                    } else if mtp >= self.timeout {
                        ThresholdState::Failed
                    } else {
                        ThresholdState::Started
                    }
                }
                ThresholdState::LockedIn if first >= self.min_activation_height => {
                    ThresholdState::Active
                }
                s => s,
            };
            first += period;
        }
        Some(state)
    }
}

/// Median of the times of the (up to) 11 blocks ending at `height` (Core `GetMedianTimePast`).
fn median_time_past(height: u32, block: BlockVersionTime<'_>) -> Option<i64> {
    let from = height.saturating_sub(10);
    let mut times = Vec::with_capacity(11);
    for h in from..=height {
        times.push(i64::from(block(h)?.1));
    }
    times.sort_unstable();
    Some(times[times.len() / 2])
}

/// The chain parameters of one network, as Dash Core runs it.
///
/// ```
/// use dash_qrsync::network::{ChainParams, Network};
///
/// // What Dash Core's functional tests start regtest nodes with.
/// let mut p = ChainParams::new(Network::Regtest);
/// p.set("dip3params", "2:2").unwrap();
/// p.set("testactivationheight", "v20@100").unwrap();
/// p.set("testactivationheight", "mn_rr@100").unwrap();
/// p.set("llmqtestparams", "4:4").unwrap();
/// p.validate().unwrap();
/// assert_eq!(p.activations().v20, 100);
/// assert_eq!(p.llmq().params(100).unwrap().size, 4);
///
/// // Mistakes name the option.
/// let e = p.set("testactivationheight", "v21@5").unwrap_err();
/// assert!(e.to_string().contains("testactivationheight"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainParams {
    network: Network,
    devnet_name: Option<String>,
    activations: Activations,
    llmq: LlmqConfig,
    testdummy: Bip9Deployment,
    /// V24 when its activation is visible in the headers (`vbparams=v24:…:0`, version bits
    /// without masternode signalling); `None` when it activates by EHF signal, which a light
    /// client cannot see.
    v24: Option<Bip9Deployment>,
    miner_confirmation_window: u32,
    rule_change_activation_threshold: u32,
    settings: Vec<(String, String)>,
}

/// How one option is handled (for `docs/CONFORMANCE.md` and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInfo {
    /// Core's option name, without the leading dash.
    pub key: &'static str,
    /// The only network Core reads it on (`None`: the network selectors).
    pub network: Option<Network>,
    /// What this library does with it.
    pub support: Support,
}

/// Support of one Core option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Changes the rules this library checks, as Core does.
    Applied,
    /// Accepted; it changes nothing a light client checks.
    NoEffect,
    /// Accepted only at Core's default value; any other value is refused with
    /// [`ParamError::Unsupported`].
    DefaultOnly,
}

/// Every chain-parameter option of Dash Core v23 (`SetupChainParamsOptions` and
/// `SetupChainParamsBaseOptions`) and how it is handled.
pub const KEYS: &[KeyInfo] = &[
    key("regtest", None, Support::Applied),
    key("testnet", None, Support::Applied),
    key("devnet", None, Support::Applied),
    key("chain", None, Support::Applied),
    key(
        "testactivationheight",
        Some(Network::Regtest),
        Support::Applied,
    ),
    key("dip3params", Some(Network::Regtest), Support::Applied),
    key("vbparams", Some(Network::Regtest), Support::Applied),
    key("llmqtestparams", Some(Network::Regtest), Support::Applied),
    key(
        "llmqtestinstantsendparams",
        Some(Network::Regtest),
        Support::Applied,
    ),
    key(
        "llmqtestplatformparams",
        Some(Network::Regtest),
        Support::Applied,
    ),
    key(
        "llmqtestinstantsenddip0024",
        Some(Network::Regtest),
        Support::Applied,
    ),
    key("budgetparams", Some(Network::Regtest), Support::NoEffect),
    key("llmqchainlocks", Some(Network::Devnet), Support::Applied),
    key(
        "llmqinstantsenddip0024",
        Some(Network::Devnet),
        Support::Applied,
    ),
    key("llmqplatform", Some(Network::Devnet), Support::Applied),
    key("llmqmnhf", Some(Network::Devnet), Support::Applied),
    key("llmqdevnetparams", Some(Network::Devnet), Support::Applied),
    key(
        "minimumdifficultyblocks",
        Some(Network::Devnet),
        Support::DefaultOnly,
    ),
    key(
        "highsubsidyblocks",
        Some(Network::Devnet),
        Support::NoEffect,
    ),
    key(
        "highsubsidyfactor",
        Some(Network::Devnet),
        Support::NoEffect,
    ),
    key(
        "powtargetspacing",
        Some(Network::Devnet),
        Support::DefaultOnly,
    ),
];

const fn key(key: &'static str, network: Option<Network>, support: Support) -> KeyInfo {
    KeyInfo {
        key,
        network,
        support,
    }
}

/// Names `testactivationheight` accepts (Core `MaybeUpdateHeights`).
pub const ACTIVATION_NAMES: &[&str] = &[
    "bip147", "bip34", "dersig", "cltv", "csv", "brr", "dip0001", "dip0008", "dip0024", "v19",
    "v20", "mn_rr",
];

/// Version bit of the V24 deployment on every network (Core v24 `src/chainparams.cpp`,
/// `DEPLOYMENT_V24].bit = 12`).
pub const V24_BIT: u8 = 12;

/// Deployments `vbparams` accepts (Core `VersionBitsDeploymentInfo`).
pub const DEPLOYMENT_NAMES: &[&str] = &["testdummy", "v24"];

fn parse_u32(key: &str, value: &str, expected: &'static str) -> Result<u32, ParamError> {
    value
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|v| *v >= 0)
        .map(|v| v as u32)
        .ok_or_else(|| bad(key, value, expected))
}

fn bad(key: &str, value: &str, expected: &'static str) -> ParamError {
    ParamError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        expected,
    }
}

fn pair(key: &str, value: &str, expected: &'static str) -> Result<(u32, u32), ParamError> {
    let mut it = value.split(':');
    match (it.next(), it.next(), it.next()) {
        (Some(a), Some(b), None) => {
            Ok((parse_u32(key, a, expected)?, parse_u32(key, b, expected)?))
        }
        _ => Err(bad(key, value, expected)),
    }
}

impl ChainParams {
    /// Dash Core's parameters for `network`, with nothing overridden.
    pub fn new(network: Network) -> ChainParams {
        let (window, threshold) = match network {
            Network::Mainnet => (2016, 1815),
            Network::Testnet | Network::Devnet => (2016, 1512),
            Network::Regtest => (144, 108),
        };
        let start_time = if network == Network::Regtest {
            0
        } else {
            NEVER_ACTIVE
        };
        ChainParams {
            network,
            devnet_name: None,
            activations: network.activations(),
            llmq: LlmqConfig::for_network(network),
            testdummy: Bip9Deployment {
                name: "testdummy",
                bit: 28,
                start_time,
                timeout: NO_TIMEOUT,
                min_activation_height: 0,
                window: 0,
                threshold_start: 0,
                threshold_min: 0,
                falloff_coeff: 0,
            },
            v24: None,
            miner_confirmation_window: window,
            rule_change_activation_threshold: threshold,
            settings: Vec::new(),
        }
    }

    /// The network (message start, ports, genesis).
    pub fn network(&self) -> Network {
        self.network
    }

    /// The devnet's name (`devnet=NAME`), for devnets.
    pub fn devnet_name(&self) -> Option<&str> {
        self.devnet_name.as_deref()
    }

    /// Activation heights in effect.
    pub fn activations(&self) -> &Activations {
        &self.activations
    }

    /// LLMQ types, sizes and roles in effect.
    pub fn llmq(&self) -> &LlmqConfig {
        &self.llmq
    }

    /// Parameters of a configured LLMQ type as this network runs it.
    pub fn llmq_params(&self, llmq_type: u8) -> Option<&LlmqParams> {
        self.llmq.params(llmq_type)
    }

    /// The `testdummy` deployment (enables `LLMQ_TEST_V17` on regtest).
    pub fn testdummy(&self) -> &Bip9Deployment {
        &self.testdummy
    }

    /// The V24 deployment when its activation is visible in the headers (set by
    /// `vbparams=v24:START:END:MIN_HEIGHT:WINDOW:THRESHOLD:THRESHOLD_MIN:FALLOFF:0`, Core's own
    /// option with masternode signalling off); `None` when V24 activates by EHF signal.
    pub fn v24(&self) -> Option<&Bip9Deployment> {
        self.v24.as_ref()
    }

    /// The options set so far, in order, as `(key, value)`.
    pub fn settings(&self) -> &[(String, String)] {
        &self.settings
    }

    /// The same network with another LLMQ configuration (a devnet with chosen types, the
    /// simulated network). Checked like any other change.
    pub fn with_llmq(mut self, llmq: LlmqConfig) -> Result<ChainParams, ParamError> {
        self.llmq = llmq;
        self.validate()?;
        Ok(self)
    }

    fn only(&self, key: &str, network: Network) -> Result<(), ParamError> {
        if self.network == network {
            Ok(())
        } else {
            Err(ParamError::WrongNetwork {
                key: key.to_string(),
                only: network,
                network: self.network,
            })
        }
    }

    /// Sets one option, named and written as Dash Core takes it (without the leading `-`), e.g.
    /// `set("testactivationheight", "v20@100")`. Options Core may take several times
    /// (`testactivationheight`, `vbparams`) add up. The network itself is chosen with
    /// [`ChainParams::new`] (or by [`crate::network::conf`] from a `dash.conf`): setting
    /// `regtest`, `testnet` or `chain` to another network is an error; `devnet` names the devnet.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ParamError> {
        let key = key.trim().trim_start_matches('-');
        let value = value.trim();
        match key {
            "regtest" | "testnet" | "chain" => {
                let wanted = match (key, value) {
                    ("chain", "main") => Some(Network::Mainnet),
                    ("chain", "test") => Some(Network::Testnet),
                    ("chain", "regtest") => Some(Network::Regtest),
                    ("chain", "devnet") => Some(Network::Devnet),
                    ("chain", _) => return Err(bad(key, value, "main, test, devnet or regtest")),
                    (_, "0") => None,
                    ("regtest", "1" | "") => Some(Network::Regtest),
                    ("testnet", "1" | "") => Some(Network::Testnet),
                    _ => return Err(bad(key, value, "0 or 1")),
                };
                if let Some(n) = wanted.filter(|n| *n != self.network) {
                    return Err(ParamError::Inconsistent(format!(
                        "{key}={value} selects {n}, but the network is {}",
                        self.network
                    )));
                }
            }
            "devnet" => {
                self.only(key, Network::Devnet)?;
                if value.is_empty() || value.len() > 64 {
                    return Err(bad(key, value, "a devnet name of 1 to 64 characters"));
                }
                self.devnet_name = Some(value.to_string());
            }
            "testactivationheight" => {
                self.only(key, Network::Regtest)?;
                let expected = "NAME@HEIGHT with NAME one of bip147, bip34, dersig, cltv, csv, brr, dip0001, dip0008, dip0024, v19, v20, mn_rr";
                let (name, h) = value
                    .split_once('@')
                    .ok_or_else(|| bad(key, value, expected))?;
                let h = parse_u32(key, h, expected)?;
                if h == i32::MAX as u32 {
                    return Err(bad(key, value, expected));
                }
                let a = &mut self.activations;
                match name {
                    "dip0008" => a.dip0008 = h,
                    "dip0024" => {
                        a.dip0024 = h;
                        a.dip0024_quorums = h;
                    }
                    "v19" => a.v19 = h,
                    "v20" => a.v20 = h,
                    "mn_rr" => a.mn_rr = h,
                    n if ACTIVATION_NAMES.contains(&n) => {}
                    _ => return Err(bad(key, value, expected)),
                }
            }
            "dip3params" => {
                self.only(key, Network::Regtest)?;
                let (act, enf) = pair(key, value, "ACTIVATION:ENFORCEMENT (two heights)")?;
                self.activations.dip0003 = act;
                self.activations.dip0003_enforcement = enf;
            }
            "vbparams" => {
                self.only(key, Network::Regtest)?;
                self.set_vbparams(value)?;
            }
            "llmqtestparams" | "llmqtestinstantsendparams" | "llmqtestplatformparams" => {
                self.only(key, Network::Regtest)?;
                let t = match key {
                    "llmqtestparams" => 100,
                    "llmqtestinstantsendparams" => 104,
                    _ => 106,
                };
                let (size, threshold) = pair(key, value, "SIZE:THRESHOLD")?;
                self.resize(key, value, t, size, threshold)?;
            }
            "llmqdevnetparams" => {
                self.only(key, Network::Devnet)?;
                let (size, threshold) = pair(key, value, "SIZE:THRESHOLD")?;
                self.resize(key, value, 101, size, threshold)?;
            }
            "llmqtestinstantsenddip0024" => {
                self.only(key, Network::Regtest)?;
                self.llmq.instantsend = self.type_named(key, value, None)?;
            }
            "llmqinstantsenddip0024" => {
                self.only(key, Network::Devnet)?;
                self.llmq.instantsend = self.type_named(key, value, Some(true))?;
            }
            "llmqchainlocks" => {
                self.only(key, Network::Devnet)?;
                self.llmq.chainlocks = self.type_named(key, value, Some(false))?;
            }
            "llmqplatform" => {
                self.only(key, Network::Devnet)?;
                self.llmq.platform = self.type_named(key, value, None)?;
            }
            "llmqmnhf" => {
                self.only(key, Network::Devnet)?;
                self.llmq.mnhf = self.type_named(key, value, None)?;
            }
            "minimumdifficultyblocks" => {
                self.only(key, Network::Devnet)?;
                if parse_u32(key, value, "a block count")? != 0 {
                    return Err(ParamError::Unsupported {
                        key: key.to_string(),
                        value: value.to_string(),
                        why: "minimum-difficulty blocks at the start of a devnet are not checked by this library's proof-of-work rules",
                    });
                }
            }
            "powtargetspacing" => {
                self.only(key, Network::Devnet)?;
                let v = value
                    .parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 1)
                    .ok_or_else(|| bad(key, value, "seconds, at least 1"))?;
                if v != 150 {
                    return Err(ParamError::Unsupported {
                        key: key.to_string(),
                        value: value.to_string(),
                        why: "difficulty retargeting is implemented for Dash's 150 s block spacing only",
                    });
                }
            }
            "highsubsidyblocks" | "highsubsidyfactor" => {
                self.only(key, Network::Devnet)?;
                parse_u32(key, value, "a number")?;
            }
            "budgetparams" => {
                self.only(key, Network::Regtest)?;
                let mut it = value.split(':');
                let ok = (0..3).all(|_| it.next().is_some_and(|v| parse_u32(key, v, "").is_ok()))
                    && it.next().is_none();
                if !ok {
                    return Err(bad(
                        key,
                        value,
                        "MASTERNODE:BUDGET:SUPERBLOCK (three heights)",
                    ));
                }
            }
            _ => return Err(ParamError::UnknownKey(key.to_string())),
        }
        self.settings.push((key.to_string(), value.to_string()));
        Ok(())
    }

    fn resize(
        &mut self,
        key: &str,
        value: &str,
        llmq_type: u8,
        size: u32,
        threshold: u32,
    ) -> Result<(), ParamError> {
        if size == 0 || threshold == 0 || threshold > size || size > 1000 {
            return Err(bad(
                key,
                value,
                "SIZE:THRESHOLD with 1 <= THRESHOLD <= SIZE <= 1000",
            ));
        }
        let p = self
            .llmq
            .params_mut(llmq_type)
            .ok_or(ParamError::UnknownKey(key.to_string()))?;
        // Core `UpdateLLMQTestParameters` / `UpdateLLMQDevnetParameters`.
        p.size = size;
        p.min_size = threshold;
        p.threshold = threshold;
        p.dkg_bad_votes_threshold = threshold;
        Ok(())
    }

    fn type_named(&self, key: &str, value: &str, rotated: Option<bool>) -> Result<u8, ParamError> {
        let p = self
            .llmq
            .type_by_name(value)
            .ok_or_else(|| bad(key, value, "the name of an LLMQ type of this network"))?;
        match rotated {
            Some(true) if !p.use_rotation => {
                Err(bad(key, value, "an LLMQ type that uses rotation"))
            }
            Some(false) if p.use_rotation => {
                Err(bad(key, value, "an LLMQ type that does not use rotation"))
            }
            _ => Ok(p.llmq_type),
        }
    }

    fn set_vbparams(&mut self, value: &str) -> Result<(), ParamError> {
        const KEY: &str = "vbparams";
        const EXPECTED: &str = "DEPLOYMENT:START:END[:MIN_ACTIVATION_HEIGHT[:WINDOW:THRESHOLD[:THRESHOLD_MIN:FALLOFF_COEFF:USE_EHF]]]";
        let f: Vec<&str> = value.split(':').collect();
        if ![3, 4, 6, 9].contains(&f.len()) {
            return Err(bad(KEY, value, EXPECTED));
        }
        let int = |s: &str| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| bad(KEY, value, EXPECTED))
        };
        let small =
            |s: &str| int(s).and_then(|v| u32::try_from(v).map_err(|_| bad(KEY, value, EXPECTED)));
        let start = int(f[1])?;
        let timeout = int(f[2])?;
        let min_height = if f.len() >= 4 { small(f[3])? } else { 0 };
        let is_v24 = match f[0] {
            "testdummy" => false,
            "v24" => true,
            _ => return Err(bad(KEY, value, "a deployment named testdummy or v24")),
        };
        if is_v24 {
            // Core's V24 signals with masternode EHF messages unless the last field is 0; only
            // then is its activation a matter of block versions a light client can follow.
            let use_ehf = f.len() != 9 || int(f[8])? > 0;
            if use_ehf {
                self.v24 = None;
                return Ok(());
            }
            self.v24 = Some(Bip9Deployment {
                name: "v24",
                bit: V24_BIT,
                start_time: start,
                timeout,
                min_activation_height: min_height,
                window: small(f[4])?,
                threshold_start: small(f[5])?,
                threshold_min: small(f[6])?,
                falloff_coeff: small(f[7])?,
            });
            return Ok(());
        }
        let d = &mut self.testdummy;
        d.start_time = start;
        d.timeout = timeout;
        d.min_activation_height = min_height;
        if f.len() >= 6 {
            d.window = small(f[4])?;
            d.threshold_start = small(f[5])?;
        }
        if f.len() == 9 {
            d.threshold_min = small(f[6])?;
            d.falloff_coeff = small(f[7])?;
            if int(f[8])? > 0 {
                return Err(ParamError::Unsupported {
                    key: KEY.to_string(),
                    value: value.to_string(),
                    why: "masternode-signalled (EHF) activation of testdummy is not implemented",
                });
            }
        }
        Ok(())
    }

    /// Checks the parameters as a whole, as Core does at start-up; every problem names the
    /// parameters involved.
    pub fn validate(&self) -> Result<(), ParamError> {
        let a = &self.activations;
        let inconsistent = |m: String| Err(ParamError::Inconsistent(m));
        if self.network == Network::Regtest {
            // Core asserts these for regtest.
            if a.v20 < a.dip0003 {
                return inconsistent(format!(
                    "v20 ({}) must not activate before DIP3 ({}); set testactivationheight=v20@HEIGHT or dip3params",
                    a.v20, a.dip0003
                ));
            }
            if a.mn_rr < a.v20 {
                return inconsistent(format!(
                    "mn_rr ({}) must not activate before v20 ({}); set testactivationheight=mn_rr@HEIGHT",
                    a.mn_rr, a.v20
                ));
            }
        }
        let l = &self.llmq;
        for (role, t) in [
            ("ChainLocks", l.chainlocks),
            ("InstantSend", l.instantsend),
            ("Platform", l.platform),
            ("MNHF", l.mnhf),
        ] {
            if l.params(t).is_none() {
                return inconsistent(format!(
                    "the {role} LLMQ type {t} is not configured for this network"
                ));
            }
        }
        if l.params(l.chainlocks).is_some_and(|p| p.use_rotation) {
            return inconsistent("the ChainLocks LLMQ type must not use rotation".into());
        }
        for p in &l.types {
            if p.threshold == 0 || p.threshold > p.size || p.min_size > p.size {
                return inconsistent(format!(
                    "{}: threshold {} and minimum size {} must be between 1 and the size {}",
                    p.name, p.threshold, p.min_size, p.size
                ));
            }
            if p.use_rotation && p.size % 4 != 0 {
                return inconsistent(format!(
                    "{}: a rotated type's size ({}) must be a multiple of 4",
                    p.name, p.size
                ));
            }
        }
        Ok(())
    }

    /// A digest of every value that decides validation (network, activation heights, LLMQ types,
    /// sizes and roles, the `testdummy` deployment): state saved under other parameters is not
    /// trusted. Equal parameters set in a different way have equal fingerprints.
    pub fn fingerprint(&self) -> crate::hashes::Hash256 {
        let mut b: Vec<u8> = Vec::with_capacity(512);
        b.extend_from_slice(self.network.name().as_bytes());
        b.push(0);
        b.extend_from_slice(self.devnet_name.as_deref().unwrap_or("").as_bytes());
        b.push(0);
        let a = &self.activations;
        for h in [
            a.dip0003,
            a.dip0003_enforcement,
            a.dip0008,
            a.dip0020,
            a.dip0024,
            a.dip0024_quorums,
            a.v19,
            a.v20,
            a.mn_rr,
            a.withdrawals,
        ] {
            b.extend_from_slice(&h.to_le_bytes());
        }
        let l = &self.llmq;
        b.extend_from_slice(&[l.chainlocks, l.instantsend, l.platform, l.mnhf]);
        b.extend_from_slice(&(l.configured_types.len() as u32).to_le_bytes());
        b.extend_from_slice(&l.configured_types);
        for p in &l.types {
            b.push(p.llmq_type);
            b.push(u8::from(p.use_rotation));
            for v in [
                p.size,
                p.min_size,
                p.threshold,
                p.dkg_interval,
                p.dkg_phase_blocks,
                p.dkg_mining_window_start,
                p.dkg_mining_window_end,
                p.dkg_bad_votes_threshold,
                p.signing_active_quorum_count,
                p.keep_old_connections,
                p.keep_old_keys,
                p.recovery_members,
            ] {
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.testdummy.fingerprint_into(&mut b);
        for v in [
            self.miner_confirmation_window,
            self.rule_change_activation_threshold,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        // Appended only when set, so fingerprints (and saved state) of every other
        // configuration are unchanged.
        if let Some(d) = &self.v24 {
            b.extend_from_slice(b"v24");
            d.fingerprint_into(&mut b);
        }
        crate::hashes::sha256d(&b)
    }

    /// Whether V24 is active for the block after `prev_height` (Core `DeploymentActiveAfter`):
    /// `None` when V24's activation is not visible in the headers (EHF-signalled, as on mainnet
    /// and testnet) or a header it needs is not known.
    pub fn v24_active_after(&self, prev_height: u32, block: BlockVersionTime<'_>) -> Option<bool> {
        self.active_after(self.v24.as_ref()?, prev_height, block)
    }

    /// Whether the deployment is active for the block after `prev_height` (Core
    /// `DeploymentActiveAfter`); `None` when a header it needs is not known.
    pub fn testdummy_active_after(
        &self,
        prev_height: u32,
        block: BlockVersionTime<'_>,
    ) -> Option<bool> {
        self.active_after(&self.testdummy, prev_height, block)
    }

    /// Core's `DeploymentActiveAfter` for a version-bits deployment of this network.
    fn active_after(
        &self,
        d: &Bip9Deployment,
        prev_height: u32,
        block: BlockVersionTime<'_>,
    ) -> Option<bool> {
        d.state_at(
            prev_height + 1,
            self.miner_confirmation_window,
            self.rule_change_activation_threshold,
            block,
        )
        .map(|s| s == ThresholdState::Active)
    }

    /// Whether `llmq_type` produces quorums (has members) for a quorum based at `base_height` —
    /// Core's `IsQuorumTypeEnabled(type, base.prev)` (`src/validation.cpp`, §6.3). `block` gives
    /// the version and time of a block by height; it is consulted only for `LLMQ_TEST_V17`,
    /// whose enablement follows the `testdummy` deployment. When those headers are not known
    /// (a chain started above them) the type counts as enabled: its commitments are still
    /// checked member by member and signature by signature.
    pub fn is_type_enabled(
        &self,
        llmq_type: u8,
        base_height: u32,
        block: BlockVersionTime<'_>,
    ) -> bool {
        let a = &self.activations;
        let prev = base_height.saturating_sub(1);
        let dip24_active = prev + 1 >= a.dip0024;
        let have_dip24_quorums = prev >= a.dip0024_quorums;
        match llmq_type {
            1 => {
                matches!(self.network, Network::Testnet | Network::Devnet)
                    || !(dip24_active && have_dip24_quorums)
            }
            5 | 103 | 105 => dip24_active,
            4 => prev + 1 >= a.dip0020,
            6 => prev >= 847_000,
            2 | 3 | 100 | 101 | 106 | 107 => true,
            104 => !dip24_active || !have_dip24_quorums || self.llmq.instantsend == 104,
            102 => self.testdummy_active_after(prev, block).unwrap_or(true),
            _ => false,
        }
    }

    /// Whether commitments of `llmq_type` based at `base_height` are rotated: the type uses
    /// rotation and DIP-0024 is active at its cycle's base (Core `IsQuorumRotationEnabled`).
    pub fn is_rotation_enabled(&self, llmq_type: u8, base_height: u32) -> bool {
        let Some(p) = self.llmq.params(llmq_type) else {
            return false;
        };
        if !p.use_rotation || p.dkg_interval == 0 {
            return false;
        }
        let cycle = base_height - base_height % p.dkg_interval;
        cycle >= 1 && cycle >= self.activations.dip0024
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regtest_framework() -> ChainParams {
        let mut p = ChainParams::new(Network::Regtest);
        for (k, v) in [
            ("dip3params", "2:2"),
            ("testactivationheight", "v20@100"),
            ("testactivationheight", "mn_rr@100"),
        ] {
            p.set(k, v).unwrap();
        }
        p.validate().unwrap();
        p
    }

    #[test]
    fn core_defaults() {
        // Values from Dash Core v23.1 src/chainparams.cpp.
        let r = ChainParams::new(Network::Regtest);
        let a = r.activations();
        assert_eq!(
            (a.dip0003, a.dip0003_enforcement, a.v20, a.mn_rr),
            (432, 500, 432, 432)
        );
        assert_eq!((a.dip0008, a.dip0024, a.v19, a.withdrawals), (1, 1, 1, 600));
        assert_eq!(r.llmq().params(100).unwrap().size, 3);
        assert_eq!(r.testdummy().bit, 28);
        assert_eq!(r.testdummy().start_time, 0);
        let m = ChainParams::new(Network::Mainnet);
        assert_eq!(m.testdummy().start_time, NEVER_ACTIVE);
        assert_eq!(m.activations().dip0003_enforcement, 1_047_200);
        r.validate().unwrap();
        m.validate().unwrap();
        ChainParams::new(Network::Testnet).validate().unwrap();
        ChainParams::new(Network::Devnet).validate().unwrap();
    }

    #[test]
    fn framework_settings_apply() {
        let p = regtest_framework();
        let a = p.activations();
        assert_eq!(
            (a.dip0003, a.dip0003_enforcement, a.v20, a.mn_rr),
            (2, 2, 100, 100)
        );
        assert_eq!(p.settings().len(), 3);
        let mut q = p.clone();
        q.set("llmqtestparams", "4:4").unwrap();
        let t = q.llmq().params(100).unwrap();
        assert_eq!(
            (t.size, t.min_size, t.threshold, t.dkg_bad_votes_threshold),
            (4, 4, 4, 4)
        );
        // The other test types keep Core's defaults.
        assert_eq!(q.llmq().params(104).unwrap().size, 3);
        q.set("testactivationheight", "dip0024@200").unwrap();
        assert_eq!(
            (q.activations().dip0024, q.activations().dip0024_quorums),
            (200, 200)
        );
        // Accepted names that change nothing a light client checks.
        for n in ["bip147", "bip34", "dersig", "cltv", "csv", "brr", "dip0001"] {
            q.set("testactivationheight", &format!("{n}@5")).unwrap();
        }
        q.set("llmqtestinstantsenddip0024", "llmq_test_instantsend")
            .unwrap();
        assert_eq!(q.llmq().instantsend, 104);
        q.validate().unwrap();
    }

    #[test]
    fn errors_name_the_option() {
        let mut p = ChainParams::new(Network::Regtest);
        for (k, v, needle) in [
            ("testactivationheight", "v21@5", "testactivationheight"),
            ("testactivationheight", "v20-5", "NAME@HEIGHT"),
            ("testactivationheight", "v20@-1", "testactivationheight"),
            ("dip3params", "2", "ACTIVATION:ENFORCEMENT"),
            ("llmqtestparams", "4:5", "THRESHOLD <= SIZE"),
            ("llmqtestparams", "x:2", "llmqtestparams"),
            ("vbparams", "testdummy:0", "DEPLOYMENT:START:END"),
            ("vbparams", "segwit:0:1", "testdummy or v24"),
            ("llmqtestinstantsenddip0024", "llmq_nope", "LLMQ type"),
            ("nosuchkey", "1", "unknown chain parameter \"nosuchkey\""),
            ("llmqchainlocks", "llmq_test", "devnet-only"),
            ("testnet", "1", "selects testnet"),
        ] {
            let e = p.set(k, v).unwrap_err().to_string();
            assert!(e.contains(needle), "{k}={v}: {e}");
        }
        assert!(p.settings().is_empty(), "refused values are not recorded");
        let mut m = ChainParams::new(Network::Mainnet);
        let e = m.set("testactivationheight", "v20@100").unwrap_err();
        assert_eq!(
            e,
            ParamError::WrongNetwork {
                key: "testactivationheight".into(),
                only: Network::Regtest,
                network: Network::Mainnet
            }
        );
        let mut d = ChainParams::new(Network::Devnet);
        assert!(matches!(
            d.set("powtargetspacing", "60"),
            Err(ParamError::Unsupported { .. })
        ));
        d.set("powtargetspacing", "150").unwrap();
        d.set("llmqchainlocks", "llmq_devnet_dip0024").unwrap_err();
        d.set("llmqchainlocks", "llmq_400_60").unwrap();
        d.set("llmqinstantsenddip0024", "llmq_devnet").unwrap_err();
        d.set("llmqdevnetparams", "10:6").unwrap();
        assert_eq!(d.llmq().params(101).unwrap().size, 10);
        d.set("devnet", "mydevnet").unwrap();
        assert_eq!(d.devnet_name(), Some("mydevnet"));
    }

    #[test]
    fn fingerprint_follows_effective_values() {
        let a = regtest_framework();
        let mut b = ChainParams::new(Network::Regtest);
        // The same values set in another order (and v20 given twice).
        b.set("testactivationheight", "mn_rr@100").unwrap();
        b.set("testactivationheight", "v20@300").unwrap();
        b.set("dip3params", "2:2").unwrap();
        b.set("testactivationheight", "v20@100").unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut c = a.clone();
        c.set("llmqtestparams", "4:4").unwrap();
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_ne!(
            ChainParams::new(Network::Regtest).fingerprint(),
            a.fingerprint()
        );
        assert_ne!(
            ChainParams::new(Network::Mainnet).fingerprint(),
            ChainParams::new(Network::Testnet).fingerprint()
        );
    }

    #[test]
    fn inconsistent_heights_are_refused() {
        let mut p = ChainParams::new(Network::Regtest);
        p.set("testactivationheight", "v20@100").unwrap();
        // v20 (100) below DIP3 (432): Core asserts.
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("v20 (100)") && e.contains("DIP3 (432)"), "{e}");
        p.set("dip3params", "2:2").unwrap();
        p.validate().unwrap();
        // mn_rr (432 by default) below v20 (500): Core asserts.
        p.set("testactivationheight", "v20@500").unwrap();
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("mn_rr (432)") && e.contains("v20 (500)"), "{e}");
        p.set("testactivationheight", "mn_rr@500").unwrap();
        p.validate().unwrap();
    }

    /// A chain of `n` blocks where blocks in `signal` set bit 28 (version 0x30000000) and every
    /// block is one second after the previous one.
    fn chain(signal: impl Fn(u32) -> bool) -> impl Fn(u32) -> Option<(i32, u32)> {
        move |h| {
            let v = if signal(h) { 0x3000_0000 } else { 0x2000_0000 };
            Some((v, 1_000 + h))
        }
    }

    #[test]
    fn testdummy_follows_bip9_periods() {
        // Hand-derived: regtest window 144, threshold 108, start 0. Period 0 (0-143) is
        // DEFINED, 144-287 STARTED, signalling there locks in for 288-431, active from 432.
        let p = ChainParams::new(Network::Regtest);
        let all = chain(|_| true);
        assert_eq!(p.testdummy_active_after(430, &all), Some(false));
        assert_eq!(p.testdummy_active_after(431, &all), Some(true));
        assert!(!p.is_type_enabled(102, 431, &all));
        assert!(p.is_type_enabled(102, 432, &all));
        // 107 signals in 144-287: not enough; 108 in 288-431: active from 576.
        let some = chain(|h| (144..251).contains(&h) || (288..396).contains(&h));
        assert_eq!(p.testdummy_active_after(574, &some), Some(false));
        assert_eq!(p.testdummy_active_after(575, &some), Some(true));
        // No signals: never.
        let none = chain(|_| false);
        assert_eq!(p.testdummy_active_after(10_000, &none), Some(false));
        // Missing headers: unknown.
        let cut = |h: u32| (h > 300).then_some((0x3000_0000, 1_000 + h));
        assert_eq!(p.testdummy_active_after(500, &cut), None);
        // Mainnet: never active, no header needed.
        let m = ChainParams::new(Network::Mainnet);
        assert_eq!(m.testdummy_active_after(5_000_000, &cut), Some(false));
        // A bit outside the top bits' range does not count.
        let wrong_top = |h: u32| Some((0x5000_0000, 1_000 + h));
        assert_eq!(p.testdummy_active_after(1_000, &wrong_top), Some(false));
    }

    #[test]
    fn vbparams_override_testdummy() {
        let mut p = ChainParams::new(Network::Regtest);
        p.set("vbparams", "testdummy:0:999999999999:0:10:8")
            .unwrap();
        assert_eq!(
            (p.testdummy().window, p.testdummy().threshold_start),
            (10, 8)
        );
        let all = chain(|_| true);
        // Period 0-9 DEFINED, 10-19 STARTED, 20-29 LOCKED_IN, active from 30.
        assert_eq!(p.testdummy_active_after(28, &all), Some(false));
        assert_eq!(p.testdummy_active_after(29, &all), Some(true));
        p.set("vbparams", "testdummy:-2:0").unwrap();
        assert_eq!(p.testdummy_active_after(29, &all), Some(false));
        p.set("vbparams", "testdummy:-1:0").unwrap();
        assert_eq!(p.testdummy_active_after(0, &all), Some(true));
        // Falling threshold: start 10 of 10, min 5, coefficient 1 → attempt k needs
        // max(5, 10 - k*k*10/100).
        p.set("vbparams", "testdummy:0:999999999999:0:10:10:5:1:0")
            .unwrap();
        let seven = chain(|h| h % 10 < 7);
        // attempt 0: 10, 1: 10, 2: 10, 3: 10 (90/100 = 0), ... 4: 9 (160/100 = 1), 5: 8,
        // 6: 7 → the period 70-79 (attempt 6 counted at prev 79) locks in; active from 90.
        assert_eq!(p.testdummy_active_after(88, &seven), Some(false));
        assert_eq!(p.testdummy_active_after(89, &seven), Some(true));
        assert!(matches!(
            p.set("vbparams", "testdummy:0:1:0:10:10:5:1:1"),
            Err(ParamError::Unsupported { .. })
        ));
        p.set("vbparams", "v24:0:999999999999").unwrap();
    }
}
