//! CbTx versions on real data (issue 22): Dash Core v24's version 4 payload and a future
//! version that appends a field, each put into a real Core v23.1 `mnlistdiff` in place of its
//! version 3 payload. The SML and quorum roots stay the ones Core committed (and `protx diff`
//! printed), so the roots check against Core's own values; the coinbase proof is rebuilt over the
//! rewritten coinbase (a one-transaction block), so it proves the bytes received. Also: V24's
//! version-bits activation computed from network E's real headers equals Core's
//! `getblockchaininfo`.

mod common;

use dash_qrsync::hashes::Hash256;
use dash_qrsync::network::conf::DashConf;
use dash_qrsync::sml::{self, MasternodeList, SmlError};
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::tx::{CbTx, PartialMerkleTree};
use dash_qrsync::wire::{Decode, Encode};

const P: u32 = 70240;
const A: &str = "core-regtest/A-v20at100";
const E: &str = "core-regtest/E-v24-extaddr";

fn conf(dir: &std::path::Path, net: &str) -> DashConf {
    let text = std::fs::read_to_string(dir.join(net).join("dash.conf")).unwrap();
    DashConf::parse(&text).unwrap()
}

fn rpc(dir: &std::path::Path, rel: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(rel)).unwrap()).unwrap()
}

/// Core's display hex (reversed) as a hash.
fn display_hash(s: &str) -> Hash256 {
    let mut b: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    b.reverse();
    Hash256(b.try_into().unwrap())
}

/// The real diff 0 -> 309 of network A, its payload replaced by `payload` and its proof rebuilt
/// as a one-transaction block over the rewritten coinbase; returns the diff (decoded from its
/// re-encoded bytes, as a peer's would be) and the header merkle root that proof needs.
fn rewritten(dir: &std::path::Path, payload: Vec<u8>) -> (MnListDiff, Hash256) {
    let bytes = std::fs::read(
        dir.join(A)
            .join("mnlistdiff/mnlistdiff_regtest_0_309_p70240.bin"),
    )
    .unwrap();
    let mut diff = MnListDiff::from_bytes(&bytes, P).unwrap();
    diff.cb_tx.extra_payload = Some(payload);
    let txid = diff.cb_tx.txid();
    diff.cb_tx_merkle_tree = PartialMerkleTree {
        n_transactions: 1,
        hashes: vec![txid],
        flags: vec![1],
    };
    let wire = diff.to_bytes(P);
    (MnListDiff::from_bytes(&wire, P).unwrap(), txid)
}

fn v3_payload(dir: &std::path::Path) -> Vec<u8> {
    let bytes = std::fs::read(
        dir.join(A)
            .join("mnlistdiff/mnlistdiff_regtest_0_309_p70240.bin"),
    )
    .unwrap();
    let diff = MnListDiff::from_bytes(&bytes, P).unwrap();
    let p = diff.cb_tx.extra_payload.clone().unwrap();
    assert_eq!(CbTx::from_bytes(&p, 0).unwrap().version, 3);
    p
}

