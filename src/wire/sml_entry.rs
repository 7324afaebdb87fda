//! Simplified masternode list entries (PROTOCOL.md §3.5).
//!
//! The entry keeps the bytes Core hashes exactly as received (service address, operator key),
//! so the SML root is computed over what the node committed to (§10 W-04, W-05).

use super::codec::{Decode, Encode, Reader, Writer};
use super::version::{DMN_TYPE_PROTO_VERSION, SMNLE_VERSIONED_PROTO_VERSION};
use super::WireError;
use crate::hashes::{sha256d, Hash256};
use serde::{Deserialize, Serialize};

/// Entry version 1: legacy BLS operator key encoding.
pub const ENTRY_VERSION_LEGACY_BLS: u16 = 1;
/// Entry version 2: basic BLS operator key encoding, type and evonode fields.
pub const ENTRY_VERSION_BASIC_BLS: u16 = 2;
/// Entry version 3: extended network addresses (DEPLOYMENT_V24).
pub const ENTRY_VERSION_EXT_ADDR: u16 = 3;

/// Masternode type: regular.
pub const MN_TYPE_REGULAR: u16 = 0;
/// Masternode type: evonode (high-performance, serves Platform).
pub const MN_TYPE_EVO: u16 = 1;

/// Smallest possible encoded size of an entry (used to bound counts read from the wire).
pub const MIN_ENTRY_SIZE: usize = 32 + 32 + 1 + 48 + 20 + 1;

/// The network address field of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NetInfo {
    /// Entry versions 1–2: a `CService` (16-byte IPv6 / IPv4-mapped address + big-endian port),
    /// kept as the 18 bytes received.
    Service([u8; 18]),
    /// Entry version 3: `ExtNetInfo`, structure-checked on decode and kept as the bytes received.
    Extended(Vec<u8>),
}

impl NetInfo {
    /// The IP address bytes and port of a legacy service, if this is one.
    pub fn service(&self) -> Option<(std::net::Ipv6Addr, u16)> {
        match self {
            NetInfo::Service(b) => {
                let mut ip = [0u8; 16];
                ip.copy_from_slice(&b[..16]);
                Some((
                    std::net::Ipv6Addr::from(ip),
                    u16::from_be_bytes([b[16], b[17]]),
                ))
            }
            NetInfo::Extended(_) => None,
        }
    }
}

/// One entry of a simplified masternode list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SmlEntry {
    /// Entry version (1 legacy BLS, 2 basic BLS, 3 extended addresses). Implicitly 1 when the
    /// negotiated version carries no per-entry version (P < 70228).
    pub version: u16,
    /// The ProRegTx hash identifying the masternode.
    pub pro_reg_tx_hash: Hash256,
    /// The confirmed hash (zero = not yet confirmed).
    pub confirmed_hash: Hash256,
    /// Network address, kept byte-exact.
    pub net_info: NetInfo,
    /// BLS operator public key, in the encoding of the entry version (legacy for version 1).
    #[serde(with = "serde_bytes48")]
    pub operator_key: [u8; 48],
    /// Voting key id (hash160).
    pub voting_key_id: [u8; 20],
    /// Not PoSe-banned.
    pub is_valid: bool,
    /// Masternode type (0 regular, 1 evonode); meaningful for entry version ≥ 2.
    pub mn_type: u16,
    /// Platform HTTP port of an evonode (entry version 2 only; little-endian on the wire, W-06).
    pub platform_http_port: u16,
    /// Platform node id of an evonode.
    pub platform_node_id: [u8; 20],
}

impl SmlEntry {
    /// True for an evonode.
    pub fn is_evo(&self) -> bool {
        self.version >= ENTRY_VERSION_BASIC_BLS && self.mn_type == MN_TYPE_EVO
    }

    /// True when the operator key is in the legacy BLS encoding (entry version 1).
    pub fn has_legacy_operator_key(&self) -> bool {
        self.version == ENTRY_VERSION_LEGACY_BLS
    }

    /// True when `confirmedHash` is set.
    pub fn is_confirmed(&self) -> bool {
        !self.confirmed_hash.is_zero()
    }

    /// The bytes Core hashes for the SML merkle leaf (`SER_GETHASH`): every field except the
    /// entry version; type and evonode fields whenever the entry version is ≥ 2 (W-02).
    pub fn hash_input(&self) -> Vec<u8> {
        let mut w = Writer::new(0);
        self.encode_body(&mut w, true);
        w.into_bytes()
    }

