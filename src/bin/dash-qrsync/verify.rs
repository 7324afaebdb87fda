//! `dash-qrsync verify`: offline decoding and verification of captured Dash payloads.

use crate::quorums::{self, OfflineHeaders, OfflineLists};
use dash_qrsync::chain::{pow, HeaderIndex};
use dash_qrsync::hashes::Hash256;
use dash_qrsync::network::{ChainParams, Network};
use dash_qrsync::quorum::bls::{Scheme, Signature};
use dash_qrsync::sml::{DiffCheck, MasternodeList};
use dash_qrsync::wire::locks::{ClSig, IsDLock};
use dash_qrsync::wire::message::Message;
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::version::ALL_LAYOUTS;
use dash_qrsync::wire::{Decode, Encode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// What kind of payload a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    MnListDiff,
    QrInfo,
    Headers,
    ClSig,
    IsDLock,
}

impl Kind {
    fn parse(s: &str) -> Result<Kind, String> {
        Ok(match s {
            "mnlistdiff" => Kind::MnListDiff,
            "qrinfo" => Kind::QrInfo,
            "headers" => Kind::Headers,
            "clsig" => Kind::ClSig,
            "isdlock" => Kind::IsDLock,
            _ => return Err(format!("unknown --type {s:?}")),
        })
    }

    fn from_command(c: &str) -> Option<Kind> {
        Some(match c {
            "mnlistdiff" => Kind::MnListDiff,
            "qrinfo" => Kind::QrInfo,
            "headers" => Kind::Headers,
            "clsig" => Kind::ClSig,
            "isdlock" => Kind::IsDLock,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::MnListDiff => "mnlistdiff",
            Kind::QrInfo => "qrinfo",
            Kind::Headers => "headers",
            Kind::ClSig => "clsig",
            Kind::IsDLock => "isdlock",
        }
    }
}

/// Parsed command-line options of `verify`.
#[derive(Debug, Clone)]
pub struct Options {
    file: PathBuf,
    network: Option<Network>,
    protocol: Option<u32>,
    kind: Option<Kind>,
    headers: Option<PathBuf>,
    chain: crate::chainargs::ChainArgs,
}

impl Options {
    /// Parses the arguments after `verify`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut file = None;
        let mut network = None;
        let mut protocol = None;
        let mut kind = None;
        let mut headers = None;
        let mut chain = crate::chainargs::ChainArgs::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            if chain.take(a, &mut value)? {
                continue;
            }
            match a.as_str() {
                "--network" => {
                    network = Some(
                        value("--network")?
                            .parse::<Network>()
                            .map_err(|e| e.to_string())?,
                    )
                }
                "--protocol-version" => {
                    let v = value("--protocol-version")?;
                    protocol = Some(
                        v.parse::<u32>()
                            .map_err(|_| format!("--protocol-version {v:?} is not a number"))?,
                    )
                }
                "--type" => kind = Some(Kind::parse(&value("--type")?)?),
                "--headers" => headers = Some(PathBuf::from(value("--headers")?)),
                s if s.starts_with("--") => return Err(format!("unknown option {s}")),
                s => {
                    if file.replace(PathBuf::from(s)).is_some() {
                        return Err("only one FILE may be given".into());
                    }
                }
            }
        }
        Ok(Options {
            file: file.ok_or("missing FILE")?,
            network,
            protocol,
            kind,
            headers,
            chain,
        })
    }
}

/// A list of named checks with their outcome.
#[derive(Default)]
struct Checks {
    items: Vec<Value>,
    failed: usize,
    skipped: usize,
}

impl Checks {
    fn add(&mut self, name: &str, ok: bool, detail: impl Into<Value>) {
        if !ok {
            self.failed += 1;
        }
        self.items
            .push(json!({"check": name, "ok": ok, "detail": detail.into()}));
    }

    fn skip(&mut self, name: &str, why: &str) {
        self.skipped += 1;
        self.items
            .push(json!({"check": name, "ok": Value::Null, "skipped": why}));
    }
}

/// The input after removing hex encoding and a P2P frame, with what was learnt on the way.
struct Input {
    payload: Vec<u8>,
    network_from_magic: Option<Network>,
    command: Option<String>,
    encoding: &'static str,
}

