//! Every preset of `dash-qrsync demo`, end to end through the built binary: it generates the
//! simulated network, syncs it and prints `result: synced` with every block's header and list.
//! The preset list is read from the binary itself (its answer to an unknown preset), so a new
//! preset is covered without editing this test. Large presets run at a reduced size through the
//! demo's documented `--masternodes`/`--evonodes`/`--blocks` options.
#![cfg(feature = "simnet")]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dash-qrsync");

/// The presets the demo names when given an unknown one: `unknown preset "x" (a, b, c)`.
fn presets() -> Vec<String> {
    let out = Command::new(BIN)
        .args(["demo", "--preset", "no-such-preset"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("unknown preset"))
        .unwrap_or_else(|| panic!("no preset list in: {err}"));
    let list = &line[line.rfind('(').unwrap() + 1..line.rfind(')').unwrap()];
    list.split(',').map(|s| s.trim().to_string()).collect()
}

/// Size options for presets too large to run in CI at full size (mainnet's LLMQ types keep
/// their minimum sizes: 400 regular masternodes and 100 evonodes).
fn reduced(preset: &str) -> &'static [&'static str] {
    match preset {
        "mainnet-scale" => &["--masternodes", "400", "--evonodes", "100"],
        _ => &[],
    }
}

/// The value after `label` on a summary line of the demo's output.
fn field<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{out}"))
}

#[test]
fn every_demo_preset_syncs_through_the_binary() {
    let presets = presets();
    for expected in ["regtest", "devnet", "v24", "mainnet-scale"] {
        assert!(presets.iter().any(|p| p == expected), "{presets:?}");
    }
    for preset in &presets {
        let out = Command::new(BIN)
            .args(["demo", "--preset", preset, "--timeout-secs", "600"])
            .args(reduced(preset))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let all = format!("preset {preset}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(out.status.success(), "{all}");
        assert_eq!(field(&stdout, "result:"), "synced", "{all}");
        // "simnet: N blocks, M masternodes, generated in …"
        let blocks = field(&stdout, "simnet:")
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        assert_eq!(field(&stdout, "header height:"), blocks, "{all}");
        assert_eq!(field(&stdout, "list height:"), blocks, "{all}");
        let validated: u32 = field(&stdout, "quorums validated:").parse().unwrap();
        assert!(validated > 0, "{all}");
        assert!(!stdout.contains("did not answer getheaders"), "{all}");
    }
}