    /// The SML merkle leaf: SHA256d of [`SmlEntry::hash_input`].
    pub fn entry_hash(&self) -> Hash256 {
        sha256d(&self.hash_input())
    }

    fn encode_body(&self, w: &mut Writer, for_hash: bool) {
        w.hash(&self.pro_reg_tx_hash);
        w.hash(&self.confirmed_hash);
        match &self.net_info {
            NetInfo::Service(b) => w.bytes(b),
            NetInfo::Extended(b) => w.bytes(b),
        }
        w.bytes(&self.operator_key);
        w.bytes(&self.voting_key_id);
        w.bool(self.is_valid);
        let typed = self.version >= ENTRY_VERSION_BASIC_BLS
            && (for_hash
                || (w.version() >= DMN_TYPE_PROTO_VERSION
                    && w.version() >= SMNLE_VERSIONED_PROTO_VERSION));
        if typed {
            w.u16_le(self.mn_type);
            if self.mn_type == MN_TYPE_EVO {
                if self.version < ENTRY_VERSION_EXT_ADDR {
                    w.u16_le(self.platform_http_port);
                }
                w.bytes(&self.platform_node_id);
            }
        }
    }
}

impl Encode for SmlEntry {
    fn encode(&self, w: &mut Writer) {
        if w.version() >= SMNLE_VERSIONED_PROTO_VERSION {
            w.u16_le(self.version);
        }
        self.encode_body(w, false);
    }
}

impl Decode for SmlEntry {
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let p = r.version();
        let version = if p >= SMNLE_VERSIONED_PROTO_VERSION {
            let v = r.u16_le()?;
            if v > ENTRY_VERSION_EXT_ADDR {
                // The layout of the rest depends on the version: unreadable, not invalid.
                return Err(WireError::unsupported(
                    "SML entry",
                    v.into(),
                    ENTRY_VERSION_EXT_ADDR.into(),
                ));
            }
            if v < ENTRY_VERSION_LEGACY_BLS {
                return Err(WireError::invalid(
                    "SML entry version",
                    format!("{v} (expected 1, 2 or 3)"),
                ));
            }
            v
        } else {
            ENTRY_VERSION_LEGACY_BLS
        };
        let pro_reg_tx_hash = r.hash()?;
        let confirmed_hash = r.hash()?;
        let net_info = if version >= ENTRY_VERSION_EXT_ADDR {
            NetInfo::Extended(read_ext_net_info(r)?)
        } else {
            NetInfo::Service(r.array()?)
        };
        let operator_key = r.array()?;
        let voting_key_id = r.array()?;
        let is_valid = r.bool()?;
        let mut e = SmlEntry {
            version,
            pro_reg_tx_hash,
            confirmed_hash,
            net_info,
            operator_key,
            voting_key_id,
            is_valid,
            mn_type: MN_TYPE_REGULAR,
            platform_http_port: 0,
            platform_node_id: [0; 20],
        };
        if p >= DMN_TYPE_PROTO_VERSION && version >= ENTRY_VERSION_BASIC_BLS {
            e.mn_type = r.u16_le()?;
            match e.mn_type {
                MN_TYPE_REGULAR => {}
                MN_TYPE_EVO => {
                    if version < ENTRY_VERSION_EXT_ADDR {
                        e.platform_http_port = r.u16_le()?;
                    }
                    e.platform_node_id = r.array()?;
                }
                t => {
                    return Err(WireError::invalid(
                        "masternode type",
                        format!("{t} (expected 0 or 1)"),
                    ))
                }
            }
        }
        Ok(e)
    }
}

/// The `ExtNetInfo` version this library decodes (Core v24 `ExtNetInfo::CURRENT_VERSION`).
const EXT_NET_INFO_VERSION: u8 = 1;

/// Maximum entries per purpose in `ExtNetInfo` (`MAX_ENTRIES_EXTNETINFO`).
const MAX_EXT_NET_ENTRIES: usize = 4;

