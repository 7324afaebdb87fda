//! The release step that refreshes the built-in checkpoint table from a trusted node
//! (`scripts/fetch-checkpoints.py`, docs/CHECKPOINTS.md): a fake Dash Core JSON-RPC server
//! answers `getblockchaininfo`, `getblockhash` and `getblockheader` from the shared checkpoint
//! vectors (the block hash is X11 of each header, the verbose fields are the header's own, as
//! Core answers them), the script rebuilds the rows from it, and the rows and the table
//! `scripts/gen-checkpoints.py` makes of them must equal the shared vectors and
//! `src/chain/checkpoints_data.rs` byte for byte.

mod common;

use dash_qrsync::hashes::x11;
use dash_qrsync::wire::header::BlockHeader;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `u:p` in base64: the credentials the test's URL carries.
const AUTH: &str = "Basic dTpw";

/// How the fake node misbehaves (to check the script's own checks).
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// Reports another chain in `getblockchaininfo`.
    WrongChain,
    /// The verbose header of one block disagrees with its raw header (nonce).
    VerboseNonce,
}

struct Block {
    header: [u8; 80],
    work: String,
    height: u64,
}

struct FakeNode {
    chain: &'static str,
    tip: u64,
    by_height: HashMap<u64, String>,
    by_hash: HashMap<String, Block>,
    fault: Fault,
}