fn unwrap_input(raw: Vec<u8>, checks: &mut Checks) -> Input {
    let is_hex_text = !raw.is_empty()
        && raw
            .iter()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace());
    let (bytes, encoding) = if is_hex_text {
        let text: String = raw
            .iter()
            .filter(|b| !b.is_ascii_whitespace())
            .map(|&b| b as char)
            .collect();
        match hex::decode(&text) {
            Ok(b) => (b, "hex"),
            Err(_) => (raw, "binary"),
        }
    } else {
        (raw, "binary")
    };
    if bytes.len() >= 24 {
        let magic: [u8; 4] = bytes[..4].try_into().expect("4 bytes");
        if let Some(net) = Network::from_magic(magic) {
            let cmd_bytes = &bytes[4..16];
            let cmd_len = cmd_bytes.iter().position(|&b| b == 0).unwrap_or(12);
            let len = u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes")) as usize;
            if cmd_bytes[cmd_len..].iter().all(|&b| b == 0)
                && cmd_bytes[..cmd_len].iter().all(|b| b.is_ascii_graphic())
                && len == bytes.len() - 24
            {
                let command = String::from_utf8_lossy(&cmd_bytes[..cmd_len]).to_string();
                let payload = bytes[24..].to_vec();
                let sum = dash_qrsync::hashes::sha256d(&payload);
                checks.add(
                    "frame checksum",
                    sum.0[..4] == bytes[20..24],
                    format!("command {command}, {len} payload bytes"),
                );
                return Input {
                    payload,
                    network_from_magic: Some(net),
                    command: Some(command),
                    encoding: if encoding == "hex" {
                        "hex P2P message"
                    } else {
                        "P2P message"
                    },
                };
            }
        }
    }
    Input {
        payload: bytes,
        network_from_magic: None,
        command: None,
        encoding: if encoding == "hex" {
            "hex payload"
        } else {
            "raw payload"
        },
    }
}

/// A `headers` payload: linkage, X11 proof of work, and difficulty (DGW, assuming the batch is
/// above the DGW activation height) for every header with 24 predecessors in the batch.
fn verify_headers(
    payload: &[u8],
    protocols: &[u32],
    network: Network,
    checks: &mut Checks,
) -> Value {
    let p = protocols[0];
    let headers = match Message::decode("headers", payload, p) {
        Ok(Message::Headers(h)) => h,
        Ok(_) => unreachable!("the headers command decodes to Message::Headers"),
        Err(e) => {
            checks.add("decode headers", false, e.to_string());
            return json!({"type": "headers"});
        }
    };
    checks.add(
        "decode to the last byte",
        true,
        format!("{} headers", headers.len()),
    );
    let hashes: Vec<Hash256> = headers.iter().map(|h| h.block_hash()).collect();
    let unlinked = (1..headers.len())
        .filter(|&i| headers[i].prev_block_hash != hashes[i - 1])
        .count();
    checks.add(
        "headers link to each other",
        unlinked == 0,
        format!("{unlinked} breaks"),
    );
    let bad_pow: Vec<String> = headers
        .iter()
        .zip(&hashes)
        .filter_map(|(h, hash)| pow::check_proof_of_work(hash, h.bits, network).err())
        .map(|e| e.to_string())
        .take(5)
        .collect();
    checks.add(
        "proof of work (X11 hash below target)",
        bad_pow.is_empty(),
        json!(bad_pow),
    );
    let n = dash_qrsync::chain::params::DGW_PAST_BLOCKS as usize;
    let assumed_height = dash_qrsync::chain::params::dgw_height(network) + n as u32;
    let mut dgw_checked = 0;
    let mut dgw_bad = 0;
    for i in n..headers.len() {
        if let Some(expected) =
            pow::next_work_required(network, assumed_height, &headers[..i], headers[i].time)
        {
            dgw_checked += 1;
            if expected != headers[i].bits {
                dgw_bad += 1;
            }
        }
    }
    if dgw_checked > 0 {
        checks.add(
            "difficulty (DGW) of headers with 24 predecessors in the batch",
            dgw_bad == 0,
            format!("{dgw_checked} checked, {dgw_bad} wrong"),
        );
    } else {
        checks.skip(
            "difficulty (DGW)",
            "fewer than 25 headers, or a network without retargeting rules",
        );
    }
    json!({
        "type": "headers",
        "protocol_version": p,
        "count": headers.len(),
        "first_hash": hashes.first().map(|h| h.to_string()),
        "last_hash": hashes.last().map(|h| h.to_string()),
        "first_prev_hash": headers.first().map(|h| h.prev_block_hash.to_string()),
    })
}

