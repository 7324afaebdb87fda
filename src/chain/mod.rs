//! Block headers (placeholder until the header chain lands).

use crate::hashes::Hash256;

/// Lookup of the active header chain.
pub trait HeaderIndex {
    /// Height of a block on the active chain.
    fn height_of(&self, hash: &Hash256) -> Option<u32>;
    /// Hash of the active chain's block at a height.
    fn hash_at(&self, height: u32) -> Option<Hash256>;
    /// Merkle root of a known block.
    fn merkle_root_of(&self, hash: &Hash256) -> Option<Hash256>;
}

/// Chain parameters.
pub mod params {
    use crate::hashes::Hash256;
    use crate::network::Network;
    /// Genesis block hash.
    pub fn genesis_hash(network: Network) -> Hash256 {
        let s = match network {
            Network::Mainnet => "00000ffd590b1485b3caadc19b22e6379c733355108f107a430458cdf3407ab6",
            _ => "00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c",
        };
        Hash256::from_display_hex(s).expect("valid")
    }
}
