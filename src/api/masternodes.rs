//! The authenticated masternode address book: every entry of the validated simplified
//! masternode list at the tip, with its type, validity, keys and every address of its network
//! information (core P2P, platform P2P, platform HTTPS).
//!
//! Trust: the list these values come from is the one whose SML merkle root equals the
//! `merkleRootMNList` of the coinbase special payload, proven by a merkle proof against the
//! header chain's block — the same proof the quorum keys rest on. The book is exactly as
//! trustworthy as the quorums the client reports (docs/BINDINGS.md, "Masternode address book").

use crate::hashes::Hash256;
use crate::sml::MasternodeList;
use crate::wire::netinfo::{
    DecodedAddress, HostKind, PURPOSE_CORE_P2P, PURPOSE_PLATFORM_HTTPS, PURPOSE_PLATFORM_P2P,
};
use crate::wire::sml_entry::{SmlEntry, ENTRY_VERSION_EXT_ADDR};

/// The type of a masternode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MasternodeType {
    /// A regular masternode.
    Regular,
    /// An evonode (serves Dash Platform).
    Evo,
}

/// What an address is for (Core's `NetInfoPurpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, uniffi::Enum)]
pub enum AddressPurpose {
    /// Dash Core P2P.
    CoreP2p,
    /// Dash Platform P2P (Tenderdash).
    PlatformP2p,
    /// Dash Platform HTTPS (DAPI).
    PlatformHttps,
}

/// The kind of host an address names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum AddressKind {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// Tor v3 onion service (`….onion`).
    TorV3,
    /// I2P (`….b32.i2p`).
    I2p,
    /// CJDNS.
    Cjdns,
    /// A domain name.
    Domain,
}

/// One address of a masternode.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MasternodeAddress {
    /// What it is for.
    pub purpose: AddressPurpose,
    /// The kind of host.
    pub kind: AddressKind,
    /// The host as Dash Core prints it: dotted IPv4, IPv6 without brackets, `….onion`,
    /// `….b32.i2p`, or the domain name.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl MasternodeAddress {
    /// `host:port` exactly as Dash Core's RPC prints it (`[v6]:port` for IPv6 and CJDNS).
    pub fn host_port(&self) -> String {
        match self.kind {
            AddressKind::Ipv6 | AddressKind::Cjdns => format!("[{}]:{}", self.host, self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }

    fn from_decoded(d: DecodedAddress) -> Option<MasternodeAddress> {
        let purpose = match d.purpose {
            PURPOSE_CORE_P2P => AddressPurpose::CoreP2p,
            PURPOSE_PLATFORM_P2P => AddressPurpose::PlatformP2p,
            PURPOSE_PLATFORM_HTTPS => AddressPurpose::PlatformHttps,
            _ => return None,
        };
        let kind = match d.kind {
            HostKind::Ipv4 => AddressKind::Ipv4,
            HostKind::Ipv6 => AddressKind::Ipv6,
            HostKind::TorV3 => AddressKind::TorV3,
            HostKind::I2p => AddressKind::I2p,
            HostKind::Cjdns => AddressKind::Cjdns,
            HostKind::Domain => AddressKind::Domain,
        };
        Some(MasternodeAddress {
            purpose,
            kind,
            host: d.host,
            port: d.port,
        })
    }
}

/// One masternode of the validated list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MasternodeEntry {
    /// The ProRegTx hash identifying the masternode.
    pub pro_reg_tx_hash: Hash256,
    /// Regular masternode or evonode.
    pub mn_type: MasternodeType,
    /// Valid (not PoSe-banned).
    pub is_valid: bool,
    /// The confirmed hash (zero while unconfirmed).
    pub confirmed_hash: Hash256,
    /// The BLS operator public key, 48 bytes, as in the list.
    pub operator_public_key: [u8; 48],
    /// True when [`MasternodeEntry::operator_public_key`] is in the legacy BLS encoding
    /// (entry version 1, before the basic-scheme fork); false for the basic encoding.
    pub legacy_operator_key: bool,
    /// The voting key id (hash160).
    pub voting_key_id: [u8; 20],
    /// The platform node id (evonodes only), in the byte order of the list (serialized
    /// order). Dash Core's RPC prints it byte-reversed, as a `uint160`; see
    /// [`MasternodeEntry::platform_node_id_display`].
    pub platform_node_id: Option<[u8; 20]>,
    /// The simplified-list entry version (1 legacy BLS, 2 basic BLS, 3 extended addresses).
    pub entry_version: u16,
    /// Every address, purpose by purpose in the order the list holds them. Entry versions 1–2
    /// carry one core P2P address; an evonode of entry version 2 adds its platform HTTPS
    /// address (the core P2P host with the platform HTTP port the list carries; the platform
    /// P2P port of such an entry is not in the list). Version 3 entries carry every address of
    /// their `ExtNetInfo`. Empty when the masternode has no address (Core's `[::]:0`).
    pub addresses: Vec<MasternodeAddress>,
}

impl MasternodeEntry {
    /// The platform node id as Dash Core's RPC prints it (`platformNodeID`, the form
    /// `protx register_evo` takes and Tenderdash uses): hex of the bytes reversed.
    pub fn platform_node_id_display(&self) -> Option<String> {
        self.platform_node_id.map(|id| {
            let mut r = id;
            r.reverse();
            hex::encode(r)
        })
    }