/// A `clsig`: decoding, signature encoding, request id. The signature itself needs the
/// ChainLocks quorum set at height − 8, which a single message does not carry.
fn verify_clsig(
    payload: &[u8],
    protocols: &[u32],
    chain: &ChainParams,
    checks: &mut Checks,
) -> Value {
    let (cl, p) = match decode_first::<ClSig>(payload, protocols) {
        Ok(v) => v,
        Err(e) => {
            checks.add("decode clsig", false, e);
            return json!({"type": "clsig"});
        }
    };
    checks.add(
        "decode to the last byte",
        true,
        format!("{} bytes", payload.len()),
    );
    checks.add(
        "height is signable (≥ 8)",
        cl.height >= 8,
        cl.height.to_string(),
    );
    let sig = Signature::from_bytes(&cl.signature, Scheme::Basic);
    checks.add(
        "signature is a valid BLS12-381 G2 point (basic scheme)",
        sig.is_ok(),
        sig.err().map(|e| e.to_string()).unwrap_or_default(),
    );
    checks.skip(
        "signature against the ChainLocks quorum",
        "needs the quorum set at height − 8 (the library verifies it during sync)",
    );
    json!({
        "type": "clsig",
        "protocol_version": p,
        "height": cl.height,
        "block_hash": cl.block_hash.to_string(),
        "request_id": cl.request_id().to_string(),
        "chainlocks_llmq_type": chain.llmq().chainlocks,
    })
}

/// An `isdlock`: decoding, Core's trivial validity, signature encoding, request id.
fn verify_isdlock(payload: &[u8], protocols: &[u32], checks: &mut Checks) -> Value {
    let (lock, p) = match decode_first::<IsDLock>(payload, protocols) {
        Ok(v) => v,
        Err(e) => {
            checks.add("decode isdlock", false, e);
            return json!({"type": "isdlock"});
        }
    };
    checks.add(
        "decode to the last byte",
        true,
        format!("{} bytes", payload.len()),
    );
    let trivially = lock.check_trivially_valid();
    checks.add(
        "trivially valid (inputs, no duplicates, txid set)",
        trivially.is_ok(),
        trivially.err().map(|e| e.to_string()).unwrap_or_default(),
    );
    let sig = Signature::from_bytes(&lock.signature, Scheme::Basic);
    checks.add(
        "signature is a valid BLS12-381 G2 point (basic scheme)",
        sig.is_ok(),
        sig.err().map(|e| e.to_string()).unwrap_or_default(),
    );
    checks.skip(
        "signature against the InstantSend quorum",
        "needs the cycle's rotated quorums (the library verifies it during sync)",
    );
    json!({
        "type": "isdlock",
        "protocol_version": p,
        "version": lock.version,
        "inputs": lock.inputs.len(),
        "txid": lock.txid.to_string(),
        "cycle_hash": lock.cycle_hash.to_string(),
        "request_id": lock.request_id().to_string(),
    })
}

fn genesis_hash(n: Network) -> Hash256 {
    dash_qrsync::chain::params::genesis_hash(n)
}

