//! The `dash-qrsync verify` command on real captures: exit status, JSON report, quorum counts.

mod common;

use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::{Decode, Encode};
use serde_json::Value;
use std::process::Command;

const QRINFO: &str = "testnet/qrinfo/qrinfo_testnet_0_905294_p70230.bin";
const HEADERS: &str = "testnet/headers/headers_testnet_900776_905775.bin";

fn run(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_dash-qrsync"))
        .args(args)
        .output()
        .expect("binary runs");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json)
}

#[test]
fn qrinfo_with_headers_validates_its_quorums() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let file = dir.join(QRINFO);
    let headers = dir.join(HEADERS);
    let (code, j) = run(&[
        "verify",
        file.to_str().unwrap(),
        "--headers",
        headers.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(j["type"], "qrinfo");
    assert_eq!(j["protocol_version"], 70230);
    assert_eq!(j["network"], "testnet");
    // The 32 rotated quorums of cycle 905184 plus the non-rotated ones whose lists it carries.
    assert_eq!(j["quorums"]["validated"], 40);
    assert_eq!(j["quorums"]["failed"], 0);
    assert_eq!(j["quorums"]["bls_verifications"], 80);
    assert_eq!(j["result"]["passed"], true);
}

#[test]
fn without_headers_quorums_are_unverifiable_not_failed() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let (code, j) = run(&["verify", dir.join(QRINFO).to_str().unwrap()]);
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(j["quorums"]["validated"], 0);
    assert_eq!(j["quorums"]["failed"], 0);
    assert!(j["quorums"]["unverifiable"].as_u64().unwrap() > 300);
}

