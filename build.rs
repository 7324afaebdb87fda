//! Build script: warns when the built-in checkpoint table is stale.
//!
//! A wallet built from this library starts its header sync at the newest built-in checkpoint
//! (docs/CHECKPOINTS.md); when that block is more than [`MAX_AGE_DAYS`] older than the build
//! date, every new wallet starts that far behind the tip. The table is refreshed each release
//! (`scripts/fetch-checkpoints.py`, then `scripts/gen-checkpoints.py`). The build date is
//! `SOURCE_DATE_EPOCH` when set (reproducible builds), else the clock.
//!
//! The script runs when the table or this file changes, or on a clean build (as an app's
//! release build usually is).

use std::time::{SystemTime, UNIX_EPOCH};

/// Age of the newest built-in checkpoint, relative to the build date, above which the build
/// warns.
const MAX_AGE_DAYS: u64 = 90;

const TABLE: &str = "src/chain/checkpoints_data.rs";

/// The newest row's (height, block time) of the table `name` (`MAINNET`, `TESTNET`).
fn newest(table: &str, name: &str) -> Option<(u32, u64)> {
    let start = table.find(&format!("const {name}: &[Row]"))?;
    let body = &table[start..];
    let body = &body[..body.find("];")?];
    let last = body
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("row("))?;
    // `    row(HEIGHT, 0xWORK, "HEADER"),`
    let inner = last.trim().strip_prefix("row(")?;
    let height: u32 = inner.split(',').next()?.trim().parse().ok()?;
    let header = inner.split('"').nth(1)?;
    // The header's time: bytes 68..72, little-endian.
    let time_hex = header.get(136..144)?;
    let mut time = 0u64;
    for i in (0..4).rev() {
        time = (time << 8) | u64::from_str_radix(&time_hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some((height, time))
}

fn main() {
    println!("cargo:rerun-if-changed={TABLE}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let Ok(table) = std::fs::read_to_string(TABLE) else {
        println!("cargo:warning=cannot read {TABLE} to check the checkpoint table's age");
        return;
    };
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    for (network, name) in [("mainnet", "MAINNET"), ("testnet", "TESTNET")] {
        let Some((height, time)) = newest(&table, name) else {
            println!("cargo:warning=no {network} rows found in {TABLE}");
            continue;
        };
        let age_days = now.saturating_sub(time) / 86_400;
        if age_days > MAX_AGE_DAYS {
            println!(
                "cargo:warning=the newest built-in {network} checkpoint (block {height}) is \
                 {age_days} days older than this build (more than {MAX_AGE_DAYS}): new wallets \
                 start that far behind the tip. Refresh the table (docs/CHECKPOINTS.md, \
                 \"Refreshing the table\") or pass newer checkpoints (Config::add_extra_checkpoint, C dqs_config_add_checkpoint_hash, UniFFI addCheckpointHash)."
            );
        }
    }
}
