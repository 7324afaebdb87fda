//! The masternode address book in C: an owned snapshot of the validated list at the tip
//! (`dqs_masternode_list`), read through accessor functions and freed with
//! `dqs_masternode_list_free`. Structs the library fills carry a `struct_size` the caller sets
//! to `sizeof` (the library refuses a smaller one), so they can grow at the end.

use super::boundary::{
    bytes, client_ref, err, free_handle, guard, handle_ref, null, out, FfiResult,
};
use super::client::dqs_client;
use super::types::dqs_result;
use crate::api::{AddressKind, AddressPurpose, MasternodeBook, MasternodeType, MasternodesChanged};
use crate::bindings::config_ops;
use std::ffi::{c_char, CString};

/// The type of a masternode.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_masternode_type {
    /// A regular masternode.
    Regular = 0,
    /// An evonode (serves Dash Platform).
    Evo = 1,
}

/// What an address is for.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_address_purpose {
    /// Dash Core P2P.
    CoreP2p = 0,
    /// Dash Platform P2P.
    PlatformP2p = 1,
    /// Dash Platform HTTPS (DAPI).
    PlatformHttps = 2,
}

/// The kind of host an address names.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dqs_address_kind {
    /// IPv4.
    Ipv4 = 0,
    /// IPv6.
    Ipv6 = 1,
    /// Tor v3 onion service.
    TorV3 = 2,
    /// I2P.
    I2p = 3,
    /// CJDNS.
    Cjdns = 4,
    /// A domain name.
    Domain = 5,
}

impl From<MasternodeType> for dqs_masternode_type {
    fn from(t: MasternodeType) -> Self {
        match t {
            MasternodeType::Regular => dqs_masternode_type::Regular,
            MasternodeType::Evo => dqs_masternode_type::Evo,
        }
    }
}

impl From<AddressPurpose> for dqs_address_purpose {
    fn from(p: AddressPurpose) -> Self {
        match p {
            AddressPurpose::CoreP2p => dqs_address_purpose::CoreP2p,
            AddressPurpose::PlatformP2p => dqs_address_purpose::PlatformP2p,
            AddressPurpose::PlatformHttps => dqs_address_purpose::PlatformHttps,
        }
    }
}

impl From<AddressKind> for dqs_address_kind {
    fn from(k: AddressKind) -> Self {
        match k {
            AddressKind::Ipv4 => dqs_address_kind::Ipv4,
            AddressKind::Ipv6 => dqs_address_kind::Ipv6,
            AddressKind::TorV3 => dqs_address_kind::TorV3,
            AddressKind::I2p => dqs_address_kind::I2p,
            AddressKind::Cjdns => dqs_address_kind::Cjdns,
            AddressKind::Domain => dqs_address_kind::Domain,
        }
    }
}

/// Reported to `on_masternodes_changed` when the entries of the validated list at the tip
/// changed (valid during the callback only).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_masternodes_changed {
    /// Height of the tip list.
    pub height: u32,
    /// Its block hash (internal byte order).
    pub block_hash: [u8; 32],
    /// Its SML merkle root (internal byte order).
    pub sml_root: [u8; 32],
    /// Entries in it.
    pub count: u32,
}

impl From<&MasternodesChanged> for dqs_masternodes_changed {
    fn from(m: &MasternodesChanged) -> Self {
        dqs_masternodes_changed {
            height: m.height,
            block_hash: m.block_hash.0,
            sml_root: m.sml_root.0,
            count: m.count,
        }
    }
}

/// The validated masternode list at the tip (opaque, owned by the caller). Create with
/// `dqs_client_masternodes`, free with `dqs_masternode_list_free`. A snapshot: it does not
/// change when the client's list does. Read-only, so it may be read from several threads.
pub struct dqs_masternode_list {
    book: MasternodeBook,
    /// Per entry, per address: (host, host:port) as C strings, owned by the list.
    strings: Vec<Vec<(CString, CString)>>,
}

/// What a `dqs_masternode_list` is of.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_masternode_list_info {
    /// Set by the caller to `sizeof(dqs_masternode_list_info)`.
    pub struct_size: u32,
    /// Height of the list's block.
    pub height: u32,
    /// The list's block hash (internal byte order).
    pub block_hash: [u8; 32],
    /// Its SML merkle root (internal byte order), equal to the coinbase's `merkleRootMNList`.
    pub sml_root: [u8; 32],
    /// Number of entries.
    pub count: usize,
}

