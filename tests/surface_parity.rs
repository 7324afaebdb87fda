//! One client surface: every capability of the Rust API (`Client`, `Config`, and the simulator
//! handle `LocalSimnet`) is reachable from C and from the UniFFI bindings (Kotlin, Swift), and
//! the three report the same errors.
//!
//! The table below maps each capability to its Rust item, its C functions and its UniFFI
//! methods. It is checked against what exists, read from outside the code under test:
//! - Rust: every `pub fn` and `pub` field of `Client` (src/client.rs), `Config`
//!   (src/api/config.rs) and `LocalSimnet` (src/simnet/local.rs) must be in the table, and every
//!   Rust name in the table must be one of them (so a new Rust capability without an FFI
//!   projection fails here, and so does a stale row);
//! - C: every function in the table must be declared in include/dash_qrsync.h, and every function
//!   the header declares must be in the table or in the list of ABI housekeeping functions;
//! - UniFFI: every method in the table must be in the generated Kotlin (and the generated Swift),
//!   and every method the generated Kotlin declares on `ClientConfig`, `QrSyncClient` and
//!   `Simnet` must be in the table.
//!
//! A row may be Rust-only, with the reason written down (benchmark baselines, items the sync
//! itself uses).
//!
//! Then: the C enums carry the Rust variants with the header's fixed values, the C status and
//! progress structs carry every Rust field, and one bad value through Rust, C and UniFFI gives
//! the same error kind and the same message (there is one validation path, the Rust one).

use dash_qrsync::bindings::{ClientConfig, QrSyncError};
use dash_qrsync::c_api::{
    self, dqs_address_kind, dqs_address_purpose, dqs_error_kind, dqs_masternode_type, dqs_network,
    dqs_profile, dqs_result, dqs_state,
};
use dash_qrsync::{
    AddressKind, AddressPurpose, Config, ErrorKind, MasternodeType, Network, SyncProfile, SyncState,
};
use std::collections::BTreeSet;
use std::ffi::CString;
use std::path::PathBuf;

/// One capability: the Rust item (`Type::method` or `Type.field`), the C functions and the UniFFI
/// methods (`Type.method` with Kotlin names; `Type()` is the constructor) that project it, or why
/// it is Rust-only.
struct Row {
    rust: &'static str,
    c: &'static [&'static str],
    uniffi: &'static [&'static str],
    rust_only: Option<&'static str>,
}

const fn row(
    rust: &'static str,
    c: &'static [&'static str],
    uniffi: &'static [&'static str],
) -> Row {
    Row {
        rust,
        c,
        uniffi,
        rust_only: None,
    }
}

const fn rust_only(rust: &'static str, why: &'static str) -> Row {
    Row {
        rust,
        c: &[],
        uniffi: &[],
        rust_only: Some(why),
    }
}