/// Loads `--headers`, compares proven coinbase roots with real header merkle roots, and
/// validates the commitments.
fn finish(
    opts: &Options,
    chain: &ChainParams,
    headers: &mut OfflineHeaders,
    lists: &OfflineLists,
    commitments: &[dash_qrsync::wire::commitment::FinalCommitment],
    proven: &[(Hash256, Option<Hash256>)],
    checks: &mut Checks,
) -> Value {
    if let Some(path) = &opts.headers {
        let anchors = std::mem::take(headers);
        let mut loaded = OfflineHeaders::default();
        match loaded.load_headers_file(path, &anchors) {
            Ok(n) => checks.add("--headers file", true, format!("{n} linked headers")),
            Err(e) => checks.add("--headers file", false, e),
        }
        // Real headers first, then the input's own blocks for what they do not cover.
        for (hash, root) in proven {
            if let Some(h) = anchors.height_of(hash) {
                loaded.add_diff_block(h, *hash, *root);
            }
        }
        *headers = loaded;
    }
    for (hash, root) in proven {
        if let (Some(header_root), Some(root)) = (headers.header_root(hash), root) {
            checks.add(
                &format!("coinbase proof of {hash} matches its header"),
                header_root == *root,
                header_root.to_string(),
            );
        }
    }
    let (report, failed) = quorums::validate(chain, commitments, headers, lists);
    checks.add(
        "quorum commitments",
        failed == 0,
        format!(
            "{} validated, {failed} failed, {} unverifiable",
            report["validated"], report["unverifiable"]
        ),
    );
    report
}

fn guess_network(opts: &Options, input: &Input) -> (Network, &'static str) {
    if let Ok(Some(n)) = opts.chain.conf_network() {
        return (n, "--dash-conf");
    }
    if let Some(n) = opts.network {
        return (n, "--network");
    }
    if let Some(n) = input.network_from_magic {
        return (n, "message magic");
    }
    let name = opts.file.to_string_lossy().to_ascii_lowercase();
    for n in Network::ALL {
        if name.contains(n.name()) {
            return (n, "file name");
        }
    }
    (Network::Mainnet, "default (not detectable; pass --network)")
}

fn protocol_from_name(opts: &Options) -> Option<u32> {
    let name = opts.file.file_name()?.to_string_lossy().to_string();
    let i = name.find("_p")?;
    let digits: String = name[i + 2..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok().filter(|p| *p >= 70000)
}

fn candidate_protocols(opts: &Options) -> (Vec<u32>, &'static str) {
    if let Some(p) = opts.protocol {
        (vec![p], "--protocol-version")
    } else if let Some(p) = protocol_from_name(opts) {
        (vec![p], "file name")
    } else {
        let mut v = ALL_LAYOUTS.to_vec();
        v.reverse();
        (
            v,
            "auto-detected (first layout that decodes exactly, newest first)",
        )
    }
}

fn kind_from_name(opts: &Options) -> Option<Kind> {
    let name = opts.file.to_string_lossy().to_ascii_lowercase();
    [
        Kind::MnListDiff,
        Kind::QrInfo,
        Kind::Headers,
        Kind::ClSig,
        Kind::IsDLock,
    ]
    .into_iter()
    .find(|k| name.contains(k.name()))
}

/// Decodes with the first protocol version that consumes the payload exactly.
fn decode_first<T: Decode>(payload: &[u8], protocols: &[u32]) -> Result<(T, u32), String> {
    let mut last = String::from("no protocol version to try");
    for &p in protocols {
        match T::from_bytes(payload, p) {
            Ok(v) => return Ok((v, p)),
            Err(e) => last = format!("at protocol {p}: {e}"),
        }
    }
    Err(last)
}

/// Decodes with the first fitting protocol version and checks the re-encoding, recording both.
fn decode_checked<T: Decode + Encode>(
    name: &str,
    payload: &[u8],
    protocols: &[u32],
    checks: &mut Checks,
) -> Option<(T, u32)> {
    match decode_first::<T>(payload, protocols) {
        Ok((v, p)) => {
            checks.add(
                "decode to the last byte",
                true,
                format!("{} bytes at protocol {p}", payload.len()),
            );
            checks.add("re-encodes byte-identically", v.to_bytes(p) == payload, "");
            Some((v, p))
        }
        Err(e) => {
            checks.add(&format!("decode {name}"), false, e);
            None
        }
    }
}

/// The largest file `verify` reads: a hex-encoded framed message of the largest size the
/// protocol allows (32 MiB payload + 24-byte header, two hex digits per byte), plus 1 MiB for
/// whitespace. Anything larger cannot be a valid input and is refused before it is read.
pub const MAX_INPUT_FILE: u64 =
    2 * (dash_qrsync::wire::frame::MAX_LARGE_MESSAGE_SIZE as u64 + 24) + (1 << 20);

/// Why an input file was not read.
#[derive(Debug)]
pub enum InputError {
    /// It could not be opened or read.
    Io(std::io::Error),
    /// It is larger than [`MAX_INPUT_FILE`].
    TooLarge {
        /// Its size (or at least this many bytes were readable).
        size: u64,
    },
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Io(e) => write!(f, "{e}"),
            InputError::TooLarge { size } => write!(
                f,
                "{size} bytes is more than the {MAX_INPUT_FILE}-byte limit (a hex-encoded \
                 32 MiB message)"
            ),
        }
    }
}