/// One masternode.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_masternode {
    /// Set by the caller to `sizeof(dqs_masternode)`.
    pub struct_size: u32,
    /// ProRegTx hash (internal byte order).
    pub pro_reg_tx_hash: [u8; 32],
    /// Regular or evonode.
    pub mn_type: dqs_masternode_type,
    /// Not PoSe-banned.
    pub is_valid: bool,
    /// Confirmed hash (internal byte order; zero while unconfirmed).
    pub confirmed_hash: [u8; 32],
    /// BLS operator public key as in the list.
    pub operator_public_key: [u8; 48],
    /// True when `operator_public_key` is in the legacy BLS encoding (entry version 1).
    pub legacy_operator_key: bool,
    /// Voting key id (hash160).
    pub voting_key_id: [u8; 20],
    /// Whether `platform_node_id` is set (evonodes).
    pub has_platform_node_id: bool,
    /// Platform node id in list (serialized) order; Dash Core's RPC prints these bytes
    /// reversed.
    pub platform_node_id: [u8; 20],
    /// Simplified-list entry version (1, 2 or 3).
    pub entry_version: u16,
    /// Number of addresses (`dqs_masternode_list_address`).
    pub address_count: usize,
}

/// One address of a masternode.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dqs_masternode_address {
    /// Set by the caller to `sizeof(dqs_masternode_address)`.
    pub struct_size: u32,
    /// What it is for.
    pub purpose: dqs_address_purpose,
    /// The kind of host.
    pub kind: dqs_address_kind,
    /// The port.
    pub port: u16,
    /// NUL-terminated host as Dash Core prints it (IPv6 without brackets, `….onion`,
    /// `….b32.i2p`, domain). Owned by the list: valid until `dqs_masternode_list_free`.
    pub host: *const c_char,
    /// NUL-terminated `host:port` as Dash Core prints it (`[v6]:port`). Owned by the list.
    pub host_port: *const c_char,
}

fn list_ref<'a>(l: *const dqs_masternode_list) -> FfiResult<&'a dqs_masternode_list> {
    handle_ref(l, "list")
}

