//! Transactions (Dash serialization, no segwit), the coinbase special payload (CbTx) and the
//! partial merkle tree that proves the coinbase into a block (PROTOCOL.md §3.3–§3.4).

use super::codec::{Decode, Encode, Reader, Writer};
use super::WireError;
use crate::hashes::{sha256d, Hash256};
use serde::{Deserialize, Serialize};

/// Special transaction type of a coinbase carrying a CbTx payload.
pub const TRANSACTION_COINBASE: u16 = 5;

/// A transaction input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxIn {
    /// Previous output's txid.
    pub prev_hash: Hash256,
    /// Previous output's index.
    pub prev_index: u32,
    /// Unlocking script.
    pub script_sig: Vec<u8>,
    /// Sequence number.
    pub sequence: u32,
}

/// A transaction output.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxOut {
    /// Amount in duffs.
    pub value: i64,
    /// Locking script.
    pub script_pubkey: Vec<u8>,
}

/// A Dash transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transaction {
    /// Transaction version (low 16 bits of the first field).
    pub version: i16,
    /// Special transaction type (high 16 bits; 0 = normal).
    pub tx_type: u16,
    /// Inputs.
    pub inputs: Vec<TxIn>,
    /// Outputs.
    pub outputs: Vec<TxOut>,
    /// Lock time.
    pub lock_time: u32,
    /// Special payload (present iff version ≥ 3 and type ≠ 0).
    pub extra_payload: Option<Vec<u8>>,
}

impl Transaction {
    /// The txid: SHA256d of the serialization.
    pub fn txid(&self) -> Hash256 {
        sha256d(&self.to_bytes(0))
    }

    /// True when the layout carries an extra payload.
    pub fn has_extra_payload_field(version: i16, tx_type: u16) -> bool {
        version >= 3 && tx_type != 0
    }

    /// True for a coinbase (one input spending the null outpoint).
    pub fn is_coinbase(&self) -> bool {
        self.inputs.len() == 1
            && self.inputs[0].prev_hash.is_zero()
            && self.inputs[0].prev_index == u32::MAX
    }

    /// Decodes the CbTx payload of a special coinbase (type 5).
    pub fn coinbase_payload(&self) -> Result<CbTx, WireError> {
        if self.tx_type != TRANSACTION_COINBASE {
            return Err(WireError::invalid(
                "coinbase",
                format!("transaction type {} is not a CbTx (5)", self.tx_type),
            ));
        }
        let p = self
            .extra_payload
            .as_deref()
            .ok_or_else(|| WireError::invalid("coinbase", "no extra payload"))?;
        CbTx::from_bytes(p, 0)
    }
}

impl Encode for Transaction {
    fn encode(&self, w: &mut Writer) {
        w.u32_le((self.version as u16 as u32) | ((self.tx_type as u32) << 16));
        w.compact_size(self.inputs.len() as u64);
        for i in &self.inputs {
            w.hash(&i.prev_hash);
            w.u32_le(i.prev_index);
            w.var_bytes(&i.script_sig);
            w.u32_le(i.sequence);
        }
        w.compact_size(self.outputs.len() as u64);
        for o in &self.outputs {
            w.i64_le(o.value);
            w.var_bytes(&o.script_pubkey);
        }
        w.u32_le(self.lock_time);
        if let Some(p) = &self.extra_payload {
            w.var_bytes(p);
        }
    }
}

impl Decode for Transaction {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let n = r.u32_le()?;
        let version = (n & 0xffff) as u16 as i16;
        let tx_type = (n >> 16) as u16;
        let nin = r.read_count(32 + 4 + 1 + 4)?;
        let mut inputs = Vec::with_capacity(nin);
        for _ in 0..nin {
            inputs.push(TxIn {
                prev_hash: r.hash()?,
                prev_index: r.u32_le()?,
                script_sig: r.var_bytes()?.to_vec(),
                sequence: r.u32_le()?,
            });
        }
        let nout = r.read_count(8 + 1)?;
        let mut outputs = Vec::with_capacity(nout);
        for _ in 0..nout {
            outputs.push(TxOut {
                value: r.i64_le()?,
                script_pubkey: r.var_bytes()?.to_vec(),
            });
        }
        let lock_time = r.u32_le()?;
        let extra_payload = if Transaction::has_extra_payload_field(version, tx_type) {
            Some(r.var_bytes()?.to_vec())
        } else {
            None
        };
        Ok(Transaction {
            version,
            tx_type,
            inputs,
            outputs,
            lock_time,
            extra_payload,
        })
    }
}

/// The newest CbTx version whose layout this library knows (Core v24 `CCbTx::Version`
/// `MERKLE_ROOT_ASSETUNLOCKS`).
pub const CBTX_LATEST_KNOWN_VERSION: u16 = 4;