#[test]
fn cbtx_v4_and_an_appending_v5_validate_against_cores_roots() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let params = conf(&dir, A).params;
    let a = params.activations();
    let core = rpc(&dir, &format!("{A}/rpc/protx_diff_0_309.json"));
    let core_sml = display_hash(core["merkleRootMNList"].as_str().unwrap());
    let core_quorums = display_hash(core["merkleRootQuorums"].as_str().unwrap());
    let v3 = v3_payload(&dir);

    // Version 4: Core v24's layout, the asset-unlock root appended (null: no unlocks).
    let mut v4 = v3.clone();
    v4[0] = 4;
    v4.extend_from_slice(&[0; 32]);
    let (diff, root) = rewritten(&dir, v4.clone());
    let list = sml::apply_and_verify(a, None, &MasternodeList::empty(), &diff, 309, Some(root))
        .unwrap_or_else(|e| panic!("CbTx v4: {e}"));
    let cbtx = list.cbtx.as_ref().unwrap();
    assert_eq!(cbtx.version, 4);
    assert_eq!(cbtx.merkle_root_asset_unlocks, Some(Hash256::ZERO));
    assert_eq!(list.sml_root(), core_sml);
    assert_eq!(list.quorum_root(), core_quorums);
    // Where V24 is visibly not active, version 4 is refused (every Core release refuses it).
    assert!(matches!(
        sml::apply_and_verify(
            a,
            Some(false),
            &MasternodeList::empty(),
            &diff,
            309,
            Some(root)
        ),
        Err(SmlError::BadCbTxVersion { version: 4, .. })
    ));

    // Version 5 that appends a field: the known prefix is read, the rest kept, roots checked.
    let mut v5 = v4.clone();
    v5[0] = 5;
    v5.extend_from_slice(&[0x5a; 41]);
    let (diff, root) = rewritten(&dir, v5.clone());
    let list = sml::apply_and_verify(a, None, &MasternodeList::empty(), &diff, 309, Some(root))
        .unwrap_or_else(|e| panic!("CbTx v5: {e}"));
    let cbtx = list.cbtx.as_ref().unwrap();
    assert_eq!((cbtx.version, cbtx.unknown_fields.len()), (5, 41));
    assert_eq!(list.sml_root(), core_sml);

    // The roots are still checked: a v5 whose SML root differs from the list is refused.
    let mut bad = v5.clone();
    bad[6] ^= 1; // first byte of merkleRootMNList (after nVersion u16 and nHeight i32)
    let (diff, root) = rewritten(&dir, bad);
    assert!(matches!(
        sml::apply_and_verify(a, None, &MasternodeList::empty(), &diff, 309, Some(root)),
        Err(SmlError::SmlRootMismatch { .. })
    ));

    // The coinbase txid is the one of the bytes received: a proof over the known prefix alone
    // (what a decoder that dropped the appended field would hash) does not prove this coinbase.
    let (mut diff, _) = rewritten(&dir, v5.clone());
    diff.cb_tx.extra_payload = Some(v5[..v4.len()].to_vec());
    let prefix_txid = diff.cb_tx.txid();
    diff.cb_tx.extra_payload = Some(v5);
    assert!(matches!(
        sml::apply_and_verify(
            a,
            None,
            &MasternodeList::empty(),
            &diff,
            309,
            Some(prefix_txid)
        ),
        Err(SmlError::HeaderMerkleRootMismatch { .. })
    ));
}

#[test]
fn v24_activation_from_network_e_headers_matches_cores_getblockchaininfo() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let params = conf(&dir, E).params;
    assert!(params.v24().is_some(), "vbparams=v24:…:0 makes V24 visible");
    let info = rpc(&dir, &format!("{E}/rpc/getblockchaininfo.json"));
    let since = info["softforks"]["v24"]["bip9"]["since"].as_u64().unwrap() as u32;
    assert_eq!(info["softforks"]["v24"]["bip9"]["status"], "active");
    let raw = std::fs::read(dir.join(E).join("headers/headers_regtest_0_381.bin")).unwrap();
    let at = |h: u32| {
        let b = raw.get(h as usize * 80..h as usize * 80 + 80)?;
        Some((
            i32::from_le_bytes(b[0..4].try_into().unwrap()),
            u32::from_le_bytes(b[68..72].try_into().unwrap()),
        ))
    };
    // Core: active for the block at `since`, not for the one before.
    assert_eq!(params.v24_active_after(since - 2, &at), Some(false));
    assert_eq!(params.v24_active_after(since - 1, &at), Some(true));
    assert_eq!(params.v24_active_after(380, &at), Some(true));
    // Network A's configuration signals V24 by EHF (no vbparams): not visible.
    assert!(conf(&dir, A).params.v24().is_none());
}

/// `dash-qrsync verify` of a diff whose coinbase is CbTx v4 passes its checks and prints every
/// field with Core's RPC names, the asset-unlock root included.
#[test]
fn verify_prints_the_v4_payload_and_passes() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let mut v4 = v3_payload(&dir);
    v4[0] = 4;
    v4.extend_from_slice(&[0x44; 32]);
    let (diff, _) = rewritten(&dir, v4);
    let tmp = std::env::temp_dir().join(format!("dqs-cbtx-v4-{}.bin", std::process::id()));
    std::fs::write(&tmp, diff.to_bytes(P)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dash-qrsync"))
        .args(["verify", tmp.to_str().unwrap(), "--network", "regtest"])
        .args(["--protocol-version", "70240"])
        .arg("--dash-conf")
        .arg(dir.join(A).join("dash.conf"))
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&tmp);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cbtx = &v["diff"]["cbtx"];
    assert_eq!(cbtx["version"], 4, "{v:#}");
    assert_eq!(cbtx["merkleRootAssetUnlocks"], "44".repeat(32));
    assert!(cbtx["creditPoolBalance"].is_i64() && cbtx["bestCLSignature"].is_string());
}
