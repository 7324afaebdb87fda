//! The client's saved state and its crash-safe layout in the host's store (`docs/STORAGE.md`).
//!
//! Two generations live under [`SLOT_A`] and [`SLOT_B`]; [`HEAD`] names the newest and is written
//! last. A save that is interrupted at any point leaves the previous generation loadable: either
//! the new slot is incomplete (head still points to the old one) or the head update did not
//! happen (same). Loading verifies magic, version, network and checksum of every layer and falls
//! back to the other generation before giving up.

use super::{Store, StoreError};
use crate::chain::HeaderChain;
use crate::engine::{Engine, EngineConfig};
use crate::hashes::sha256d;
use crate::network::Network;

/// Key of generation A.
pub const SLOT_A: &str = "dqs.state.a";
/// Key of generation B.
pub const SLOT_B: &str = "dqs.state.b";
/// Key naming the newest generation.
pub const HEAD: &str = "dqs.state.head";
/// Every key the library uses (it never touches any other).
pub const KEYS: [&str; 3] = [SLOT_A, SLOT_B, HEAD];

const MAGIC: &[u8; 4] = b"DQSC";
const HEAD_MAGIC: &[u8; 4] = b"DQSH";
/// Client state format version.
pub const STATE_VERSION: u16 = 1;

/// Why saved state could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing saved yet.
    #[error("no saved state")]
    Empty,
    /// The saved bytes are unusable.
    #[error("saved state is unusable: {0}")]
    Corrupt(String),
}

/// The state a client saves.
#[derive(Debug)]
pub struct SavedState {
    /// Header chain.
    pub headers: HeaderChain,
    /// Masternode-list engine.
    pub engine: Engine,
}

fn network_byte(n: Network) -> u8 {
    match n {
        Network::Mainnet => 0,
        Network::Testnet => 1,
        Network::Devnet => 2,
        Network::Regtest => 3,
    }
}

/// Serializes a client state: magic, version, network, the two layers, checksum.
pub fn encode(headers: &HeaderChain, engine: &Engine) -> Vec<u8> {
    let h = headers.to_bytes();
    let e = engine.to_bytes();
    let mut out = Vec::with_capacity(h.len() + e.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&STATE_VERSION.to_le_bytes());
    out.push(network_byte(headers.network()));
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(&(e.len() as u64).to_le_bytes());
    out.extend_from_slice(&e);
    let sum = sha256d(&out);
    out.extend_from_slice(&sum.0);
    out
}