/// The coinbase special payload (PROTOCOL.md §3.4).
///
/// Core has only ever appended fields to this payload, so a version newer than
/// [`CBTX_LATEST_KNOWN_VERSION`] is decoded as its known prefix and the bytes after it are kept
/// in [`CbTx::unknown_fields`]: re-encoding is byte-identical, and the coinbase txid (and so the
/// merkle proof to the block header) is always computed from the bytes received.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CbTx {
    /// 1 (MN list root), 2 (+ quorum root), 3 (+ best ChainLock and credit pool),
    /// 4 (+ asset-unlock root, Core v24); higher: a newer layout that appends fields.
    pub version: u16,
    /// Block height (must equal the block's height).
    pub height: i32,
    /// SML merkle root.
    pub merkle_root_mn_list: Hash256,
    /// Quorum merkle root (version ≥ 2).
    pub merkle_root_quorums: Option<Hash256>,
    /// Version ≥ 3: the best ChainLock known to the miner.
    pub best_cl: Option<BestChainLock>,
    /// Version ≥ 3: credit pool balance in duffs.
    pub credit_pool_balance: Option<i64>,
    /// Version ≥ 4: merkle root over the instance hashes of the block's version 2 asset unlock
    /// transactions (all zero when the block has none). A light client cannot recompute it (it
    /// needs the block's transactions); it is carried, printed and hashed into the txid.
    pub merkle_root_asset_unlocks: Option<Hash256>,
    /// Versions above [`CBTX_LATEST_KNOWN_VERSION`]: the bytes after the known fields, kept
    /// verbatim (empty for every version this library knows).
    pub unknown_fields: Vec<u8>,
}

impl CbTx {
    /// True when this payload's version is newer than the layouts this library knows; its known
    /// prefix was decoded and the rest kept in [`CbTx::unknown_fields`].
    pub fn is_newer_than_known(&self) -> bool {
        self.version > CBTX_LATEST_KNOWN_VERSION
    }
}

/// The best ChainLock carried by a CbTx v3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BestChainLock {
    /// The signature is for block `height − height_diff − 1`.
    pub height_diff: u32,
    /// BLS signature (basic), all-zero when none.
    #[serde(with = "serde_arr96")]
    pub signature: [u8; 96],
}

impl BestChainLock {
    /// True when the signature is all zero ("no ChainLock").
    pub fn is_null(&self) -> bool {
        self.signature.iter().all(|&b| b == 0)
    }
}

impl Encode for CbTx {
    fn encode(&self, w: &mut Writer) {
        w.u16_le(self.version);
        w.i32_le(self.height);
        w.hash(&self.merkle_root_mn_list);
        if self.version >= 2 {
            w.hash(&self.merkle_root_quorums.unwrap_or_default());
        }
        if self.version >= 3 {
            let cl = self.best_cl.unwrap_or(BestChainLock {
                height_diff: 0,
                signature: [0; 96],
            });
            w.compact_size(cl.height_diff as u64);
            w.bytes(&cl.signature);
            w.i64_le(self.credit_pool_balance.unwrap_or(0));
        }
        if self.version >= 4 {
            w.hash(&self.merkle_root_asset_unlocks.unwrap_or_default());
        }
        if self.version > CBTX_LATEST_KNOWN_VERSION {
            w.bytes(&self.unknown_fields);
        }
    }
}

impl Decode for CbTx {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let version = r.u16_le()?;
        // Version 0 is Core's INVALID. Versions above the newest known one only append fields
        // (Core's whole history): decode the known prefix and keep the rest, never refuse.
        if version == 0 {
            return Err(WireError::invalid("CbTx version", "0 (Core: invalid)"));
        }
        let height = r.i32_le()?;
        let merkle_root_mn_list = r.hash()?;
        let merkle_root_quorums = if version >= 2 { Some(r.hash()?) } else { None };
        let (best_cl, credit_pool_balance) = if version >= 3 {
            let d = r.compact_size()?;
            let height_diff = u32::try_from(d)
                .map_err(|_| WireError::invalid("bestCLHeightDiff", format!("{d} > u32")))?;
            let signature = r.array()?;
            (
                Some(BestChainLock {
                    height_diff,
                    signature,
                }),
                Some(r.i64_le()?),
            )
        } else {
            (None, None)
        };
        let merkle_root_asset_unlocks = if version >= 4 { Some(r.hash()?) } else { None };
        let unknown_fields = if version > CBTX_LATEST_KNOWN_VERSION {
            r.rest().to_vec()
        } else {
            Vec::new()
        };
        Ok(CbTx {
            version,
            height,
            merkle_root_mn_list,
            merkle_root_quorums,
            best_cl,
            credit_pool_balance,
            merkle_root_asset_unlocks,
            unknown_fields,
        })
    }
}

/// `CPartialMerkleTree` as sent in `mnlistdiff` (the coinbase inclusion proof).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartialMerkleTree {
    /// Number of transactions in the block.
    pub n_transactions: u32,
    /// Hashes used by the traversal.
    pub hashes: Vec<Hash256>,
    /// Flag bits packed LSB-first.
    pub flags: Vec<u8>,
}