/// Reads an `ExtNetInfo` (PROTOCOL.md §3.5), checking its structure, and returns its raw bytes.
fn read_ext_net_info(r: &mut Reader<'_>) -> Result<Vec<u8>, WireError> {
    let start = r.clone();
    let begin = r.position();
    let version = r.u8()?;
    if version > EXT_NET_INFO_VERSION {
        // Core v24 reads nothing after an unknown version byte; a newer version's fields would
        // be taken for the rest of the entry, so this is unreadable, not invalid.
        return Err(WireError::unsupported(
            "ExtNetInfo",
            version.into(),
            EXT_NET_INFO_VERSION.into(),
        ));
    }
    if version == EXT_NET_INFO_VERSION {
        let purposes = r.read_count(2)?;
        for _ in 0..purposes {
            let purpose = r.u8()?;
            if purpose > 2 {
                return Err(WireError::invalid(
                    "ExtNetInfo purpose",
                    format!("{purpose} (expected 0, 1 or 2)"),
                ));
            }
            let entries = r.read_count(1)?;
            if entries > MAX_EXT_NET_ENTRIES {
                return Err(WireError::invalid(
                    "ExtNetInfo entries",
                    format!("{entries} entries (at most {MAX_EXT_NET_ENTRIES})"),
                ));
            }
            for _ in 0..entries {
                match r.u8()? {
                    0x01 => {
                        let _net_id = r.u8()?;
                        let _addr = r.var_bytes()?;
                        let _port = r.u16_be()?;
                    }
                    0x02 => {
                        let _domain = r.var_bytes()?;
                        let _port = r.u16_be()?;
                    }
                    0xff => {}
                    t => {
                        return Err(WireError::invalid(
                            "ExtNetInfo entry type",
                            format!("{t:#04x}"),
                        ))
                    }
                }
            }
        }
    }
    let len = r.position() - begin;
    let mut s = start;
    Ok(s.take(len)?.to_vec())
}

mod serde_bytes48 {
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

    fn core_test_entry(i: u8) -> SmlEntry {
        // Dash Core evo_simplifiedmns_tests.cpp (PROTOCOL.md A.1), without the operator key,
        // which is filled in by the BLS-aware test in the sml module.
        let mut h = [0u8; 32];
        h[0] = i;
        let mut svc = [0u8; 18];
        svc[10] = 0xff;
        svc[11] = 0xff;
        svc[15] = i;
        svc[16..18].copy_from_slice(&(i as u16).to_be_bytes());
        let mut vk = [0u8; 20];
        vk[0] = i;
        SmlEntry {
            version: 1,
            pro_reg_tx_hash: Hash256(h),
            confirmed_hash: Hash256(h),
            net_info: NetInfo::Service(svc),
            operator_key: [0; 48],
            voting_key_id: vk,
            is_valid: true,
            mn_type: 0,
            platform_http_port: 0,
            platform_node_id: [0; 20],
        }
    }

    #[test]
    fn hash_input_sizes() {
        let mut e = core_test_entry(1);
        assert_eq!(e.hash_input().len(), 151);
        e.version = 2;
        assert_eq!(e.hash_input().len(), 153);
        e.mn_type = MN_TYPE_EVO;
        assert_eq!(e.hash_input().len(), 175);
    }

    #[test]
    fn round_trip_at_each_layout() {
        let mut e = core_test_entry(7);
        for p in [70218, 70227, 70228, 70230] {
            let b = e.to_bytes(p);
            assert_eq!(SmlEntry::from_bytes(&b, p).unwrap(), e);
        }
        e.version = 2;
        e.mn_type = 1;
        e.platform_http_port = 443;
        e.platform_node_id = [9; 20];
        let b = e.to_bytes(70230);
        assert_eq!(b.len(), 2 + 175);
        assert_eq!(SmlEntry::from_bytes(&b, 70230).unwrap(), e);
    }

    #[test]
    fn ext_net_info_parses() {
        let mut e = core_test_entry(3);
        e.version = 3;
        // version 1, one purpose (0) with one service entry (IPv4 1.2.3.4:9999) and one domain.
        let mut ni = vec![1u8, 1, 0, 2, 0x01, 1, 4, 1, 2, 3, 4];
        ni.extend_from_slice(&9999u16.to_be_bytes());
        ni.extend_from_slice(&[0x02, 3, b'a', b'.', b'b']);
        ni.extend_from_slice(&443u16.to_be_bytes());
        e.net_info = NetInfo::Extended(ni);
        e.mn_type = 1;
        let b = e.to_bytes(70240);
        assert_eq!(SmlEntry::from_bytes(&b, 70240).unwrap(), e);
    }
}
