//! LLMQ types, their parameters, and which types a network uses for what (PROTOCOL.md §6).
//! When a type is enabled and rotated depends on activation heights: see
//! [`crate::network::ChainParams`].

use crate::network::Network;

/// Parameters of one LLMQ type (Core `Consensus::LLMQParams`, §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LlmqParams {
    /// Type id as on the wire.
    pub llmq_type: u8,
    /// Core's name, e.g. `llmq_60_75`.
    pub name: &'static str,
    /// DIP-0024 rotation.
    pub use_rotation: bool,
    /// Number of members.
    pub size: u32,
    /// Minimum valid members / signers for a commitment.
    pub min_size: u32,
    /// Signature threshold.
    pub threshold: u32,
    /// Blocks between DKGs (the cycle length `c` for rotated types).
    pub dkg_interval: u32,
    /// Blocks per DKG phase.
    pub dkg_phase_blocks: u32,
    /// First block offset of the mining window in the cycle.
    pub dkg_mining_window_start: u32,
    /// Last block offset of the mining window in the cycle.
    pub dkg_mining_window_end: u32,
    /// Bad-vote threshold.
    pub dkg_bad_votes_threshold: u32,
    /// Quorums of this type that sign at a time (`N` for rotated types).
    pub signing_active_quorum_count: u32,
    /// Old quorums whose connections are kept.
    pub keep_old_connections: u32,
    /// Old quorums whose keys are kept.
    pub keep_old_keys: u32,
    /// Members asked for a recovered signature.
    pub recovery_members: u32,
}

macro_rules! llmq {
    ($t:expr, $name:expr, $rot:expr, $size:expr, $min:expr, $thr:expr, $int:expr, $phase:expr,
     $ws:expr, $we:expr, $bad:expr, $active:expr, $conn:expr, $keys:expr, $rec:expr) => {
        LlmqParams {
            llmq_type: $t,
            name: $name,
            use_rotation: $rot,
            size: $size,
            min_size: $min,
            threshold: $thr,
            dkg_interval: $int,
            dkg_phase_blocks: $phase,
            dkg_mining_window_start: $ws,
            dkg_mining_window_end: $we,
            dkg_bad_votes_threshold: $bad,
            signing_active_quorum_count: $active,
            keep_old_connections: $conn,
            keep_old_keys: $keys,
            recovery_members: $rec,
        }
    };
}

/// Every LLMQ type Dash Core v23 knows (§6.1).
pub const ALL_LLMQ_TYPES: [LlmqParams; 14] = [
    llmq!(
        1,
        "llmq_50_60",
        false,
        50,
        40,
        30,
        24,
        2,
        10,
        18,
        40,
        24,
        25,
        48,
        25
    ),
    llmq!(
        2,
        "llmq_400_60",
        false,
        400,
        300,
        240,
        288,
        4,
        20,
        28,
        300,
        4,
        5,
        8,
        100
    ),
    llmq!(
        3,
        "llmq_400_85",
        false,
        400,
        350,
        340,
        576,
        4,
        20,
        48,
        300,
        4,
        5,
        8,
        100
    ),
    llmq!(
        4,
        "llmq_100_67",
        false,
        100,
        80,
        67,
        24,
        2,
        10,
        18,
        80,
        24,
        25,
        1440,
        50
    ),
    llmq!(
        5,
        "llmq_60_75",
        true,
        60,
        50,
        45,
        288,
        2,
        42,
        50,
        48,
        32,
        64,
        64,
        25
    ),
    llmq!(
        6,
        "llmq_25_67",
        false,
        25,
        22,
        17,
        24,
        2,
        10,
        18,
        22,
        24,
        25,
        1440,
        12
    ),
    llmq!(
        100,
        "llmq_test",
        false,
        3,
        2,
        2,
        24,
        2,
        10,
        18,
        2,
        2,
        3,
        4,
        3
    ),
    llmq!(
        101,
        "llmq_devnet",
        false,
        12,
        7,
        6,
        24,
        2,
        10,
        18,
        7,
        4,
        5,
        8,
        6
    ),
    llmq!(
        102,
        "llmq_test_v17",
        false,
        3,
        2,
        2,
        24,
        2,
        10,
        18,
        2,
        2,
        3,
        4,
        3
    ),
    llmq!(
        103,
        "llmq_test_dip0024",
        true,
        4,
        4,
        3,
        24,
        2,
        12,
        20,
        2,
        2,
        4,
        4,
        3
    ),
    llmq!(
        104,
        "llmq_test_instantsend",
        false,
        3,
        2,
        2,
        24,
        2,
        10,
        18,
        2,
        2,
        3,
        4,
        3
    ),
    llmq!(
        105,
        "llmq_devnet_dip0024",
        true,
        8,
        6,
        4,
        48,
        2,
        12,
        20,
        7,
        2,
        4,
        4,
        4
    ),
    llmq!(
        106,
        "llmq_test_platform",
        false,
        3,
        2,
        2,
        24,
        2,
        10,
        18,
        2,
        2,
        4,
        1440,
        3
    ),
    llmq!(
        107,
        "llmq_devnet_platform",
        false,
        12,
        9,
        8,
        24,
        2,
        10,
        18,
        7,
        4,
        5,
        1440,
        6
    ),
];