    /// The entry's addresses for one purpose.
    pub fn addresses_for(
        &self,
        purpose: AddressPurpose,
    ) -> impl Iterator<Item = &MasternodeAddress> {
        self.addresses.iter().filter(move |a| a.purpose == purpose)
    }

    /// The book's view of one simplified-list entry.
    pub fn from_sml_entry(e: &SmlEntry) -> MasternodeEntry {
        let evo = e.is_evo();
        // Structure was checked when the entry was decoded; an undecodable tail (impossible
        // for a decoded entry) yields the addresses read so far... none, rather than a panic.
        let mut addresses: Vec<MasternodeAddress> = e
            .net_info
            .addresses()
            .unwrap_or_default()
            .into_iter()
            .filter_map(MasternodeAddress::from_decoded)
            .collect();
        if evo && e.version < ENTRY_VERSION_EXT_ADDR {
            if let Some(core) = addresses.first().cloned() {
                addresses.push(MasternodeAddress {
                    purpose: AddressPurpose::PlatformHttps,
                    port: e.platform_http_port,
                    ..core
                });
            }
        }
        MasternodeEntry {
            pro_reg_tx_hash: e.pro_reg_tx_hash,
            mn_type: if evo {
                MasternodeType::Evo
            } else {
                MasternodeType::Regular
            },
            is_valid: e.is_valid,
            confirmed_hash: e.confirmed_hash,
            operator_public_key: e.operator_key,
            legacy_operator_key: e.has_legacy_operator_key(),
            voting_key_id: e.voting_key_id,
            platform_node_id: evo.then_some(e.platform_node_id),
            entry_version: e.version,
            addresses,
        }
    }
}

/// The validated masternode list at the client's tip, as an address book.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MasternodeBook {
    /// Height of the list's block.
    pub height: u32,
    /// The list's block.
    pub block_hash: Hash256,
    /// The list's SML merkle root (equal to the coinbase's `merkleRootMNList`, proven against
    /// the block header).
    pub sml_root: Hash256,
    /// Every entry (valid and PoSe-banned), ordered by ProRegTx hash as Core orders the list.
    pub entries: Vec<MasternodeEntry>,
}

impl MasternodeBook {
    /// The book of a validated list.
    pub fn from_list(list: &MasternodeList) -> MasternodeBook {
        MasternodeBook {
            height: list.height,
            block_hash: list.block_hash,
            sml_root: list
                .cbtx
                .as_ref()
                .map(|c| c.merkle_root_mn_list)
                .unwrap_or_else(|| list.sml_root()),
            entries: list
                .entries
                .values()
                .map(|e| MasternodeEntry::from_sml_entry(e))
                .collect(),
        }
    }

    /// The entry of a masternode by ProRegTx hash.
    pub fn entry(&self, pro_reg_tx_hash: &Hash256) -> Option<&MasternodeEntry> {
        self.entries
            .iter()
            .find(|e| &e.pro_reg_tx_hash == pro_reg_tx_hash)
    }
}

/// Reported when the entries of the validated list at the tip changed (a masternode was
/// registered, removed, banned, revived or changed its keys or addresses). Read the new book
/// with [`crate::Client::masternodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasternodesChanged {
    /// Height of the tip list.
    pub height: u32,
    /// Its block.
    pub block_hash: Hash256,
    /// Its SML merkle root.
    pub sml_root: Hash256,
    /// Entries in it.
    pub count: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::sml_entry::{NetInfo, MN_TYPE_EVO};

    fn v2_evonode() -> SmlEntry {
        let mut svc = [0u8; 18];
        svc[10] = 0xff;
        svc[11] = 0xff;
        svc[12..16].copy_from_slice(&[1, 2, 3, 4]);
        svc[16..18].copy_from_slice(&9999u16.to_be_bytes());
        let mut id = [0u8; 20];
        id[0] = 0xaa;
        id[19] = 0x01;
        SmlEntry {
            version: 2,
            pro_reg_tx_hash: Hash256([7; 32]),
            confirmed_hash: Hash256([8; 32]),
            net_info: NetInfo::Service(svc),
            operator_key: [0x99; 48],
            voting_key_id: [5; 20],
            is_valid: false,
            mn_type: MN_TYPE_EVO,
            platform_http_port: 443,
            platform_node_id: id,
        }
    }

    #[test]
    fn a_version_2_evonode_has_its_core_and_platform_https_address() {
        // Hand-derived from Core's rule for entries without ExtNetInfo (rpc/evo_util.cpp,
        // NetInfoJsonInternal for a CSimplifiedMNListEntry): the service's host with the
        // entry's platform HTTP port; no platform P2P address (the entry has no such port).
        let e = MasternodeEntry::from_sml_entry(&v2_evonode());
        assert_eq!(e.mn_type, MasternodeType::Evo);
        assert!(!e.is_valid);
        assert!(!e.legacy_operator_key);
        let printed: Vec<(AddressPurpose, String)> = e
            .addresses
            .iter()
            .map(|a| (a.purpose, a.host_port()))
            .collect();
        assert_eq!(
            printed,
            vec![
                (AddressPurpose::CoreP2p, "1.2.3.4:9999".to_string()),
                (AddressPurpose::PlatformHttps, "1.2.3.4:443".to_string()),
            ]
        );
        // Core prints the node id as a uint160: bytes reversed.
        assert_eq!(
            e.platform_node_id_display().unwrap(),
            format!("01{}aa", "00".repeat(18))
        );
    }
}
