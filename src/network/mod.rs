//! Networks and their parameters: message start bytes, ports, DNS seeds, the activation heights
//! that change layouts and rules (PROTOCOL.md §0.3, §1.2), the LLMQ types ([`llmq`]) and the
//! one value that describes a network as Dash Core runs it, [`ChainParams`] — Core's defaults,
//! overridable for regtest and devnets with Core's own option names ([`conf`]).
//!
//! Genesis headers, proof-of-work limits and checkpoints live in [`crate::chain::params`].

pub mod conf;
pub mod llmq;
pub mod params;

pub use params::{Bip9Deployment, ChainParams, ParamError};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A Dash network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Network {
    /// Dash mainnet.
    Mainnet,
    /// Dash testnet (v3).
    Testnet,
    /// A devnet (all activation heights 2, devnet LLMQ types).
    Devnet,
    /// Regtest (LLMQ test types); also what the built-in simulated network uses.
    Regtest,
}

/// Activation heights of the deployments that matter to a light client (PROTOCOL.md §0.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activations {
    /// DIP-0003 (deterministic masternode lists): no list exists below it.
    pub dip0003: u32,
    /// DIP-0003 enforcement.
    pub dip0003_enforcement: u32,
    /// DIP-0008 (ChainLocks; CbTx v2 required above it).
    pub dip0008: u32,
    /// DIP-0020 (enables LLMQ_100_67).
    pub dip0020: u32,
    /// DIP-0024 (quorum rotation).
    pub dip0024: u32,
    /// First rotated quorums mined.
    pub dip0024_quorums: u32,
    /// V19 (basic BLS, evonodes, SML v2).
    pub v19: u32,
    /// V20 (CbTx v3, CL-based modifier, work block −8 for non-rotated).
    pub v20: u32,
    /// MN_RR.
    pub mn_rr: u32,
    /// Withdrawals.
    pub withdrawals: u32,
}

/// Error for an unknown network name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network {0:?} (expected mainnet, testnet, devnet or regtest)")]
pub struct UnknownNetwork(pub String);

impl Network {
    /// All networks.
    pub const ALL: [Network; 4] = [
        Network::Mainnet,
        Network::Testnet,
        Network::Devnet,
        Network::Regtest,
    ];

    /// The four message-start bytes, in wire order.
    pub fn magic(self) -> [u8; 4] {
        match self {
            Network::Mainnet => [0xbf, 0x0c, 0x6b, 0xbd],
            Network::Testnet => [0xce, 0xe2, 0xca, 0xff],
            Network::Devnet => [0xe2, 0xca, 0xff, 0xce],
            Network::Regtest => [0xfc, 0xc1, 0xb7, 0xdc],
        }
    }

    /// The network whose magic these bytes are.
    pub fn from_magic(m: [u8; 4]) -> Option<Network> {
        Network::ALL.into_iter().find(|n| n.magic() == m)
    }

    /// Default P2P port.
    pub fn default_port(self) -> u16 {
        match self {
            Network::Mainnet => 9999,
            Network::Testnet => 19999,
            Network::Devnet => 19799,
            Network::Regtest => 19899,
        }
    }

    /// DNS seeds (Dash Core v23.1.2).
    pub fn dns_seeds(self) -> &'static [&'static str] {
        match self {
            Network::Mainnet => &["dnsseed.dash.org"],
            Network::Testnet => &["testnet-seed.dashdot.io"],
            Network::Devnet | Network::Regtest => &[],
        }
    }

    /// Dash Core's default activation heights ([`ChainParams`] holds the ones in effect).
    pub fn activations(self) -> Activations {
        match self {
            Network::Mainnet => Activations {
                dip0003: 1_028_160,
                dip0003_enforcement: 1_047_200,
                dip0008: 1_088_640,
                dip0020: 1_516_032,
                dip0024: 1_737_792,
                dip0024_quorums: 1_738_698,
                v19: 1_899_072,
                v20: 1_987_776,
                mn_rr: 2_128_896,
                withdrawals: 2_201_472,
            },
            Network::Testnet => Activations {
                dip0003: 7_000,
                dip0003_enforcement: 7_300,
                dip0008: 78_800,
                dip0020: 414_100,
                dip0024: 769_700,
                dip0024_quorums: 770_730,
                v19: 850_100,
                v20: 905_100,
                mn_rr: 1_066_900,
                withdrawals: 1_148_500,
            },
            Network::Devnet => Activations {
                dip0003: 2,
                dip0003_enforcement: 2,
                dip0008: 2,
                dip0020: 2,
                dip0024: 2,
                dip0024_quorums: 2,
                v19: 2,
                v20: 2,
                mn_rr: 2,
                withdrawals: 2,
            },
            Network::Regtest => Activations {
                dip0003: 432,
                dip0003_enforcement: 500,
                dip0008: 1,
                dip0020: 1,
                dip0024: 1,
                dip0024_quorums: 1,
                v19: 1,
                v20: 432,
                mn_rr: 432,
                withdrawals: 600,
            },
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet => "testnet",
            Network::Devnet => "devnet",
            Network::Regtest => "regtest",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Network {
    type Err = UnknownNetwork;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mainnet" | "main" => Ok(Network::Mainnet),
            "testnet" | "test" => Ok(Network::Testnet),
            "devnet" => Ok(Network::Devnet),
            "regtest" => Ok(Network::Regtest),
            _ => Err(UnknownNetwork(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_round_trip() {
        for n in Network::ALL {
            assert_eq!(Network::from_magic(n.magic()), Some(n));
            assert_eq!(n.name().parse::<Network>().unwrap(), n);
        }
        assert!("foo".parse::<Network>().is_err());
    }
}