/// Decodes and fully checks a client state for `cfg`'s network.
pub fn decode(cfg: &EngineConfig, bytes: &[u8]) -> Result<SavedState, StateError> {
    let bad = |m: &str| StateError::Corrupt(m.to_string());
    if bytes.len() < 4 + 2 + 1 + 8 + 8 + 32 || &bytes[..4] != MAGIC {
        return Err(bad("not a dash-qrsync state blob (truncated or foreign)"));
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != STATE_VERSION {
        return Err(StateError::Corrupt(format!(
            "unsupported state format version {version}"
        )));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if sha256d(body).0 != sum {
        return Err(bad("checksum mismatch (truncated or corrupted)"));
    }
    if body[6] != network_byte(cfg.network()) {
        return Err(StateError::Corrupt(format!(
            "state was saved for another network (expected {})",
            cfg.network()
        )));
    }
    let mut at = 7usize;
    let mut take = |n_what: &str| -> Result<&[u8], StateError> {
        let len_bytes = body
            .get(at..at + 8)
            .ok_or_else(|| StateError::Corrupt(format!("{n_what}: truncated length")))?;
        let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
        let len =
            usize::try_from(len).map_err(|_| StateError::Corrupt(format!("{n_what}: length")))?;
        at += 8;
        let end = at
            .checked_add(len)
            .filter(|e| *e <= body.len())
            .ok_or_else(|| StateError::Corrupt(format!("{n_what}: length beyond the blob")))?;
        let s = &body[at..end];
        at = end;
        Ok(s)
    };
    let h = take("headers")?;
    let e = take("engine")?;
    let headers = HeaderChain::from_bytes(cfg.network(), h)
        .map_err(|e| StateError::Corrupt(format!("headers: {e}")))?;
    let engine = Engine::from_bytes(cfg.clone(), e)
        .map_err(|e| StateError::Corrupt(format!("engine: {e}")))?;
    // The engine's lists must be on the saved header chain.
    for (height, hash) in engine.held_lists() {
        if crate::chain::HeaderIndex::hash_at(&headers, height) != Some(hash) {
            return Err(StateError::Corrupt(format!(
                "list at {height} is not on the saved header chain"
            )));
        }
    }
    Ok(SavedState { headers, engine })
}

fn head_bytes(slot: &str, generation: u64) -> Vec<u8> {
    let mut b = HEAD_MAGIC.to_vec();
    b.push(if slot == SLOT_A { b'a' } else { b'b' });
    b.extend_from_slice(&generation.to_le_bytes());
    let sum = sha256d(&b);
    b.extend_from_slice(&sum.0[..4]);
    b
}

fn parse_head(b: &[u8]) -> Option<(&'static str, u64)> {
    if b.len() != 4 + 1 + 8 + 4 || &b[..4] != HEAD_MAGIC || sha256d(&b[..13]).0[..4] != b[13..] {
        return None;
    }
    let slot = match b[4] {
        b'a' => SLOT_A,
        b'b' => SLOT_B,
        _ => return None,
    };
    Some((slot, u64::from_le_bytes(b[5..13].try_into().ok()?)))
}

/// Writes a new generation: the slot the head does not name, then the head.
pub fn save(store: &dyn Store, blob: &[u8]) -> Result<(), StoreError> {
    let current = store.load(HEAD)?.as_deref().and_then(parse_head);
    let (slot, generation) = match current {
        Some((SLOT_A, g)) => (SLOT_B, g + 1),
        Some((_, g)) => (SLOT_A, g + 1),
        None => (SLOT_A, 1),
    };
    store.save(slot, blob)?;
    store.save(HEAD, &head_bytes(slot, generation))
}

/// Loads the newest usable generation. Returns the state and, when a generation had to be
/// skipped, why (so the caller can report it).
pub fn load(
    store: &dyn Store,
    cfg: &EngineConfig,
) -> Result<(SavedState, Option<StateError>), StateError> {
    let head = store.load(HEAD)?;
    let order: Vec<&str> = match head.as_deref().and_then(parse_head) {
        Some((SLOT_A, _)) => vec![SLOT_A, SLOT_B],
        Some(_) => vec![SLOT_B, SLOT_A],
        None => vec![SLOT_A, SLOT_B],
    };
    let mut first_error = None;
    if head.is_some() && head.as_deref().and_then(parse_head).is_none() {
        first_error = Some(StateError::Corrupt("the head record is corrupt".into()));
    }
    for slot in order {
        match store.load(slot)? {
            None => continue,
            Some(bytes) => match decode(cfg, &bytes) {
                Ok(s) => return Ok((s, first_error)),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            },
        }
    }
    Err(first_error.unwrap_or(StateError::Empty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::pow;
    use crate::wire::header::BlockHeader;

    /// Regtest genesis plus three mined headers.
    fn chain() -> HeaderChain {
        let net = Network::Regtest;
        let genesis = crate::chain::params::genesis_header(net);
        let mut c = HeaderChain::new(net, 0, genesis);
        let mut prev = genesis;
        for i in 1..=3u32 {
            let mut h = BlockHeader {
                version: 0x2000_0000,
                prev_block_hash: prev.block_hash(),
                merkle_root: Hash256([i as u8; 32]),
                time: genesis.time + 150 * i,
                bits: genesis.bits,
                nonce: 0,
            };
            while pow::check_proof_of_work(&h.block_hash(), h.bits, net).is_err() {
                h.nonce += 1;
            }
            c.connect(&[h]).unwrap();
            prev = h;
        }
        c
    }

    use crate::hashes::Hash256;

    #[test]
    fn print_fixtures() {
        let c = chain();
        let blocks: Vec<Hash256> = (0..=3)
            .map(|h| crate::chain::HeaderIndex::hash_at(&c, h).unwrap())
            .collect();
        let cfg = EngineConfig::for_network(Network::Regtest);
        let e = crate::engine::persist::fixture::engine(cfg.clone(), &blocks);
        let state = encode(&c, &e);
        decode(&cfg, &state).unwrap();
        println!("CHAIN={}", hex::encode(c.to_bytes()));
        println!("ENGINE={}", hex::encode(e.to_bytes()));
        println!("STATE={}", hex::encode(&state));
        println!("HEAD_A1={}", hex::encode(head_bytes(SLOT_A, 1)));
        println!("HEAD_B2={}", hex::encode(head_bytes(SLOT_B, 2)));
        for b in &blocks {
            println!("BLOCK={b}");
        }
    }
}
