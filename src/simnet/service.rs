//! What the simulated node serves: the interface between the chain generator and the P2P server.

use crate::hashes::Hash256;
use crate::network::Network;
use crate::wire::header::BlockHeader;
use crate::wire::locks::{ClSig, IsDLock};
use crate::wire::mnlistdiff::MnListDiff;
use crate::wire::qrinfo::{GetQrInfo, QrInfo};

/// A simulated node's view of its chain. Implementations are cheap to query concurrently.
pub trait SimService: Send + Sync + 'static {
    /// The network (magic, LLMQ types) the node runs.
    fn network(&self) -> Network;
    /// Height of the node's current tip.
    fn tip_height(&self) -> u32;
    /// Hash of the active chain's block at `height`.
    fn hash_at(&self, height: u32) -> Option<Hash256>;
    /// Height of a block of the active chain.
    fn height_of(&self, hash: &Hash256) -> Option<u32>;
    /// Header of a block of the active chain.
    fn header(&self, height: u32) -> Option<BlockHeader>;
    /// Answers `getmnlistd` as Core does (`None`: Core ignores the request, e.g. unknown
    /// blocks). `protocol_version` decides the layout of the returned message.
    fn mnlistdiff(
        &self,
        base: &Hash256,
        block: &Hash256,
        protocol_version: u32,
    ) -> Option<MnListDiff>;
    /// Answers `getqrinfo` as Core does, including its choice of each diff's base.
    fn qrinfo(&self, request: &GetQrInfo, protocol_version: u32) -> Option<QrInfo>;
    /// The ChainLock for the block at `height`, if the chain has one.
    fn clsig(&self, height: u32) -> Option<ClSig>;
    /// The InstantSend locks the node knows, by request/inventory hash.
    fn isdlock(&self, inv_hash: &Hash256) -> Option<IsDLock>;
}