const TABLE: &[Row] = &[
    // Client
    row("Client::new", &["dqs_client_new"], &["QrSyncClient()"]),
    row(
        "Client::start",
        &["dqs_client_start"],
        &["QrSyncClient.start"],
    ),
    row("Client::stop", &["dqs_client_stop"], &["QrSyncClient.stop"]),
    row(
        "Client::status",
        &["dqs_client_status"],
        &["QrSyncClient.status"],
    ),
    row(
        "Client::quorum",
        &["dqs_client_quorum"],
        &["QrSyncClient.quorum"],
    ),
    row(
        "Client::quorums",
        &["dqs_client_quorums"],
        &["QrSyncClient.quorums"],
    ),
    row(
        "Client::verify_clsig",
        &["dqs_client_verify_clsig"],
        &["QrSyncClient.verifyClsig"],
    ),
    row(
        "Client::verify_islock",
        &["dqs_client_verify_islock"],
        &["QrSyncClient.verifyIslock"],
    ),
    row(
        "Client::block_hash",
        &["dqs_client_block_hash"],
        &["QrSyncClient.blockHash"],
    ),
    row(
        "Client::masternodes",
        &[
            "dqs_client_masternodes",
            "dqs_masternode_list_get_info",
            "dqs_masternode_list_entry",
            "dqs_masternode_list_address",
            "dqs_masternode_list_find",
        ],
        &[
            "QrSyncClient.masternodes",
            // The "masternodes changed" event (EventListener::on_masternodes_changed; in C the
            // `on_masternodes_changed` callback of `dqs_callbacks`).
            "QrSyncClient.setMasternodesListener",
        ],
    ),
    rust_only(
        "Client::wait_for_state",
        "each binding waits in its own idiom on the same state events: Swift \
         `AsyncQrSyncClient.synced(timeout:)`, Kotlin `FlowClient.awaitSynced(timeout)`, C hosts in the listener's \
         `on_state` callback",
    ),
    rust_only(
        "Client::wait_for_state_async",
        "as Client::wait_for_state (Swift async `synced`, Kotlin suspend `awaitSynced`)",
    ),
    rust_only(
        "Client::list_phase",
        "doc(hidden) benchmark counters (the phase split of the sync benchmark)",
    ),
    // Config: functions
    row("Config::new", &["dqs_config_new"], &["ClientConfig()"]),
    row(
        "Config::validate",
        &["dqs_config_validate"],
        &["ClientConfig.validate"],
    ),
    row(
        "Config::network",
        &["dqs_config_network"],
        &["ClientConfig.network"],
    ),
    row(
        "Config::set_chain_param",
        &["dqs_config_set_chain_param"],
        &["ClientConfig.setChainParam"],
    ),
    row(
        "Config::from_dash_conf",
        &["dqs_config_set_dash_conf"],
        &["ClientConfig.setDashConf"],
    ),
    row(
        "Config::start_at_birth_height",
        &["dqs_config_set_birth_height"],
        &["ClientConfig.setBirthHeight"],
    ),
    row(
        "Config::start_at_birth_time",
        &["dqs_config_set_birth_time"],
        &["ClientConfig.setBirthTime"],
    ),
    row(
        "Config::start_at_header",
        &["dqs_config_set_start_header"],
        &["ClientConfig.setStartHeader"],
    ),
    row(
        "Config::resolve_start",
        &["dqs_config_start_height"],
        &["ClientConfig.startHeight"],
    ),
    rust_only(
        "Config::accepts_saved_chain",
        "used by the sync when it loads a saved header chain (takes an internal type)",
    ),
    // Config: fields
    row(
        "Config.chain",
        &["dqs_config_set_chain_param", "dqs_config_set_dash_conf"],
        &["ClientConfig.setChainParam", "ClientConfig.setDashConf"],
    ),
    row(
        "Config.peers",
        &["dqs_config_add_peer"],
        &["ClientConfig.addPeer"],
    ),
    row(
        "Config.use_dns_seeds",
        &["dqs_config_set_dns_seeds"],
        &["ClientConfig.setDnsSeeds"],
    ),
    row(
        "Config.checkpoint",
        &["dqs_config_set_checkpoint"],
        &["ClientConfig.setCheckpoint"],
    ),
    row(
        "Config.extra_checkpoints",
        &["dqs_config_add_checkpoint_hash"],
        &["ClientConfig.addCheckpointHash"],
    ),
    row(
        "Config::add_extra_checkpoint",
        &["dqs_config_add_checkpoint_hash"],
        &["ClientConfig.addCheckpointHash"],
    ),
    row(
        "Config::check_extra_checkpoints",
        &["dqs_config_add_checkpoint_hash"],
        &["ClientConfig.addCheckpointHash"],
    ),
    row(
        "Config.start",
        &[
            "dqs_config_set_start_newest",
            "dqs_config_set_start_genesis",
            "dqs_config_set_birth_height",
            "dqs_config_set_birth_time",
            "dqs_config_set_start_header",
        ],
        &[
            "ClientConfig.setStartNewest",
            "ClientConfig.setStartGenesis",
            "ClientConfig.setBirthHeight",
            "ClientConfig.setBirthTime",
            "ClientConfig.setStartHeader",
        ],
    ),
    rust_only(
        "Config.strategy",
        "the alternatives to the default QrInfo are benchmark baselines (doc(hidden) variants)",
    ),
    row(
        "Config.profile",
        &["dqs_config_set_profile"],
        &["ClientConfig.setProfile"],
    ),
    row(
        "Config.max_peers",
        &["dqs_config_set_max_peers"],
        &["ClientConfig.setMaxPeers"],
    ),
    row(
        "Config.connect_timeout",
        &["dqs_config_set_timeouts"],
        &["ClientConfig.setTimeouts"],
    ),
    row(
        "Config.request_timeout",
        &["dqs_config_set_timeouts"],
        &["ClientConfig.setTimeouts"],
    ),
    row(
        "Config.protocol_version",
        &["dqs_config_set_protocol_version"],
        &["ClientConfig.setProtocolVersion"],
    ),
    row(
        "Config.follow_tip",
        &["dqs_config_set_follow_tip"],
        &["ClientConfig.setFollowTip"],
    ),
    // The simulated network (feature `simnet` in Rust and C; always exported by UniFFI, where
    // the constructor fails without the feature).
    row(
        "LocalSimnet::start",
        &["dqs_simnet_start"],
        &["Simnet.start"],
    ),
    row(
        "LocalSimnet::addr",
        &["dqs_simnet_start"],
        &["Simnet.address"],
    ),
    row(
        "LocalSimnet::port",
        &["dqs_simnet_start"],
        &["Simnet.address"],
    ),
    row(
        "LocalSimnet::tip_height",
        &["dqs_simnet_tip_height"],
        &["Simnet.tipHeight"],
    ),
    row("LocalSimnet::mine", &["dqs_simnet_mine"], &["Simnet.mine"]),
    row(
        "LocalSimnet::serve_entry_version",
        &["dqs_simnet_serve_entry_version"],
        &["Simnet.serveEntryVersion"],
    ),
    row(
        "LocalSimnet::clsig",
        &["dqs_simnet_clsig"],
        &["Simnet.clsig"],
    ),
    row(
        "LocalSimnet::latest_islock",
        &["dqs_simnet_latest_islock"],
        &["Simnet.latestIslock"],
    ),
    row(
        "LocalSimnet::shutdown",
        &["dqs_simnet_free"],
        &["Simnet.shutdown"],
    ),
    rust_only(
        "LocalSimnet::node",
        "the generator behind the handle, for Rust tests that reorg or inspect the chain",
    ),
];