#[test]
fn a_tampered_members_sig_fails_with_exit_1() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let bytes = common::read_payload(&dir, QRINFO);
    let mut q = QrInfo::from_bytes(&bytes, 70230).unwrap();
    // Swap two commitments' membersSigs: both stay valid points, neither verifies.
    let a = q.last_commitment_per_index[0].members_sig;
    q.last_commitment_per_index[0].members_sig = q.last_commitment_per_index[1].members_sig;
    q.last_commitment_per_index[1].members_sig = a;
    let tmp = std::env::temp_dir().join(format!(
        "dqs_cli_tampered_{}_p70230.bin",
        std::process::id()
    ));
    std::fs::write(&tmp, q.to_bytes(70230)).unwrap();
    let headers = dir.join(HEADERS);
    let (code, j) = run(&[
        "verify",
        tmp.to_str().unwrap(),
        "--network",
        "testnet",
        "--headers",
        headers.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{j:#}");
    // The tampered copies in lastCommitmentPerIndex differ from the ones the diffs carry.
    assert_eq!(j["quorums"]["failed"], 2);
    let reasons: Vec<&str> = j["quorums"]["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("two different commitments")),
        "{reasons:?}"
    );
    // Tampering the diffs' copies too (the tip list) makes membersSig itself fail.
    let mut q2 = QrInfo::from_bytes(&bytes, 70230).unwrap();
    let target = q2.last_commitment_per_index[0].quorum_hash;
    let other = q2.last_commitment_per_index[1].members_sig;
    for d in [&mut q2.mn_list_diff_tip, &mut q2.mn_list_diff_h] {
        for c in d.new_quorums.iter_mut().filter(|c| c.quorum_hash == target) {
            c.members_sig = other;
        }
    }
    for c in q2
        .last_commitment_per_index
        .iter_mut()
        .filter(|c| c.quorum_hash == target)
    {
        c.members_sig = other;
    }
    std::fs::write(&tmp, q2.to_bytes(70230)).unwrap();
    let (code, j) = run(&[
        "verify",
        tmp.to_str().unwrap(),
        "--network",
        "testnet",
        "--headers",
        headers.to_str().unwrap(),
    ]);
    std::fs::remove_file(&tmp).ok();
    assert_eq!(code, 1, "{j:#}");
    let failures = j["quorums"]["failures"].as_array().unwrap();
    assert!(
        failures
            .iter()
            .any(|f| f["reason"].as_str().unwrap().contains("membersSig")),
        "{failures:?}"
    );
}

#[test]
fn unreadable_and_undecodable_inputs_exit_non_zero() {
    let (code, _) = run(&["verify", "/nonexistent/file.bin"]);
    assert_eq!(code, 2);
    let tmp = std::env::temp_dir().join(format!("dqs_cli_junk_{}.bin", std::process::id()));
    std::fs::write(&tmp, [1u8, 2, 3, 4, 5]).unwrap();
    let (code, j) = run(&["verify", tmp.to_str().unwrap(), "--type", "qrinfo"]);
    std::fs::remove_file(&tmp).ok();
    assert_eq!(code, 1);
    assert_eq!(j["result"]["passed"], false);
}

#[test]
fn headers_message_and_clsig_verify_and_tampering_is_caught() {
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let headers = dir.join("testnet/headers/headers_msg_testnet_903776_905775.bin");
    let (code, j) = run(&["verify", headers.to_str().unwrap(), "--network", "testnet"]);
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(j["type"], "headers");
    assert_eq!(j["count"], 2000);
    // Change one nonce: that header's X11 hash no longer meets its target and the next
    // header no longer links to it.
    let mut bytes = std::fs::read(&headers).unwrap();
    let at = 3 + 1000 * 81 + 76; // compactSize(2000) = 3 bytes; 81 bytes per header entry
    bytes[at] ^= 0x55;
    let tmp = std::env::temp_dir().join(format!("dqs_cli_headers_{}.bin", std::process::id()));
    std::fs::write(&tmp, &bytes).unwrap();
    let (code, j) = run(&[
        "verify",
        tmp.to_str().unwrap(),
        "--type",
        "headers",
        "--network",
        "testnet",
    ]);
    std::fs::remove_file(&tmp).ok();
    assert_eq!(code, 1, "{j:#}");
    let failed: Vec<&str> = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert!(failed.iter().any(|c| c.contains("link")), "{failed:?}");

    let clsig = dir.join("testnet/locks/clsig_testnet_905775.bin");
    let (code, j) = run(&["verify", clsig.to_str().unwrap()]);
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(j["type"], "clsig");
    assert_eq!(j["height"], 905775);
    assert_eq!(
        j["block_hash"],
        "000000e832ac791591489ccfbb531ace828e1465b68b203158c9974c4c2b23b5"
    );
}

#[test]
fn a_core_regtest_capture_verifies_with_its_dash_conf_and_fails_without() {
    // Dash Core's qrinfo of network A (v20 at 100, framework defaults): with the network's
    // dash.conf every commitment validates; with Core's regtest defaults (v20 at 432) the
    // CbTx v3 at heights below 432 is not allowed, as Core itself would refuse it.
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let net = dir.join("core-regtest/A-v20at100");
    let file = net.join("qrinfo/qrinfo_regtest_nobase_309_extra_p70240.bin");
    let headers = net.join("headers/headers_regtest_0_309.bin");
    let conf = net.join("dash.conf");
    let (code, j) = run(&[
        "verify",
        file.to_str().unwrap(),
        "--headers",
        headers.to_str().unwrap(),
        "--dash-conf",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(j["network"], "regtest");
    assert_eq!(j["network_from"], "--dash-conf");
    assert_eq!(j["quorums"]["failed"], 0, "{j:#}");
    assert!(j["quorums"]["validated"].as_u64().unwrap() >= 4, "{j:#}");
    // The same with the options given one by one.
    let (code, _) = run(&[
        "verify",
        file.to_str().unwrap(),
        "--headers",
        headers.to_str().unwrap(),
        "--network",
        "regtest",
        "--chain-param",
        "dip3params=2:2",
        "--chain-param",
        "testactivationheight=v20@100",
        "--chain-param",
        "testactivationheight=mn_rr@100",
    ]);
    assert_eq!(code, 0);
    // Core's defaults: refused.
    let (code, j) = run(&[
        "verify",
        file.to_str().unwrap(),
        "--headers",
        headers.to_str().unwrap(),
        "--network",
        "regtest",
    ]);
    assert_eq!(code, 1, "{j:#}");
    // A bad option is a usage error naming it.
    let out = Command::new(env!("CARGO_BIN_EXE_dash-qrsync"))
        .args([
            "verify",
            file.to_str().unwrap(),
            "--chain-param",
            "testactivationheight=v99@1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("testactivationheight"));
}

fn run_text(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dash-qrsync"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_on_the_binary_and_every_command_prints_usage_and_exits_0() {
    let cases: &[(&[&str], &str)] = &[
        (&["--help"], "dash-qrsync verify FILE"),
        (&["-h"], "dash-qrsync verify FILE"),
        (&["help"], "dash-qrsync demo"),
        (&["help", "verify"], "dash-qrsync verify FILE"),
        (&["demo", "--help"], "dash-qrsync demo [--preset"),
        (&["demo", "-h"], "dash-qrsync demo [--preset"),
        // Also after other options.
        (
            &["demo", "--seed", "3", "--help"],
            "dash-qrsync demo [--preset",
        ),
        (&["simnet", "serve", "--help"], "dash-qrsync simnet serve"),
        (&["simnet", "serve", "-h"], "dash-qrsync simnet serve"),
        (&["simnet", "--help"], "dash-qrsync simnet serve"),
        (&["verify", "--help"], "dash-qrsync verify FILE"),
        (&["verify", "-h"], "dash-qrsync verify FILE"),
        (&["verify", "some.bin", "--help"], "dash-qrsync verify FILE"),
    ];
    for (args, expect) in cases {
        let (code, out, err) = run_text(args);
        assert_eq!(code, 0, "{args:?}: stdout {out} stderr {err}");
        assert!(out.starts_with("usage:"), "{args:?}: {out}");
        assert!(out.contains(expect), "{args:?}: {out}");
        assert!(!err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn unknown_options_and_commands_still_fail_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["demo", "--bogus"], "error: unknown option --bogus"),
        (
            &["simnet", "serve", "--bogus"],
            "error: unknown option --bogus",
        ),
        (
            &["verify", "x.bin", "--bogus"],
            "error: unknown option --bogus",
        ),
        (&["frobnicate"], "error: unknown command \"frobnicate\""),
        (
            &["help", "frobnicate"],
            "error: unknown command \"frobnicate\"",
        ),
        (&[], "error: no command given"),
    ];
    for (args, expect) in cases {
        let (code, out, err) = run_text(args);
        assert_eq!(code, 2, "{args:?}: stdout {out} stderr {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(err.contains("usage:"), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}

#[test]
fn a_diff_whose_base_is_not_genesis_anchors_headers_by_its_own_block() {
    // Real Core diffs with a non-genesis base (their roots cannot be checked offline) and a
    // headers file covering their block: the diff's block (at its CbTx height) places the
    // file, so the quorums get their heights. Core's `getblockheader` puts quorum
    // 4c52ca85… of network A at height 288.
    let Some(dir) = common::vectors_dir() else {
        return;
    };
    let a = dir.join("core-regtest/A-v20at100");
    let headers_a = a.join("headers/headers_regtest_0_309.bin");
    let conf = a.join("dash.conf");
    for (file, headers, extra) in [
        (
            a.join("mnlistdiff/mnlistdiff_regtest_285_309_p70240.bin"),
            headers_a.clone(),
            vec!["--dash-conf", conf.to_str().unwrap()],
        ),
        (
            a.join("mnlistdiff/mnlistdiff_regtest_209_259_p70240.bin"),
            headers_a.clone(),
            vec!["--dash-conf", conf.to_str().unwrap()],
        ),
        (
            dir.join("testnet/mnlistdiff/mnlistdiff_testnet_530000_905465_p70230.bin"),
            dir.join(HEADERS),
            vec![],
        ),
    ] {
        let mut args = vec![
            "verify",
            file.to_str().unwrap(),
            "--headers",
            headers.to_str().unwrap(),
        ];
        args.extend(extra);
        let (code, j) = run(&args);
        assert_eq!(code, 0, "{file:?}: {j:#}");
        let hf = j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "--headers file")
            .unwrap_or_else(|| panic!("{file:?}: no --headers check: {j:#}"));
        assert_eq!(hf["ok"], true, "{file:?}: {hf}");
        assert_eq!(j["quorums"]["failed"], 0, "{file:?}: {j:#}");
    }
    // The heights come from the file.
    let (_, j) = run(&[
        "verify",
        a.join("mnlistdiff/mnlistdiff_regtest_285_309_p70240.bin")
            .to_str()
            .unwrap(),
        "--headers",
        headers_a.to_str().unwrap(),
        "--dash-conf",
        conf.to_str().unwrap(),
    ]);
    let detail = j["quorums"]["unverifiable_detail"].as_array().unwrap();
    let q = detail
        .iter()
        .find(|d| {
            d["quorum"]["quorum_hash"]
                == "4c52ca85d2a84a2f9b16ca8eb2e218e48887443665f6edc5252b7b8ffd5b1421"
        })
        .unwrap_or_else(|| panic!("{j:#}"));
    assert_eq!(q["height"], 288, "{q}");
}

#[cfg(feature = "simnet")]
#[test]
fn the_demo_follows_the_tip_for_a_chainlock_and_never_reports_zero_as_a_failure() {
    // The regtest preset end to end through the binary: synced, then a mined block's
    // ChainLock verified while following the tip.
    let (code, out, err) = run_text(&["demo", "--timeout-secs", "300"]);
    assert_eq!(code, 0, "stdout {out}\nstderr {err}");
    assert!(out.contains("result:             synced"), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("ChainLocks verified:"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("(newest: block"), "{line}");
    assert!(!line.starts_with("ChainLocks verified: 0"), "{line}");
    // Not following: said plainly why none was seen.
    let (code, out, err) = run_text(&["demo", "--follow-secs", "0", "--timeout-secs", "300"]);
    assert_eq!(code, 0, "stdout {out}\nstderr {err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("ChainLocks verified:"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("comes with the next block") && line.contains("not a failure"),
        "{line}"
    );
}