/// Reads `path` whole if it is at most `limit` bytes (checked before reading, and while
/// reading, for files that grow or are not regular).
pub fn read_bounded(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, InputError> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(InputError::Io)?;
    if let Ok(m) = f.metadata() {
        if m.is_file() && m.len() > limit {
            return Err(InputError::TooLarge { size: m.len() });
        }
    }
    let mut out = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(InputError::Io)?;
    if out.len() as u64 > limit {
        return Err(InputError::TooLarge {
            size: out.len() as u64,
        });
    }
    Ok(out)
}

/// Runs `verify` and returns the process exit code.
pub fn run(opts: &Options) -> ExitCode {
    let raw = match read_bounded(&opts.file, MAX_INPUT_FILE) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", opts.file.display());
            return ExitCode::from(2);
        }
    };
    let mut checks = Checks::default();
    let input = unwrap_input(raw, &mut checks);
    let (network, network_source) = guess_network(opts, &input);
    if let (Some(n), Ok(Some(c))) = (opts.network, opts.chain.conf_network()) {
        if n != c {
            eprintln!("error: --network {n} but --dash-conf selects {c}");
            return ExitCode::from(2);
        }
    }
    // The chain parameters of this run (`--dash-conf`, `--chain-param`) for the network the
    // input is checked against, passed to every check that needs them.
    let chain = match opts.chain.build(network) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let kind = opts
        .kind
        .or_else(|| input.command.as_deref().and_then(Kind::from_command))
        .or_else(|| kind_from_name(opts));
    let (protocols, protocol_source) = candidate_protocols(opts);

    let mut summary = json!({
        "file": opts.file.display().to_string(),
        "input": input.encoding,
        "payload_bytes": input.payload.len(),
        "network": network.name(),
        "network_from": network_source,
    });
    let detail = match kind {
        Some(Kind::MnListDiff) => {
            verify_mnlistdiff(opts, &input.payload, &protocols, &chain, &mut checks)
        }
        Some(Kind::QrInfo) => verify_qrinfo(opts, &input.payload, &protocols, &chain, &mut checks),
        Some(Kind::Headers) => verify_headers(&input.payload, &protocols, network, &mut checks),
        Some(Kind::ClSig) => verify_clsig(&input.payload, &protocols, &chain, &mut checks),
        Some(Kind::IsDLock) => verify_isdlock(&input.payload, &protocols, &mut checks),
        None => {
            // Try what the bytes decode as.
            if decode_first::<MnListDiff>(&input.payload, &protocols).is_ok() {
                verify_mnlistdiff(opts, &input.payload, &protocols, &chain, &mut checks)
            } else if decode_first::<QrInfo>(&input.payload, &protocols).is_ok() {
                verify_qrinfo(opts, &input.payload, &protocols, &chain, &mut checks)
            } else if input.payload.len() == dash_qrsync::wire::locks::CLSIG_SIZE {
                verify_clsig(&input.payload, &protocols, &chain, &mut checks)
            } else if Message::decode("headers", &input.payload, protocols[0]).is_ok() {
                verify_headers(&input.payload, &protocols, network, &mut checks)
            } else if decode_first::<IsDLock>(&input.payload, &protocols).is_ok() {
                verify_isdlock(&input.payload, &protocols, &mut checks)
            } else {
                checks.add(
                    "decode",
                    false,
                    "could not detect the payload type; pass --type",
                );
                json!({"type": Value::Null})
            }
        }
    };
    let obj = summary.as_object_mut().expect("object");
    if let Value::Object(d) = detail {
        obj.extend(d);
    }
    obj.insert("protocol_version_from".into(), protocol_source.into());
    obj.insert(
        "result".into(),
        json!({
            "passed": checks.failed == 0,
            "checks_failed": checks.failed,
            "checks_skipped": checks.skipped,
            "checks_total": checks.items.len(),
        }),
    );
    obj.insert("checks".into(), Value::Array(checks.items));
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).expect("JSON value serializes")
    );
    if checks.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The CbTx payload with Core's RPC field names (`getblock` / `protx diff` `cbTx`), every field of