/// Parameters of a type id, whether or not a network uses it.
pub fn params_of(llmq_type: u8) -> Option<&'static LlmqParams> {
    ALL_LLMQ_TYPES.iter().find(|p| p.llmq_type == llmq_type)
}

/// Which LLMQ types a network uses and for what (§6.2), with each type's parameters as the
/// network runs them (regtest and devnets can resize their test types, Core's
/// `-llmqtestparams` and friends).
///
/// Part of [`crate::network::ChainParams`]; change it through
/// [`crate::network::ChainParams::set`] so that every combination stays valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmqConfig {
    /// Types whose commitments count for `merkleRootQuorums`, in Core's order.
    pub configured_types: Vec<u8>,
    /// Type that signs ChainLocks.
    pub chainlocks: u8,
    /// Rotated type that signs InstantSend locks.
    pub instantsend: u8,
    /// Platform type (evonodes only after V19).
    pub platform: u8,
    /// Type that signs MNHF (EHF) signals.
    pub mnhf: u8,
    /// Parameters of the configured types as this network runs them.
    pub types: Vec<LlmqParams>,
}

impl LlmqConfig {
    /// The configuration Dash Core uses for `network` with its default parameters.
    pub fn for_network(network: Network) -> LlmqConfig {
        let (types, cl, is, platform, mnhf): (&[u8], u8, u8, u8, u8) = match network {
            Network::Mainnet => (&[1, 5, 2, 3, 4], 2, 5, 4, 3),
            Network::Testnet => (&[1, 5, 2, 3, 4, 6], 1, 5, 6, 1),
            Network::Devnet => (&[1, 5, 2, 3, 4, 101, 105, 107], 101, 105, 107, 101),
            Network::Regtest => (&[100, 104, 102, 103, 106], 100, 103, 106, 100),
        };
        LlmqConfig {
            configured_types: types.to_vec(),
            chainlocks: cl,
            instantsend: is,
            platform,
            mnhf,
            types: types
                .iter()
                .filter_map(|t| params_of(*t))
                .copied()
                .collect(),
        }
    }

    /// Parameters of a type configured for this network; `None` for any other type.
    pub fn params(&self, llmq_type: u8) -> Option<&LlmqParams> {
        if !self.configured_types.contains(&llmq_type) {
            return None;
        }
        self.types.iter().find(|p| p.llmq_type == llmq_type)
    }

    /// Mutable parameters of a configured type.
    pub(crate) fn params_mut(&mut self, llmq_type: u8) -> Option<&mut LlmqParams> {
        self.types.iter_mut().find(|p| p.llmq_type == llmq_type)
    }

    /// The type id of a type known by Core's name (e.g. `llmq_test_dip0024`), configured here.
    pub fn type_by_name(&self, name: &str) -> Option<&LlmqParams> {
        self.types.iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_types_have_quarters_and_power_of_two_counts() {
        for p in ALL_LLMQ_TYPES.iter().filter(|p| p.use_rotation) {
            assert_eq!(p.size % 4, 0, "{}", p.name);
            assert!(p.signing_active_quorum_count.is_power_of_two());
        }
        for p in &ALL_LLMQ_TYPES {
            assert!(p.min_size <= p.size && p.threshold <= p.size);
            assert!(p.dkg_mining_window_start <= p.dkg_mining_window_end);
            assert!(p.dkg_mining_window_end < p.dkg_interval);
        }
    }

    #[test]
    fn network_uses() {
        let m = LlmqConfig::for_network(Network::Mainnet);
        assert_eq!((m.chainlocks, m.instantsend, m.platform), (2, 5, 4));
        assert!(m.params(6).is_none());
        let t = LlmqConfig::for_network(Network::Testnet);
        assert_eq!(t.params(6).unwrap().size, 25);
        assert_eq!(t.chainlocks, 1);
    }
}