/// Checks the caller-set `struct_size` at the start of `*p` (a `T` the library fills).
fn sized_out<T>(p: *mut T, what: &str) -> FfiResult {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: `p` is non-NULL and points to a `T` whose first field is the caller-set
    // `struct_size: u32` (documented on each struct); only that field is read.
    let size = unsafe { std::ptr::read(p as *const u32) };
    if (size as usize) < std::mem::size_of::<T>() {
        return Err((
            dqs_result::ErrInvalidArgument,
            format!("{what}->struct_size is too small ({size})"),
        ));
    }
    Ok(())
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Writes to `*out_list` a new snapshot of the validated masternode list at the client's tip
/// (the address book). The caller owns it and frees it with `dqs_masternode_list_free`.
/// `DQS_RESULT_ERR_NOT_FOUND` (and `*out_list` = NULL) before the first list is validated.
#[no_mangle]
pub extern "C" fn dqs_client_masternodes(
    client: *const dqs_client,
    out_list: *mut *mut dqs_masternode_list,
) -> dqs_result {
    guard(|| {
        if out_list.is_null() {
            return Err(null("out_list"));
        }
        let c = client_ref(client)?;
        // SAFETY: `out_list` is non-NULL and writable (caller contract).
        unsafe { out_list.write(std::ptr::null_mut()) };
        let book = c.masternodes().ok_or((
            dqs_result::ErrNotFound,
            "no validated masternode list yet".into(),
        ))?;
        let strings = book
            .entries
            .iter()
            .map(|e| {
                e.addresses
                    .iter()
                    .map(|a| (c_string(&a.host), c_string(&a.host_port())))
                    .collect()
            })
            .collect();
        let list = Box::into_raw(Box::new(dqs_masternode_list { book, strings }));
        // SAFETY: as above.
        unsafe { out_list.write(list) };
        Ok(())
    })
}

/// Frees a list from `dqs_client_masternodes` (NULL is ignored). Every `host`/`host_port`
/// pointer read from it becomes invalid.
#[no_mangle]
pub extern "C" fn dqs_masternode_list_free(list: *mut dqs_masternode_list) {
    guard(|| free_handle(list))
}

/// Fills `*out_info` (its `struct_size` set by the caller) with the list's height, block,
/// SML root and entry count.
#[no_mangle]
pub extern "C" fn dqs_masternode_list_get_info(
    list: *const dqs_masternode_list,
    out_info: *mut dqs_masternode_list_info,
) -> dqs_result {
    guard(|| {
        let l = list_ref(list)?;
        sized_out(out_info, "out_info")?;
        out(
            out_info,
            dqs_masternode_list_info {
                struct_size: std::mem::size_of::<dqs_masternode_list_info>() as u32,
                height: l.book.height,
                block_hash: l.book.block_hash.0,
                sml_root: l.book.sml_root.0,
                count: l.book.entries.len(),
            },
            "out_info",
        )
    })
}

fn index_of(l: &dqs_masternode_list, index: usize) -> Result<usize, (dqs_result, String)> {
    if index < l.book.entries.len() {
        Ok(index)
    } else {
        Err((
            dqs_result::ErrInvalidArgument,
            format!(
                "entry index {index} out of range ({} entries)",
                l.book.entries.len()
            ),
        ))
    }
}

/// Fills `*out_entry` (its `struct_size` set by the caller) with entry `index` (0-based, in
/// ProRegTx hash order). `DQS_RESULT_ERR_INVALID_ARGUMENT` when out of range.
#[no_mangle]
pub extern "C" fn dqs_masternode_list_entry(
    list: *const dqs_masternode_list,
    index: usize,
    out_entry: *mut dqs_masternode,
) -> dqs_result {
    guard(|| {
        let l = list_ref(list)?;
        sized_out(out_entry, "out_entry")?;
        let e = &l.book.entries[index_of(l, index)?];
        out(
            out_entry,
            dqs_masternode {
                struct_size: std::mem::size_of::<dqs_masternode>() as u32,
                pro_reg_tx_hash: e.pro_reg_tx_hash.0,
                mn_type: e.mn_type.into(),
                is_valid: e.is_valid,
                confirmed_hash: e.confirmed_hash.0,
                operator_public_key: e.operator_public_key,
                legacy_operator_key: e.legacy_operator_key,
                voting_key_id: e.voting_key_id,
                has_platform_node_id: e.platform_node_id.is_some(),
                platform_node_id: e.platform_node_id.unwrap_or([0; 20]),
                entry_version: e.entry_version,
                address_count: e.addresses.len(),
            },
            "out_entry",
        )
    })
}

/// Fills `*out_address` (its `struct_size` set by the caller) with address `address_index` of
/// entry `index`. Its strings are owned by the list. `DQS_RESULT_ERR_INVALID_ARGUMENT` when an
/// index is out of range.
#[no_mangle]
pub extern "C" fn dqs_masternode_list_address(
    list: *const dqs_masternode_list,
    index: usize,
    address_index: usize,
    out_address: *mut dqs_masternode_address,
) -> dqs_result {
    guard(|| {
        let l = list_ref(list)?;
        sized_out(out_address, "out_address")?;
        let i = index_of(l, index)?;
        let e = &l.book.entries[i];
        let a = e.addresses.get(address_index).ok_or((
            dqs_result::ErrInvalidArgument,
            format!(
                "address index {address_index} out of range ({} addresses)",
                e.addresses.len()
            ),
        ))?;
        let (host, host_port) = &l.strings[i][address_index];
        out(
            out_address,
            dqs_masternode_address {
                struct_size: std::mem::size_of::<dqs_masternode_address>() as u32,
                purpose: a.purpose.into(),
                kind: a.kind.into(),
                port: a.port,
                host: host.as_ptr(),
                host_port: host_port.as_ptr(),
            },
            "out_address",
        )
    })
}

/// Writes to `*out_index` the index of the masternode with this 32-byte ProRegTx hash
/// (internal byte order). `DQS_RESULT_ERR_NOT_FOUND` when it is not in the list.
#[no_mangle]
pub extern "C" fn dqs_masternode_list_find(
    list: *const dqs_masternode_list,
    pro_reg_tx_hash: *const u8,
    out_index: *mut usize,
) -> dqs_result {
    guard(|| {
        let l = list_ref(list)?;
        let h =
            config_ops::hash_from(bytes(pro_reg_tx_hash, 32, "pro_reg_tx_hash")?).map_err(err)?;
        let i = l
            .book
            .entries
            .iter()
            .position(|e| e.pro_reg_tx_hash == h)
            .ok_or((
                dqs_result::ErrNotFound,
                "no masternode with that ProRegTx hash".into(),
            ))?;
        out(out_index, i, "out_index")
    })
}
