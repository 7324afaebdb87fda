//! `dash-qrsync` command-line tool.
//!
//! ```text
//! dash-qrsync demo [--preset regtest|devnet|v24|mainnet-scale] [--connect IP:PORT --network NET]
//! dash-qrsync simnet serve [--listen IP:PORT] [--preset regtest|devnet|v24|mainnet-scale] [--block-interval S]
//!                          [--dash-conf-out FILE] [--duration S] [--seed N]
//! dash-qrsync verify FILE [--network mainnet|testnet] [--protocol-version N]
//!                         [--type mnlistdiff|qrinfo|headers|clsig|isdlock] [--headers FILE]
//! ```
//! Decodes a raw payload, a full P2P message or hex text of either, verifies everything that can
//! be verified offline, prints a JSON summary and exits 0 only if no check failed.

mod chainargs;
#[cfg(feature = "simnet")]
mod demo;
mod quorums;
#[cfg(feature = "simnet")]
mod serve;
mod verify;

use std::process::ExitCode;

const USAGE: &str = "usage:
  dash-qrsync demo [--preset regtest|devnet|v24|mainnet-scale] [--seed N] [--latency-ms N] [--sequential]
                   [--masternodes N] [--evonodes N] [--blocks N]
                   [--connect IP:PORT --network mainnet|testnet] [--timeout-secs N]
                   [--dash-conf FILE] [--chain-param KEY=VALUE]...
      Start the built-in simulated Dash network (needs --features simnet) or connect to a node,
      sync it with live progress, print each quorum as it is validated, and a summary.
      --masternodes/--evonodes/--blocks: a smaller (or larger) simulated network than the
      preset's (regular masternodes, evonodes, tip height); e.g. mainnet-scale with
      --masternodes 400 --evonodes 100 keeps every mainnet LLMQ type above its minimum size.
      --dash-conf FILE: the network and chain parameters of a Dash Core dash.conf (its
      [regtest]/[devnet] sections included); --chain-param KEY=VALUE: one Core option, e.g.
      testactivationheight=v20@100 (docs/CONFORMANCE.md). The simulated network is generated
      under them too.
  dash-qrsync simnet serve [--listen IP:PORT] [--preset regtest|devnet|v24|mainnet-scale] [--seed N]
                           [--block-interval SECS] [--dash-conf-out FILE] [--duration SECS]
      Serve the simulated network to other processes (default 127.0.0.1, an OS-chosen port;
      needs --features simnet): mines a block with a ChainLock every --block-interval (10 s),
      prints the network, address, port and dash.conf lines a client needs, and stops on
      SIGINT, end of input or after --duration. See docs/SIMNET.md.
  dash-qrsync verify FILE [--network mainnet|testnet|devnet|regtest] [--protocol-version N]
                          [--type mnlistdiff|qrinfo|headers|clsig|isdlock] [--headers FILE]
                          [--dash-conf FILE] [--chain-param KEY=VALUE]...
      Decode a raw payload, a full P2P message, or hex text of either; verify what can be
      verified offline (roots, coinbase proofs, every quorum commitment whose lists the input
      carries); print a JSON summary. Exit 0 only if no check failed.
      --headers FILE: concatenated 80-byte headers; gives quorum base heights and real merkle
      roots (heights are anchored by a block of the input).
  dash-qrsync --version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("verify") => match verify::Options::parse(&args[1..]) {
            Ok(opts) => verify::run(&opts),
            Err(e) => {
                eprintln!("error: {e}\n\n{USAGE}");
                ExitCode::from(2)
            }
        },
        #[cfg(feature = "simnet")]
        Some("demo") => match demo::Options::parse(&args[1..]) {
            Ok(opts) => demo::run(&opts),
            Err(e) => {
                eprintln!("error: {e}\n\n{USAGE}");
                ExitCode::from(2)
            }
        },
        #[cfg(feature = "simnet")]
        Some("simnet") if args.get(1).map(String::as_str) == Some("serve") => {
            match serve::Options::parse(&args[2..]) {
                Ok(opts) => serve::run(&opts),
                Err(e) => {
                    eprintln!("error: {e}\n\n{USAGE}");
                    ExitCode::from(2)
                }
            }
        }
        #[cfg(not(feature = "simnet"))]
        Some("simnet") => {
            eprintln!("simnet serve needs the simulated network: cargo run --release --features simnet -- simnet serve");
            ExitCode::from(2)
        }
        #[cfg(not(feature = "simnet"))]
        Some("demo") => {
            eprintln!("the demo needs the simulated network: cargo run --release --features simnet -- demo");
            ExitCode::from(2)
        }
        Some("--version") | Some("-V") => {
            println!("dash-qrsync {}", dash_qrsync::VERSION);
            println!(
                "newest built-in checkpoints: {}",
                dash_qrsync::chain::checkpoints::newest_summary()
            );
            ExitCode::SUCCESS
        }
        Some("--help") | Some("-h") | Some("help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