/// its version; hashes in display order. A version newer than the library knows shows the
/// appended bytes it kept.
fn cbtx_json(c: &dash_qrsync::wire::tx::CbTx) -> Value {
    let mut o = json!({
        "version": c.version,
        "height": c.height,
        "merkleRootMNList": c.merkle_root_mn_list.to_string(),
    });
    let m = o.as_object_mut().expect("object");
    if let Some(q) = c.merkle_root_quorums {
        m.insert("merkleRootQuorums".into(), q.to_string().into());
    }
    if let Some(cl) = c.best_cl {
        m.insert("bestCLHeightDiff".into(), cl.height_diff.into());
        m.insert("bestCLSignature".into(), hex::encode(cl.signature).into());
    }
    if let Some(b) = c.credit_pool_balance {
        m.insert("creditPoolBalance".into(), b.into());
    }
    if let Some(u) = c.merkle_root_asset_unlocks {
        m.insert("merkleRootAssetUnlocks".into(), u.to_string().into());
    }
    if c.is_newer_than_known() {
        m.insert(
            "unknownFields".into(),
            hex::encode(&c.unknown_fields).into(),
        );
    }
    o
}

/// Verifies one diff against `base` when the base is known and returns its summary.
fn check_one_diff(
    label: &str,
    diff: &MnListDiff,
    base: Option<&MasternodeList>,
    chain: &ChainParams,
    checks: &mut Checks,
) -> (Value, Option<(MasternodeList, Option<Hash256>)>) {
    let cbtx = diff.cb_tx.coinbase_payload();
    let height = cbtx.as_ref().ok().map(|c| c.height.max(0) as u32);
    let mut out = json!({
        "block_hash": diff.block_hash.to_string(),
        "base_block_hash": diff.base_block_hash.to_string(),
        "cbtx_height": height,
        "entries_in_diff": diff.mn_list.len(),
        "deleted_masternodes": diff.deleted_mns.len(),
        "new_quorums": diff.new_quorums.len(),
        "deleted_quorums": diff.deleted_quorums.len(),
        "quorums_cl_sigs": diff.quorums_cl_sigs.len(),
        "cbtx": cbtx.as_ref().ok().map(cbtx_json),
    });
    let (Some(base), Some(height)) = (base, height) else {
        if let Err(e) = &cbtx {
            checks.add(&format!("{label}: coinbase payload"), false, e.to_string());
        } else {
            checks.skip(
                &format!("{label}: roots"),
                "the base list is not in this input (diff is not from genesis)",
            );
        }
        return (out, None);
    };
    let list = match base.apply_diff(diff, height) {
        Ok(l) => l,
        Err(e) => {
            checks.add(&format!("{label}: apply to base"), false, e.to_string());
            return (out, None);
        }
    };
    let c = DiffCheck::compute(&list, diff, None);
    let o = out.as_object_mut().expect("object");
    o.insert("cbtx_version".into(), c.cbtx_version.into());
    o.insert("list_size".into(), list.entries.len().into());
    o.insert("list_valid".into(), list.valid_count().into());
    o.insert("quorums".into(), list.quorums.len().into());
    o.insert(
        "sml_root".into(),
        json!({"computed": c.sml_root_computed.to_string(), "cbtx": c.sml_root_cbtx.to_string()}),
    );
    o.insert(
        "quorum_root".into(),
        json!({"computed": c.quorum_root_computed.to_string(),
               "cbtx": c.quorum_root_cbtx.map(|h| h.to_string())}),
    );
    o.insert(
        "merkle_proof".into(),
        json!({"coinbase_txid": c.coinbase_txid.to_string(),
               "root": c.pmt_root.as_ref().map(|h| h.to_string()).unwrap_or_default(),
               "error": c.pmt_root.as_ref().err(),
               "header_merkle_root": "compared below when --headers covers the block"}),
    );
    checks.add(
        &format!("{label}: CbTx version allowed at height"),
        dash_qrsync::sml::check_cbtx_version(chain.activations(), None, c.cbtx_version, height)
            .is_ok(),
        format!("CbTx v{} at height {height}", c.cbtx_version),
    );
    checks.add(
        &format!("{label}: SML root equals CbTx"),
        c.sml_root_computed == c.sml_root_cbtx,
        c.sml_root_computed.to_string(),
    );
    match c.quorum_root_cbtx {
        Some(q) => checks.add(
            &format!("{label}: quorum root equals CbTx"),
            c.quorum_root_computed == q,
            c.quorum_root_computed.to_string(),
        ),
        None => checks.skip(
            &format!("{label}: quorum root"),
            "CbTx v1 has no quorum root",
        ),
    }
    checks.add(
        &format!("{label}: coinbase merkle proof"),
        c.pmt_root.is_ok(),
        c.pmt_root
            .as_ref()
            .map(|r| format!("coinbase proven at position 0 into root {r}"))
            .unwrap_or_else(|e| e.clone()),
    );
    let root = c.pmt_root.ok();
    (out, Some((list, root)))
}