/// C functions that are ABI housekeeping rather than a Rust capability (their UniFFI
/// counterpart, where one exists, is in the comment).
const C_HOUSEKEEPING: &[&str] = &[
    "dqs_version",           // crate::VERSION
    "dqs_abi_version",       // the C ABI's own version
    "dqs_enable_logging",    // logging::enable_platform_logging / enableLogging
    "dqs_last_error_length", // C error reporting
    "dqs_last_error_message",
    "dqs_config_free", // C ownership
    "dqs_client_free",
    "dqs_masternode_list_free",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The body of the first `impl <ty> {` block (up to the matching closing brace at column 0).
fn impl_block(src: &str, ty: &str) -> String {
    // Every `impl <ty> {` block (a type's methods may be grouped in several).
    let pat = format!("\nimpl {ty} {{\n");
    let mut out = String::new();
    let mut rest = src;
    while let Some(start) = rest.find(&pat) {
        let body = &rest[start + 1..];
        let end = body.find("\n}\n").expect("impl block ends");
        out.push_str(&body[..end]);
        out.push('\n');
        rest = &body[end..];
    }
    assert!(!out.is_empty(), "no `impl {ty}` block");
    out
}

/// `pub fn` (and `pub async fn`) names at the first indentation level of an impl block.
fn pub_fns(block: &str) -> Vec<String> {
    block
        .lines()
        .filter_map(|l| {
            l.strip_prefix("    pub fn ")
                .or_else(|| l.strip_prefix("    pub async fn "))
        })
        .map(|l| l.split(['(', '<']).next().unwrap().trim().to_string())
        .collect()
}

/// `pub` field names of `pub struct <ty> {`.
fn pub_fields(src: &str, ty: &str) -> Vec<String> {
    let start = src
        .find(&format!("\npub struct {ty} {{\n"))
        .unwrap_or_else(|| panic!("no `pub struct {ty}`"));
    let body = &src[start..];
    let end = body.find("\n}\n").expect("struct ends");
    body[..end]
        .lines()
        .filter_map(|l| l.strip_prefix("    pub "))
        .map(|l| l.split(':').next().unwrap().trim().to_string())
        .collect()
}

/// What the Rust API offers, as `Type::fn` and `Type.field`.
fn rust_items() -> BTreeSet<String> {
    let mut items = BTreeSet::new();
    let client = read("src/client.rs");
    for f in pub_fns(&impl_block(&client, "Client")) {
        items.insert(format!("Client::{f}"));
    }
    let config = read("src/api/config.rs");
    for f in pub_fns(&impl_block(&config, "Config")) {
        items.insert(format!("Config::{f}"));
    }
    for f in pub_fields(&config, "Config") {
        items.insert(format!("Config.{f}"));
    }
    let local = read("src/simnet/local.rs");
    for f in pub_fns(&impl_block(&local, "LocalSimnet")) {
        items.insert(format!("LocalSimnet::{f}"));
    }
    items
}

/// Every `dqs_…(` function the header declares.
fn c_functions() -> BTreeSet<String> {
    let h = read("include/dash_qrsync.h");
    let mut out = BTreeSet::new();
    for (i, _) in h.match_indices("dqs_") {
        let rest = &h[i..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let before = h[..i].chars().last().unwrap_or(' ');
        let is_decl = rest[name.len()..].starts_with('(') && (before == ' ' || before == '*');
        if is_decl {
            out.insert(name);
        }
    }
    out
}

const KOTLIN: &str = "bindings/generated/kotlin/org/dash/qrsync/dash_qrsync.kt";
const SWIFT: &str = "bindings/generated/swift/DashQRSync.swift";

/// The generated Kotlin text of an object: its interface and its class (constructors and
/// companion functions included).
fn kotlin_object(kt: &str, ty: &str) -> String {
    let mut text = String::new();
    for marker in [
        format!("\npublic interface {ty}Interface {{"),
        format!("\nopen class {ty}: "),
    ] {
        let start = kt
            .find(&marker)
            .unwrap_or_else(|| panic!("generated Kotlin has no {marker:?}"));
        let body = &kt[start + 1..];
        let end = ["\npublic interface ", "\nopen class ", "\nsealed class "]
            .iter()
            .filter_map(|m| body.find(m))
            .min()
            .unwrap_or(body.len());
        text.push_str(&body[..end]);
    }
    text
}

/// Methods (Kotlin names) the generated interface of an object declares.
fn kotlin_methods(kt: &str, ty: &str) -> BTreeSet<String> {
    let marker = format!("\npublic interface {ty}Interface {{");
    let start = kt.find(&marker).expect("interface");
    let body = &kt[start..];
    let end = body.find("\n    companion object").expect("interface ends");
    body[..end]
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("fun `"))
        .map(|l| l.split('`').next().unwrap().to_string())
        .collect()
}

fn uniffi_exists(kt: &str, swift: &str, name: &str) -> bool {
    let (ty, member) = name.split_once(['.', '(']).expect("Type.method or Type()");
    let obj = kotlin_object(kt, ty);
    if name.ends_with("()") {
        return obj.contains("    constructor(`");
    }
    let in_kotlin = obj.contains(&format!("fun `{member}`("));
    let in_swift = swift.contains(&format!("func {member}("));
    in_kotlin && in_swift
}

#[test]
fn every_rust_capability_is_in_the_table_and_every_row_is_real() {
    let rust = rust_items();
    let named: BTreeSet<String> = TABLE.iter().map(|r| r.rust.to_string()).collect();
    assert_eq!(named.len(), TABLE.len(), "a Rust item has two rows");
    let missing: Vec<_> = rust.difference(&named).collect();
    assert!(
        missing.is_empty(),
        "Rust capabilities without a row (add a C function and a UniFFI method, or a \
         rust_only reason): {missing:?}"
    );
    let stale: Vec<_> = named.difference(&rust).collect();
    assert!(stale.is_empty(), "rows naming no Rust item: {stale:?}");
    for r in TABLE {
        match r.rust_only {
            Some(why) => assert!(r.c.is_empty() && r.uniffi.is_empty() && !why.is_empty()),
            None => assert!(
                !r.c.is_empty() && !r.uniffi.is_empty(),
                "{} lacks a projection",
                r.rust
            ),
        }
    }
}

#[test]
fn every_c_function_in_the_table_exists_and_every_header_function_is_accounted_for() {
    let header = c_functions();
    assert!(header.len() > 30, "parsed {} functions", header.len());
    let mut used = BTreeSet::new();
    for r in TABLE {
        for f in r.c {
            assert!(
                header.contains(*f),
                "{f} (for {}) is not in include/dash_qrsync.h",
                r.rust
            );
            used.insert(f.to_string());
        }
    }
    for f in C_HOUSEKEEPING {
        assert!(header.contains(*f), "{f} is not in the header");
        used.insert(f.to_string());
    }
    let unaccounted: Vec<_> = header.difference(&used).collect();
    assert!(
        unaccounted.is_empty(),
        "C functions in no row of the table: {unaccounted:?}"
    );
}

#[test]
fn every_uniffi_method_in_the_table_exists_and_every_generated_method_is_accounted_for() {
    let kt = read(KOTLIN);
    let swift = read(SWIFT);
    let mut used = BTreeSet::new();
    for r in TABLE {
        for m in r.uniffi {
            assert!(
                uniffi_exists(&kt, &swift, m),
                "{m} (for {}) is not in the generated bindings",
                r.rust
            );
            used.insert(m.to_string());
        }
    }
    for ty in ["ClientConfig", "QrSyncClient", "Simnet"] {
        for m in kotlin_methods(&kt, ty) {
            let name = format!("{ty}.{m}");
            assert!(
                used.contains(&name),
                "{name} is generated but in no row of the table"
            );
        }
    }
    // The static constructor of Simnet lives in its companion object.
    assert!(kotlin_object(&kt, "Simnet").contains("fun `start`(`seed`: kotlin.ULong)"));
}

/// `NAME = value` pairs of a C enum in the header.
fn c_enum(name: &str) -> Vec<(String, u32)> {
    let h = read("include/dash_qrsync.h");
    let start = h
        .find(&format!("typedef enum {name} {{"))
        .unwrap_or_else(|| panic!("no enum {name}"));
    let body = &h[start..];
    let end = body.find('}').unwrap();
    body[..end]
        .lines()
        .filter_map(|l| {
            let (k, v) = l.trim().trim_end_matches(',').split_once(" = ")?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn screaming(s: &str) -> String {
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}

/// Checks that the Rust variants (given by name with their C value) are exactly the header's.
fn same_enum(c_name: &str, prefix: &str, rust: &[(String, u32)]) {
    let header = c_enum(c_name);
    let expected: Vec<(String, u32)> = rust
        .iter()
        .map(|(n, v)| (format!("{prefix}{}", screaming(n)), *v))
        .collect();
    assert_eq!(header, expected, "{c_name} differs from the Rust enum");
}

#[test]
fn c_enums_are_the_rust_enums_with_the_headers_fixed_values() {
    // Each list names every variant: the match makes a new Rust variant a compile error here.
    let states = [
        SyncState::Idle,
        SyncState::Connecting,
        SyncState::Headers,
        SyncState::MasternodeLists,
        SyncState::Synced,
        SyncState::Stopped,
        SyncState::UpdateRequired,
    ];
    let _ = |s: SyncState| match s {
        SyncState::Idle
        | SyncState::Connecting
        | SyncState::Headers
        | SyncState::MasternodeLists
        | SyncState::Synced
        | SyncState::Stopped
        | SyncState::UpdateRequired => (),
    };
    let v: Vec<_> = states
        .iter()
        .map(|s| (format!("{s:?}"), dqs_state::from(*s) as u32))
        .collect();
    same_enum("dqs_state", "DQS_STATE_", &v);

    let kinds = [
        ErrorKind::InvalidConfig,
        ErrorKind::InvalidArgument,
        ErrorKind::Network,
        ErrorKind::PeerMisbehaved,
        ErrorKind::Store,
        ErrorKind::CorruptState,
        ErrorKind::Internal,
        ErrorKind::UnsupportedProtocol,
    ];
    let _ = |k: ErrorKind| match k {
        ErrorKind::InvalidConfig
        | ErrorKind::InvalidArgument
        | ErrorKind::Network
        | ErrorKind::PeerMisbehaved
        | ErrorKind::Store
        | ErrorKind::CorruptState
        | ErrorKind::Internal
        | ErrorKind::UnsupportedProtocol => (),
    };
    let v: Vec<_> = kinds
        .iter()
        .map(|k| (format!("{k:?}"), dqs_error_kind::from(*k) as u32))
        .collect();
    same_enum("dqs_error_kind", "DQS_ERROR_KIND_", &v);
    // The removed kind's value stays unused.
    assert!(v.iter().all(|(_, x)| *x != 6));

    let networks = [
        Network::Mainnet,
        Network::Testnet,
        Network::Devnet,
        Network::Regtest,
    ];
    let _ = |n: Network| match n {
        Network::Mainnet | Network::Testnet | Network::Devnet | Network::Regtest => (),
    };
    let v: Vec<_> = networks
        .iter()
        .map(|n| (format!("{n:?}"), dqs_network::from(*n) as u32))
        .collect();
    same_enum("dqs_network", "DQS_NETWORK_", &v);
    for n in networks {
        assert_eq!(c_api::network_from_c(dqs_network::from(n) as u32), Some(n));
    }
    assert_eq!(c_api::network_from_c(4), None);

    let profiles = [SyncProfile::Full, SyncProfile::Wallet];
    let _ = |p: SyncProfile| match p {
        SyncProfile::Full | SyncProfile::Wallet => (),
    };
    let v: Vec<_> = profiles
        .iter()
        .map(|p| (format!("{p:?}"), dqs_profile::from(*p) as u32))
        .collect();
    same_enum("dqs_profile", "DQS_PROFILE_", &v);
    for p in profiles {
        assert_eq!(c_api::profile_from_c(dqs_profile::from(p) as u32), Some(p));
    }
    assert_eq!(c_api::profile_from_c(2), None);

    let types = [MasternodeType::Regular, MasternodeType::Evo];
    let _ = |t: MasternodeType| match t {
        MasternodeType::Regular | MasternodeType::Evo => (),
    };
    let v: Vec<_> = types
        .iter()
        .map(|t| (format!("{t:?}"), dqs_masternode_type::from(*t) as u32))
        .collect();
    same_enum("dqs_masternode_type", "DQS_MASTERNODE_TYPE_", &v);

    let purposes = [
        AddressPurpose::CoreP2p,
        AddressPurpose::PlatformP2p,
        AddressPurpose::PlatformHttps,
    ];
    let _ = |p: AddressPurpose| match p {
        AddressPurpose::CoreP2p | AddressPurpose::PlatformP2p | AddressPurpose::PlatformHttps => (),
    };
    let v: Vec<_> = purposes
        .iter()
        .map(|p| (format!("{p:?}"), dqs_address_purpose::from(*p) as u32))
        .collect();
    same_enum("dqs_address_purpose", "DQS_ADDRESS_PURPOSE_", &v);

    let kinds = [
        AddressKind::Ipv4,
        AddressKind::Ipv6,
        AddressKind::TorV3,
        AddressKind::I2p,
        AddressKind::Cjdns,
        AddressKind::Domain,
    ];
    let _ = |k: AddressKind| match k {
        AddressKind::Ipv4
        | AddressKind::Ipv6
        | AddressKind::TorV3
        | AddressKind::I2p
        | AddressKind::Cjdns
        | AddressKind::Domain => (),
    };
    let v: Vec<_> = kinds
        .iter()
        .map(|k| (format!("{k:?}"), dqs_address_kind::from(*k) as u32))
        .collect();
    same_enum("dqs_address_kind", "DQS_ADDRESS_KIND_", &v);

    // The strategy baselines are not part of the C ABI.
    assert!(!read("include/dash_qrsync.h").contains("STRATEGY"));
    assert!(!read(KOTLIN).contains("SyncStrategy"));
}

/// Field names of a C struct in the header.
fn c_struct_fields(name: &str) -> Vec<String> {
    let h = read("include/dash_qrsync.h");
    let start = h.find(&format!("typedef struct {name} {{")).unwrap();
    let body = &h[start..];
    let end = body.find("} ").unwrap();
    body[..end]
        .lines()
        .filter(|l| l.trim_end().ends_with(';') && !l.trim_start().starts_with("//"))
        .map(|l| {
            let name = l.trim_end_matches(';').rsplit([' ', '*']).next().unwrap();
            // `block_hash[32]` → `block_hash`.
            name.split('[').next().unwrap().to_string()
        })
        .collect()
}

#[test]
fn c_status_and_progress_carry_every_rust_field() {
    for (rust_file, rust_ty, c_ty) in [
        ("src/api/status.rs", "Status", "dqs_status"),
        ("src/api/event.rs", "Progress", "dqs_progress"),
        (
            "src/api/masternodes.rs",
            "MasternodesChanged",
            "dqs_masternodes_changed",
        ),
        (
            "src/api/masternodes.rs",
            "MasternodeEntry",
            "dqs_masternode",
        ),
        (
            "src/api/masternodes.rs",
            "MasternodeAddress",
            "dqs_masternode_address",
        ),
        (
            "src/api/masternodes.rs",
            "MasternodeBook",
            "dqs_masternode_list_info",
        ),
    ] {
        let rust = pub_fields(&read(rust_file), rust_ty);
        assert!(!rust.is_empty(), "no fields read for {rust_ty}");
        let c = c_struct_fields(c_ty);
        for f in &rust {
            // Lists are read through accessors: C carries their count.
            let c_name = match f.as_str() {
                "addresses" => "address_count",
                "entries" => "count",
                f => f,
            };
            assert!(
                c.iter().any(|x| x == c_name),
                "{c_ty} lacks {rust_ty}::{f} (has {c:?})"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One validation path: the same bad value through Rust, C and UniFFI.

/// The calling thread's last C error message.
fn c_message() -> String {
    let mut buf = vec![0u8; 1024];
    let n = c_api::dqs_last_error_message(buf.as_mut_ptr().cast(), buf.len());
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

/// A fresh C configuration for `network` (freed by the caller).
fn c_config(network: dqs_network) -> *mut c_api::dqs_config {
    let mut cfg = std::ptr::null_mut();
    assert_eq!(
        c_api::dqs_config_new(network as u32, &mut cfg),
        dqs_result::Ok
    );
    cfg
}

fn uniffi_parts(e: QrSyncError) -> (ErrorKind, String) {
    match e {
        QrSyncError::InvalidConfig { reason } => (ErrorKind::InvalidConfig, reason),
        QrSyncError::InvalidArgument { reason } => (ErrorKind::InvalidArgument, reason),
        other => panic!("unexpected {other:?}"),
    }
}

/// Asserts that the three surfaces agree: the Rust error, the C result code (for that kind) and
/// last-error message, the UniFFI error variant and reason.
fn agree(
    what: &str,
    rust: dash_qrsync::ClientError,
    c: dqs_result,
    uniffi: QrSyncError,
    expected: &str,
) {
    let c_msg = c_message();
    assert!(
        rust.message.contains(expected),
        "{what}: the Rust message {:?} does not name {expected:?}",
        rust.message
    );
    assert_eq!(c, c_api::result_of(rust.kind), "{what}: C result code");
    assert_eq!(c_msg, rust.message, "{what}: C message");
    let (k, reason) = uniffi_parts(uniffi);
    assert_eq!(k, rust.kind, "{what}: UniFFI kind");
    assert_eq!(reason, rust.message, "{what}: UniFFI message");
}

fn peerful(network: Network) -> Config {
    let mut c = Config::new(network);
    c.peers.push("127.0.0.1:1".parse().unwrap());
    c
}

#[test]
fn one_bad_value_gives_the_same_error_through_rust_c_and_uniffi() {
    // max_peers 0 and 17.
    for bad in [0u32, 17] {
        let mut r = peerful(Network::Regtest);
        r.max_peers = bad as usize;
        let cfg = c_config(dqs_network::Regtest);
        let u = ClientConfig::new(Network::Regtest);
        agree(
            "max_peers",
            r.validate().unwrap_err(),
            c_api::dqs_config_set_max_peers(cfg, bad),
            u.set_max_peers(bad).unwrap_err(),
            "max_peers",
        );
        c_api::dqs_config_free(cfg);
    }

    // A zero timeout.
    let mut r = peerful(Network::Regtest);
    r.request_timeout = std::time::Duration::ZERO;
    let cfg = c_config(dqs_network::Regtest);
    agree(
        "timeouts",
        r.validate().unwrap_err(),
        c_api::dqs_config_set_timeouts(cfg, 1000, 0),
        ClientConfig::new(Network::Regtest)
            .set_timeouts(1000, 0)
            .unwrap_err(),
        "timeouts",
    );
    c_api::dqs_config_free(cfg);

    // A protocol version too old to sync lists (70230 is the lowest that can, PROTOCOL.md §1.3).
    let mut r = peerful(Network::Regtest);
    r.protocol_version = 70229;
    let cfg = c_config(dqs_network::Regtest);
    agree(
        "protocol_version",
        r.validate().unwrap_err(),
        c_api::dqs_config_set_protocol_version(cfg, 70229),
        ClientConfig::new(Network::Regtest)
            .set_protocol_version(70229)
            .unwrap_err(),
        "protocol_version",
    );
    c_api::dqs_config_free(cfg);

    // A wallet birth height below mainnet's oldest built-in checkpoint.
    let mut r = peerful(Network::Mainnet);
    r.start_at_birth_height(100);
    let cfg = c_config(dqs_network::Mainnet);
    agree(
        "birth height",
        r.validate().unwrap_err(),
        c_api::dqs_config_set_birth_height(cfg, 100),
        ClientConfig::new(Network::Mainnet)
            .set_birth_height(100)
            .unwrap_err(),
        "birth height 100",
    );
    c_api::dqs_config_free(cfg);

    // An extra checkpoint contradicting Core's hash-only mainnet checkpoint at 2,421,800
    // (Core v23.1.2 src/chainparams.cpp names 000000000000000718ed…85b7 there).
    let wrong = [7u8; 32];
    let mut r = peerful(Network::Mainnet);
    let cfg = c_config(dqs_network::Mainnet);
    agree(
        "extra checkpoint",
        r.add_extra_checkpoint(2_421_800, dash_qrsync::Hash256(wrong))
            .unwrap_err(),
        c_api::dqs_config_add_checkpoint_hash(cfg, 2_421_800, wrong.as_ptr(), 32),
        ClientConfig::new(Network::Mainnet)
            .add_checkpoint_hash(2_421_800, wrong.to_vec())
            .unwrap_err(),
        "000000000000000718ed026ebd644a8b70b42d4cbd7b25304c066c9bf15f85b7",
    );
    c_api::dqs_config_free(cfg);

    // An LLMQ parameter Core refuses (threshold above size) on regtest.
    let mut r = peerful(Network::Regtest);
    let cfg = c_config(dqs_network::Regtest);
    let (k, v) = (
        CString::new("llmqtestparams").unwrap(),
        CString::new("4:9").unwrap(),
    );
    agree(
        "chain param",
        r.set_chain_param("llmqtestparams", "4:9").unwrap_err(),
        c_api::dqs_config_set_chain_param(cfg, k.as_ptr(), v.as_ptr()),
        ClientConfig::new(Network::Regtest)
            .set_chain_param("llmqtestparams".into(), "4:9".into())
            .unwrap_err(),
        "llmqtestparams",
    );
    c_api::dqs_config_free(cfg);

    // A dash.conf naming a chain Core does not know.
    let text = "chain=bogus\n";
    let cfg = c_config(dqs_network::Regtest);
    let t = CString::new(text).unwrap();
    agree(
        "dash.conf",
        Config::from_dash_conf(text).unwrap_err(),
        c_api::dqs_config_set_dash_conf(cfg, t.as_ptr()),
        ClientConfig::new(Network::Regtest)
            .set_dash_conf(text.into())
            .unwrap_err(),
        "chain=bogus",
    );
    c_api::dqs_config_free(cfg);

    // No peers and no DNS seeds: the whole-configuration check.
    let cfg = c_config(dqs_network::Regtest);
    agree(
        "validate",
        Config::new(Network::Regtest).validate().unwrap_err(),
        c_api::dqs_config_validate(cfg),
        ClientConfig::new(Network::Regtest).validate().unwrap_err(),
        "no peers",
    );
    c_api::dqs_config_free(cfg);

    // A host header whose hash is not the one claimed (the real mainnet genesis header, claimed
    // with one byte of its hash changed).
    let genesis = dash_qrsync::chain::params::genesis_header(Network::Mainnet);
    let bytes = genesis.to_array();
    let mut claimed = genesis.block_hash();
    claimed.0[5] ^= 1;
    let mut r = peerful(Network::Mainnet);
    r.start_at_header(0, genesis, claimed);
    let cfg = c_config(dqs_network::Mainnet);
    agree(
        "start header",
        r.validate().unwrap_err(),
        c_api::dqs_config_set_start_header(cfg, 0, bytes.as_ptr(), 80, claimed.0.as_ptr()),
        ClientConfig::new(Network::Mainnet)
            .set_start_header(0, bytes.to_vec(), claimed.0.to_vec())
            .unwrap_err(),
        "not the claimed",
    );
    c_api::dqs_config_free(cfg);
}