impl FakeNode {
    fn new(rows: &[Value], chain: &'static str, confirmations: u64, fault: Fault) -> FakeNode {
        let mut by_height = HashMap::new();
        let mut by_hash = HashMap::new();
        for r in rows {
            let header: [u8; 80] = hex::decode(r["header"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            let hash = x11(&header).to_display_hex();
            let height = r["height"].as_u64().unwrap();
            by_height.insert(height, hash.clone());
            by_hash.insert(
                hash,
                Block {
                    header,
                    work: r["chain_work"].as_str().unwrap().to_string(),
                    height,
                },
            );
        }
        let tip = rows.last().unwrap()["height"].as_u64().unwrap() + confirmations;
        FakeNode {
            chain,
            tip,
            by_height,
            by_hash,
            fault,
        }
    }

    fn answer(&self, method: &str, params: &[Value]) -> Result<Value, Value> {
        let not_found = || json!({"code": -5, "message": "Block not found"});
        match method {
            "getblockchaininfo" => Ok(json!({
                "chain": if self.fault == Fault::WrongChain { "regtest" } else { self.chain },
                "blocks": self.tip,
            })),
            "getblockhash" => {
                let h = params[0].as_u64().unwrap();
                self.by_height
                    .get(&h)
                    .map(|x| json!(x))
                    .ok_or_else(|| json!({"code": -8, "message": "Block height out of range"}))
            }
            "getblockheader" => {
                let hash = params[0].as_str().unwrap();
                let b = self.by_hash.get(hash).ok_or_else(not_found)?;
                if params.get(1) == Some(&json!(false)) {
                    return Ok(json!(hex::encode(b.header)));
                }
                let h = BlockHeader::from_array(&b.header);
                let mut nonce = h.nonce;
                if self.fault == Fault::VerboseNonce && b.height == 576 * 100 {
                    nonce ^= 1;
                }
                Ok(json!({
                    "hash": hash,
                    "height": b.height,
                    "version": h.version,
                    "merkleroot": h.merkle_root.to_display_hex(),
                    "time": h.time,
                    "nonce": nonce,
                    "bits": format!("{:08x}", h.bits),
                    "chainwork": b.work,
                    "previousblockhash": h.prev_block_hash.to_display_hex(),
                }))
            }
            _ => Err(json!({"code": -32601, "message": "Method not found"})),
        }
    }

    /// Serves HTTP JSON-RPC requests (single calls or batches) until the listener closes.
    fn serve(self, listener: TcpListener) {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            let mut authorized = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                let lower = l.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if lower.starts_with("authorization:") {
                    authorized = l["authorization:".len()..].trim() == AUTH;
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let (status, reply) = if !authorized {
                ("401 Unauthorized", String::new())
            } else {
                let req: Value = serde_json::from_slice(&body).unwrap();
                let one = |c: &Value| {
                    let params = c["params"].as_array().cloned().unwrap_or_default();
                    match self.answer(c["method"].as_str().unwrap(), &params) {
                        Ok(r) => json!({"id": c["id"], "result": r, "error": null}),
                        Err(e) => json!({"id": c["id"], "result": null, "error": e}),
                    }
                };
                let out = match &req {
                    Value::Array(calls) => Value::Array(calls.iter().map(one).collect()),
                    c => one(c),
                };
                ("200 OK", out.to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    }
}

/// A fresh directory of this test's own (never a fixed name in the shared temp directory).
fn scratch(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!(
        "dqs-checkpoint-refresh-{}-{nanos}-{tag}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the fetch script against a fake node built from `network`'s vector rows.
fn fetch(vectors: &Path, network: &str, fault: Fault, out: &Path) -> std::process::Output {
    let text =
        std::fs::read_to_string(vectors.join(format!("checkpoints/checkpoints_{network}.json")))
            .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let chain = if network == "mainnet" { "main" } else { "test" };
    let node = FakeNode::new(v["rows"].as_array().unwrap(), chain, 100, fault);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || node.serve(listener));
    Command::new("python3")
        .arg(repo().join("scripts/fetch-checkpoints.py"))
        .args(["--network", network, "--rpc"])
        .arg(format!("http://u:p@127.0.0.1:{port}/"))
        .arg("--out")
        .arg(out)
        .output()
        .expect("python3 runs scripts/fetch-checkpoints.py")
}

#[test]
fn rebuilds_the_table_from_a_node_rpc() {
    let Some(vectors) = common::vectors_dir() else {
        return;
    };
    let out = scratch("ok");
    for network in ["mainnet", "testnet"] {
        let o = fetch(&vectors, network, Fault::None, &out);
        assert!(
            o.status.success(),
            "{network}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let rel = format!("checkpoints/checkpoints_{network}.json");
        assert!(
            std::fs::read(out.join(&rel)).unwrap() == std::fs::read(vectors.join(&rel)).unwrap(),
            "{network}: the rows rebuilt from the node differ from the shared vectors"
        );
    }
    let table = out.join("checkpoints_data.rs");
    let g = Command::new("python3")
        .arg(repo().join("scripts/gen-checkpoints.py"))
        .arg(&out)
        .arg("--out")
        .arg(&table)
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    assert!(
        std::fs::read(&table).unwrap()
            == std::fs::read(repo().join("src/chain/checkpoints_data.rs")).unwrap(),
        "the table generated from the node's rows differs from src/chain/checkpoints_data.rs"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn refuses_a_node_on_another_chain_or_with_inconsistent_answers() {
    let Some(vectors) = common::vectors_dir() else {
        return;
    };
    for (fault, tag, needle) in [
        (Fault::WrongChain, "chain", "not testnet"),
        (Fault::VerboseNonce, "nonce", "nonce"),
    ] {
        let out = scratch(tag);
        let o = fetch(&vectors, "testnet", fault, &out);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{tag}: accepted");
        assert!(err.contains(needle), "{tag}: {err}");
        assert!(!out.join("checkpoints/checkpoints_testnet.json").exists());
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// `dash-qrsync --version` shows the table's newest rows with their dates; the expected dates
/// come from the shared vectors' newest rows, formatted by Python's `datetime`.
#[test]
fn version_shows_the_newest_checkpoint_dates() {
    let Some(vectors) = common::vectors_dir() else {
        return;
    };
    let o = Command::new(env!("CARGO_BIN_EXE_dash-qrsync"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    for network in ["mainnet", "testnet"] {
        let v: Value = serde_json::from_slice(
            &std::fs::read(vectors.join(format!("checkpoints/checkpoints_{network}.json")))
                .unwrap(),
        )
        .unwrap();
        let last = v["rows"].as_array().unwrap().last().unwrap().clone();
        let date = Command::new("python3")
            .arg("-c")
            .arg(format!(
                "import datetime; print(datetime.datetime.fromtimestamp({}, datetime.timezone.utc).date())",
                last["time"]
            ))
            .output()
            .unwrap();
        let date = String::from_utf8(date.stdout).unwrap();
        let want = format!("{network} {} ({})", last["height"], date.trim());
        assert!(text.contains(&want), "{want:?} not in {text:?}");
    }
}