impl Encode for PartialMerkleTree {
    fn encode(&self, w: &mut Writer) {
        w.u32_le(self.n_transactions);
        w.vec(&self.hashes);
        w.var_bytes(&self.flags);
    }
}

impl Decode for PartialMerkleTree {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(PartialMerkleTree {
            n_transactions: r.u32_le()?,
            hashes: r.vec(32)?,
            flags: r.var_bytes()?.to_vec(),
        })
    }
}

/// serde helpers for 96-byte arrays (BLS signatures).
pub(crate) mod serde_arr96 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8; 96], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(b)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 96], D::Error> {
        let v = <Vec<u8>>::deserialize(d)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("expected 96 bytes"))
    }
}

/// serde helpers for 48-byte arrays (BLS public keys).
pub(crate) mod serde_arr48 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8; 48], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(b)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 48], D::Error> {
        let v = <Vec<u8>>::deserialize(d)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("expected 48 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbtx_round_trip_all_versions() {
        for v in 1..=4u16 {
            let c = CbTx {
                version: v,
                height: 1234,
                merkle_root_mn_list: Hash256([1; 32]),
                merkle_root_quorums: (v >= 2).then_some(Hash256([2; 32])),
                best_cl: (v >= 3).then_some(BestChainLock {
                    height_diff: 300,
                    signature: [7; 96],
                }),
                credit_pool_balance: (v >= 3).then_some(99),
                merkle_root_asset_unlocks: (v >= 4).then_some(Hash256([3; 32])),
                unknown_fields: Vec::new(),
            };
            let b = c.to_bytes(0);
            assert_eq!(CbTx::from_bytes(&b, 0).unwrap(), c);
        }
        // Version 0 is Core's INVALID; a known version with bytes after its fields is refused.
        assert!(CbTx::from_bytes(&[0, 0, 0, 0, 0, 0], 0).is_err());
        let mut v3 = hex(V4).to_vec();
        v3[0] = 3;
        v3.truncate(v3.len() - 32);
        v3.push(0);
        assert!(matches!(
            CbTx::from_bytes(&v3, 0),
            Err(WireError::TrailingBytes { .. })
        ));
    }

    /// A version 4 payload laid out by hand from Core v24's `CCbTx::SERIALIZE_METHODS`
    /// (`src/evo/cbtx.h`): nVersion u16, nHeight i32, merkleRootMNList, merkleRootQuorums,
    /// COMPACTSIZE(bestCLHeightDiff), bestCLSignature (96), creditPoolBalance i64,
    /// merkleRootAssetUnlocks.
    const V4: &str = concat!(
        "0400",
        "10000000",
        "1111111111111111111111111111111111111111111111111111111111111111",
        "2222222222222222222222222222222222222222222222222222222222222222",
        "00",
        "333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333",
        "333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333",
        "0100000000000000",
        "4444444444444444444444444444444444444444444444444444444444444444",
    );

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn cbtx_v4_reads_and_writes_cores_layout() {
        let b = hex(V4);
        let c = CbTx::from_bytes(&b, 0).unwrap();
        assert_eq!(c.version, 4);
        assert_eq!(c.height, 16);
        assert_eq!(c.merkle_root_mn_list, Hash256([0x11; 32]));
        assert_eq!(c.merkle_root_quorums, Some(Hash256([0x22; 32])));
        assert_eq!(c.best_cl.unwrap().height_diff, 0);
        assert_eq!(c.best_cl.unwrap().signature, [0x33; 96]);
        assert_eq!(c.credit_pool_balance, Some(1));
        assert_eq!(c.merkle_root_asset_unlocks, Some(Hash256([0x44; 32])));
        assert!(c.unknown_fields.is_empty() && !c.is_newer_than_known());
        assert_eq!(c.to_bytes(0), b);
    }

    #[test]
    fn a_newer_cbtx_that_appends_fields_keeps_its_known_prefix_and_every_byte() {
        let mut b = hex(V4);
        b[0] = 5;
        b.extend_from_slice(&[0xab; 40]);
        let c = CbTx::from_bytes(&b, 0).unwrap();
        assert_eq!(c.version, 5);
        assert!(c.is_newer_than_known());
        assert_eq!(c.merkle_root_mn_list, Hash256([0x11; 32]));
        assert_eq!(c.merkle_root_asset_unlocks, Some(Hash256([0x44; 32])));
        assert_eq!(c.unknown_fields, vec![0xab; 40]);
        // Byte-identical re-encoding: the coinbase txid is the one of the bytes received.
        assert_eq!(c.to_bytes(0), b);
        // A newer version must still hold every field of the newest known layout.
        let short = &b[..b.len() - 40 - 1];
        assert!(matches!(
            CbTx::from_bytes(short, 0),
            Err(WireError::UnexpectedEof { .. })
        ));
    }
}