/// A diff whose base is not in the input still places its block at its CbTx height: an
/// anchor for `--headers` (heights only; no coinbase proof was checked, so no merkle root).
fn anchor_unapplied(headers: &mut OfflineHeaders, diff: &MnListDiff) {
    if let Ok(c) = diff.cb_tx.coinbase_payload() {
        headers.add_diff_block(c.height.max(0) as u32, diff.block_hash, None);
    }
}

fn verify_mnlistdiff(
    opts: &Options,
    payload: &[u8],
    protocols: &[u32],
    chain: &ChainParams,
    checks: &mut Checks,
) -> Value {
    let network = chain.network();
    let Some((diff, p)) = decode_checked::<MnListDiff>("mnlistdiff", payload, protocols, checks)
    else {
        return json!({"type": "mnlistdiff"});
    };
    let empty = MasternodeList::empty();
    let base = (diff.base_block_hash.is_zero() || diff.base_block_hash == genesis_hash(network))
        .then_some(&empty);
    let (d, list) = check_one_diff("mnlistdiff", &diff, base, chain, checks);
    let mut headers = OfflineHeaders::default();
    let mut lists = OfflineLists::default();
    let mut proven = Vec::new();
    if let Some((l, root)) = list {
        headers.add_diff_block(l.height, l.block_hash, root);
        proven.push((l.block_hash, root));
        lists.lists.insert(l.height, l);
    } else {
        anchor_unapplied(&mut headers, &diff);
    }
    let quorums = finish(
        opts,
        chain,
        &mut headers,
        &lists,
        &diff.new_quorums,
        &proven,
        checks,
    );
    json!({"type": "mnlistdiff", "protocol_version": p, "diff": d, "quorums": quorums})
}

