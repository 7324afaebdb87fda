//! `dash-qrsync` command-line tool.
//!
//! ```text
//! dash-qrsync demo [--preset regtest|devnet|v24|mainnet-scale] [--connect IP:PORT --network NET]
//! dash-qrsync simnet serve [--listen IP:PORT] [--preset regtest|devnet|v24|mainnet-scale] [--block-interval S]
//!                          [--dash-conf-out FILE] [--duration S] [--seed N]
//! dash-qrsync verify FILE [--network mainnet|testnet] [--protocol-version N]
//!                         [--type mnlistdiff|qrinfo|headers|clsig|isdlock] [--headers FILE]
//! dash-qrsync [COMMAND] --help
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

const DEMO_USAGE: &str =
    "  dash-qrsync demo [--preset regtest|devnet|v24|mainnet-scale] [--seed N] [--latency-ms N] [--sequential]
                   [--masternodes N] [--evonodes N] [--blocks N]
                   [--connect IP:PORT --network mainnet|testnet] [--timeout-secs N]
                   [--follow-secs N] [--dash-conf FILE] [--chain-param KEY=VALUE]...
      Start the built-in simulated Dash network (needs --features simnet) or connect to a node,
      sync it with live progress, print each quorum as it is validated, and a summary.
      --masternodes/--evonodes/--blocks: a smaller (or larger) simulated network than the
      preset's (regular masternodes, evonodes, tip height); e.g. mainnet-scale with
      --masternodes 400 --evonodes 100 keeps every mainnet LLMQ type above its minimum size.
      --follow-secs N: after sync, follow the tip up to N s for a ChainLock (default 10 on the
      simulated network, which mines a block for it; 0 with --connect).
      --dash-conf FILE: the network and chain parameters of a Dash Core dash.conf (its
      [regtest]/[devnet] sections included); --chain-param KEY=VALUE: one Core option, e.g.
      testactivationheight=v20@100 (docs/CONFORMANCE.md). The simulated network is generated
      under them too.";

const SERVE_USAGE: &str =
    "  dash-qrsync simnet serve [--listen IP:PORT] [--preset regtest|devnet|v24|mainnet-scale] [--seed N]
                           [--block-interval SECS] [--dash-conf-out FILE] [--duration SECS]
      Serve the simulated network to other processes (default 127.0.0.1, an OS-chosen port;
      needs --features simnet): mines a block with a ChainLock every --block-interval (10 s),
      prints the network, address, port and dash.conf lines a client needs, and stops on
      SIGINT, end of input or after --duration. See docs/SIMNET.md.";

const VERIFY_USAGE: &str =
    "  dash-qrsync verify FILE [--network mainnet|testnet|devnet|regtest] [--protocol-version N]
                          [--type mnlistdiff|qrinfo|headers|clsig|isdlock] [--headers FILE]
                          [--dash-conf FILE] [--chain-param KEY=VALUE]...
      Decode a raw payload, a full P2P message, or hex text of either; verify what can be
      verified offline (roots, coinbase proofs, every quorum commitment whose lists the input
      carries); print a JSON summary. Exit 0 only if no check failed.
      --headers FILE: concatenated 80-byte headers; gives quorum base heights and real merkle
      roots (heights are anchored by any block of the input the file contains).";

/// The whole usage text.
fn usage() -> String {
    format!(
        "usage:\n{DEMO_USAGE}\n{SERVE_USAGE}\n{VERIFY_USAGE}\n  dash-qrsync --version\n  \
         dash-qrsync --help | -h | help [COMMAND]\n      This text, or one command's \
         (`dash-qrsync COMMAND --help` too)."
    )
}

/// One command's usage text.
fn command_usage(command: &str) -> Option<String> {
    let text = match command {
        "demo" => DEMO_USAGE,
        "simnet" | "serve" => SERVE_USAGE,
        "verify" => VERIFY_USAGE,
        _ => return None,
    };
    Some(format!("usage:\n{text}"))
}

/// Whether the arguments after a command ask for its help.
fn asks_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

/// Reports a command-line error (to stderr, with the command's usage) and exits 2.
fn bad_usage(command: &str, e: &str) -> ExitCode {
    let text = command_usage(command).unwrap_or_else(usage);
    eprintln!("error: {e}\n\n{text}\n\n(`dash-qrsync {command} --help` prints this)");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str);
    // `COMMAND --help` / `COMMAND -h`: that command's usage on stdout, exit 0 (also for a
    // command this build lacks, so that a user can read what it would take).
    if let Some(c) = command {
        if let Some(text) = command_usage(c).filter(|_| asks_help(&args[1..])) {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
    }
    match command {
        Some("verify") => match verify::Options::parse(&args[1..]) {
            Ok(opts) => verify::run(&opts),
            Err(e) => bad_usage("verify", &e),
        },
        #[cfg(feature = "simnet")]
        Some("demo") => match demo::Options::parse(&args[1..]) {
            Ok(opts) => demo::run(&opts),
            Err(e) => bad_usage("demo", &e),
        },
        #[cfg(feature = "simnet")]
        Some("simnet") if args.get(1).map(String::as_str) == Some("serve") => {
            match serve::Options::parse(&args[2..]) {
                Ok(opts) => serve::run(&opts),
                Err(e) => bad_usage("simnet", &e),
            }
        }
        #[cfg(feature = "simnet")]
        Some("simnet") => bad_usage(
            "simnet",
            &match args.get(1) {
                Some(sub) => format!("unknown simnet command {sub:?} (serve)"),
                None => "simnet needs a command: serve".to_string(),
            },
        ),
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
            match args.get(1) {
                None => println!("{}", usage()),
                Some(c) => match command_usage(c) {
                    Some(text) => println!("{text}"),
                    None => {
                        eprintln!("error: unknown command {c:?}\n\n{}", usage());
                        return ExitCode::from(2);
                    }
                },
            }
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: no command given\n\n{}", usage());
            ExitCode::from(2)
        }
        Some(c) => {
            eprintln!("error: unknown command {c:?}\n\n{}", usage());
            ExitCode::from(2)
        }
    }
}
