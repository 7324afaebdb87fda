//! Competing forks with valid proof of work (regtest proof of work costs nothing), and a
//! service whose chain can be swapped while it is served: what the fork-choice and ChainLock
//! tests attack the client with, with no hand-made bytes.

use super::gen::{SimChain, SimConfig};
use super::service::SimService;
use crate::hashes::Hash256;
use crate::network::Network;
use crate::wire::header::BlockHeader;
use crate::wire::locks::{ClSig, IsDLock};
use crate::wire::mnlistdiff::MnListDiff;
use crate::wire::qrinfo::{GetQrInfo, QrInfo};
use std::sync::{Arc, RwLock};

impl SimChain {
    /// A competing branch of the chain `config` generates (and of any chain grown from it by
    /// [`SimChain::extend`]): the same blocks up to `fork_height`, then `length` blocks of its
    /// own — valid proof of work, masternode lists and quorums, a consistent chain a peer can
    /// serve in full — and no ChainLock above the fork (the quorums sign one branch only; the
    /// honest chain's locks are the ones that exist).
    pub fn competing_fork(config: &SimConfig, fork_height: u32, length: u32) -> SimChain {
        let mut chain = SimChain::generate(SimConfig {
            blocks: fork_height,
            ..config.clone()
        });
        if length > 0 {
            // A new branch on top of the fork block: its blocks differ from the honest ones.
            chain.reorg(0);
            chain.extend(length - 1);
        }
        chain.forget_clsigs_above(fork_height);
        chain
    }

    /// A competing branch of this chain, as [`SimChain::competing_fork`] but from a copy of
    /// this chain (no generation from scratch: cheap enough for a storm of short forks): the
    /// blocks up to `fork_height`, then `length` blocks of a new branch, with no ChainLock
    /// above the fork.
    pub fn branch_from(&self, fork_height: u32, length: u32) -> SimChain {
        let mut chain = self.clone();
        chain.cut_to(fork_height.min(chain.tip_height()));
        if length > 0 {
            chain.extend(length);
        }
        chain.forget_clsigs_above(fork_height);
        chain
    }
}

/// A [`SimService`] whose chain can be swapped while it is served: a peer that turns from the
/// honest chain to a fork (or back) without reconnecting.
pub struct SwitchableService {
    current: RwLock<Arc<dyn SimService>>,
}

impl std::fmt::Debug for SwitchableService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchableService")
            .field("tip", &self.tip_height())
            .finish()
    }
}

impl SwitchableService {
    /// Serves `initial` until [`SwitchableService::switch_to`].
    pub fn new(initial: Arc<dyn SimService>) -> SwitchableService {
        SwitchableService {
            current: RwLock::new(initial),
        }
    }

    /// Serves `service` from now on (announced at the server's next tip poll).
    pub fn switch_to(&self, service: Arc<dyn SimService>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = service;
    }

    fn get(&self) -> Arc<dyn SimService> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl SimService for SwitchableService {
    fn network(&self) -> Network {
        self.get().network()
    }
    fn tip_height(&self) -> u32 {
        self.get().tip_height()
    }
    fn hash_at(&self, height: u32) -> Option<Hash256> {
        self.get().hash_at(height)
    }
    fn height_of(&self, hash: &Hash256) -> Option<u32> {
        self.get().height_of(hash)
    }
    fn header(&self, height: u32) -> Option<BlockHeader> {
        self.get().header(height)
    }
    fn mnlistdiff(
        &self,
        base: &Hash256,
        block: &Hash256,
        protocol_version: u32,
    ) -> Option<MnListDiff> {
        self.get().mnlistdiff(base, block, protocol_version)
    }
    fn qrinfo(&self, request: &GetQrInfo, protocol_version: u32) -> Option<QrInfo> {
        self.get().qrinfo(request, protocol_version)
    }
    fn clsig(&self, height: u32) -> Option<ClSig> {
        self.get().clsig(height)
    }
    fn isdlock(&self, inv_hash: &Hash256) -> Option<IsDLock> {
        self.get().isdlock(inv_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::HeaderIndex;

    #[test]
    fn a_competing_fork_shares_the_chain_below_its_fork_point_only() {
        let cfg = SimConfig {
            blocks: 60,
            ..SimConfig::regtest(5)
        };
        let mut honest = SimChain::generate(cfg.clone());
        honest.extend(1);
        honest.extend(1);
        let fork = SimChain::competing_fork(&cfg, 55, 10);
        assert_eq!(fork.tip_height(), 65);
        assert_eq!(fork.hash_at(55), honest.hash_at(55));
        assert_ne!(fork.hash_at(56), honest.hash_at(56));
        assert!(fork.clsig(56).is_none() && fork.clsig(65).is_none());
        assert_eq!(fork.clsig(55).map(|c| c.block_hash), honest.hash_at(55));
        let short = honest.branch_from(61, 2);
        assert_eq!(short.tip_height(), 63);
        assert_eq!(short.hash_at(61), honest.hash_at(61));
        assert_ne!(short.hash_at(62), honest.hash_at(62));
        assert!(short.clsig(62).is_none() && short.clsig(63).is_none());
        assert_ne!(short.hash_at(62), fork.hash_at(62));
    }
}