fn verify_qrinfo(
    opts: &Options,
    payload: &[u8],
    protocols: &[u32],
    chain: &ChainParams,
    checks: &mut Checks,
) -> Value {
    let network = chain.network();
    let Some((q, p)) = decode_checked::<QrInfo>("qrinfo", payload, protocols, checks) else {
        return json!({"type": "qrinfo"});
    };
    let mut names: Vec<String> = (0..q.mn_list_diff_list.len())
        .map(|i| format!("mnListDiffList[{i}]"))
        .collect();
    if q.extra_share.is_some() {
        names.push("mnListDiffAtHMinus4C".into());
    }
    for n in [
        "mnListDiffAtHMinus3C",
        "mnListDiffAtHMinus2C",
        "mnListDiffAtHMinusC",
        "mnListDiffH",
        "mnListDiffTip",
    ] {
        names.push(n.into());
    }
    let genesis = genesis_hash(network);
    let mut lists: HashMap<Hash256, MasternodeList> = HashMap::new();
    let empty = MasternodeList::empty();
    let mut diffs = serde_json::Map::new();
    let mut headers = OfflineHeaders::default();
    let mut proven = Vec::new();
    let mut commitments = Vec::new();
    for (name, diff) in names.iter().zip(q.diffs_in_application_order()) {
        let base = if diff.base_block_hash.is_zero() || diff.base_block_hash == genesis {
            Some(&empty)
        } else {
            lists.get(&diff.base_block_hash)
        };
        let (d, list) = check_one_diff(name, diff, base, chain, checks);
        if let Some((l, root)) = list {
            headers.add_diff_block(l.height, l.block_hash, root);
            proven.push((l.block_hash, root));
            lists.insert(l.block_hash, l);
        } else {
            anchor_unapplied(&mut headers, diff);
        }
        commitments.extend(diff.new_quorums.iter().cloned());
        diffs.insert(name.clone(), d);
    }
    commitments.extend(q.last_commitment_per_index.iter().cloned());
    let mut offline = OfflineLists::default();
    // Snapshots belong to the cycle 8 blocks after their diff's block (§4.4).
    let mut snaps = vec![
        (&q.mn_list_diff_h_minus_c, &q.snapshot_h_minus_c),
        (&q.mn_list_diff_h_minus_2c, &q.snapshot_h_minus_2c),
        (&q.mn_list_diff_h_minus_3c, &q.snapshot_h_minus_3c),
    ];
    if let Some(e) = &q.extra_share {
        snaps.push((&e.mn_list_diff_h_minus_4c, &e.snapshot_h_minus_4c));
    }
    snaps.extend(q.mn_list_diff_list.iter().zip(&q.quorum_snapshot_list));
    for (diff, snap) in snaps {
        if let Some(l) = lists.get(&diff.block_hash) {
            offline.snapshots.insert(l.height + 8, snap.clone());
        }
    }
    if let Some(tip) = lists.get(&q.mn_list_diff_tip.block_hash) {
        commitments.extend(tip.quorums.values().map(|c| (**c).clone()));
    }
    for l in lists.into_values() {
        offline.lists.insert(l.height, l);
    }
    let quorums = finish(
        opts,
        chain,
        &mut headers,
        &offline,
        &commitments,
        &proven,
        checks,
    );
    let snap = |s: &dash_qrsync::wire::qrinfo::QuorumSnapshot| {
        json!({"mode": s.skip_list_mode, "bits": s.active_quorum_members.len(),
               "set_bits": s.active_quorum_members.count_ones(), "skip_list": s.skip_list.len()})
    };
    json!({
        "type": "qrinfo",
        "protocol_version": p,
        "extra_share": q.extra_share.is_some(),
        "snapshots": {
            "h_minus_c": snap(&q.snapshot_h_minus_c),
            "h_minus_2c": snap(&q.snapshot_h_minus_2c),
            "h_minus_3c": snap(&q.snapshot_h_minus_3c),
            "h_minus_4c": q.extra_share.as_ref().map(|e| snap(&e.snapshot_h_minus_4c)),
            "extra": q.quorum_snapshot_list.len(),
        },
        "last_commitment_per_index": q.last_commitment_per_index.len(),
        "diffs": Value::Object(diffs),
        "quorums": quorums,
    })
}

#[cfg(test)]
mod input_bound_tests {
    use super::*;

    #[test]
    fn a_file_above_the_limit_is_refused_before_it_is_read() {
        let dir = std::env::temp_dir().join(format!("dqs-verify-bound-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("huge.bin");
        // Sparse: no disk space or memory is used for the 2 GiB.
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(2 << 30).unwrap();
        drop(f);
        match read_bounded(&path, MAX_INPUT_FILE) {
            Err(InputError::TooLarge { size }) => assert_eq!(size, 2 << 30),
            other => panic!("expected TooLarge, got {other:?}"),
        }
        let msg = read_bounded(&path, MAX_INPUT_FILE).unwrap_err().to_string();
        assert!(msg.contains("2147483648 bytes"), "{msg}");
        // At the limit it is read.
        std::fs::write(&path, [7u8; 100]).unwrap();
        assert_eq!(read_bounded(&path, 100).unwrap().len(), 100);
        assert!(matches!(
            read_bounded(&path, 99),
            Err(InputError::TooLarge { size: 100 })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
