//! Chain parameters (PROTOCOL.md §1.2, §2.3, §2.4; CORE `src/chainparams.cpp`): genesis headers,
//! proof-of-work limits, retargeting constants and checkpoints.

use super::pow::U256;
use crate::hashes::Hash256;
use crate::network::Network;
use crate::wire::header::BlockHeader;

/// Target block spacing in seconds (`nPowTargetSpacing`, 2.5 minutes).
pub const TARGET_SPACING: u32 = 150;

/// Number of past blocks Dark Gravity Wave v3 averages.
pub const DGW_PAST_BLOCKS: u32 = 24;

/// Number of past blocks whose median time a new block's time must exceed.
pub const MEDIAN_TIME_SPAN: usize = 11;

/// How far in the future (seconds) a block time may be relative to the caller's clock.
pub const MAX_FUTURE_BLOCK_TIME: u32 = 2 * 60 * 60;

/// A hard-coded checkpoint: the block at `height` must have hash `hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Block height.
    pub height: u32,
    /// Block hash (internal byte order).
    pub hash: Hash256,
}

/// Decodes display-order hex at compile time (the tables below are constants).
const fn display_hash(s: &str) -> Hash256 {
    let b = s.as_bytes();
    assert!(b.len() == 64, "hash literal must have 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        let hi = hex_val(b[2 * i]);
        let lo = hex_val(b[2 * i + 1]);
        out[31 - i] = (hi << 4) | lo;
        i += 1;
    }
    Hash256(out)
}

const fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("bad hex digit in hash literal"),
    }
}

const fn cp(height: u32, hash: &str) -> Checkpoint {
    Checkpoint {
        height,
        hash: display_hash(hash),
    }
}

const GENESIS_MERKLE_ROOT: Hash256 =
    display_hash("e0028eb9648db56b1ac77cf090b99048a8007e2bb64b68f092c03c7f56a662c7");

const MAINNET_GENESIS: Hash256 =
    display_hash("00000ffd590b1485b3caadc19b22e6379c733355108f107a430458cdf3407ab6");
const TESTNET_GENESIS: Hash256 =
    display_hash("00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c");
const REGTEST_GENESIS: Hash256 =
    display_hash("000008ca1832a4baf228eb1553c03d3a2c8e02399550dd6ea8d65cec3ef23d2e");

/// Mainnet checkpoints (subset of Core v23.1.2's `checkpointData`, PROTOCOL.md §2.4).
///
/// Checked for newer entries on 2026-12-07 against Core's `src/chainparams.cpp` at
/// UdjinM6/dash 82a49b2 (v23.1.2-240-g82a49b2, 2026-03-26; `CMainParams::checkpointData`): its
/// newest mainnet checkpoint is still 2,421,800, the last row here. The versions of
/// dashpay/dash's `src/chainparams.cpp` in the search index (commits 00dab8b, 12bb52c) are older.
/// Re-checked the same day for issue 24 over every branch and tag of that mirror (1,465 refs,
/// tags v23.1.0–v23.1.2 included): no mainnet height above 2,421,800, no testnet height above
/// 1,380,000; nothing to add.
pub const MAINNET_CHECKPOINTS: &[Checkpoint] = &[
    cp(
        1500,
        "000000aaf0300f59f49bc3e970bad15c11f961fe2347accffff19d96ec9778e3",
    ),
    cp(
        1450000,
        "00000000000000105cfae44a995332d8ec256850ea33a1f7b700474e3dad82bc",
    ),
    cp(
        1796500,
        "000000000000001d531f36005159f19351bd49ca676398a561e55dcccb84eacd",
    ),
    cp(
        1889000,
        "00000000000000075300e852d5bf5380f905b2768241f8b442498442084807a7",
    ),
    cp(
        1969000,
        "000000000000000c8b7a3bdcd8b9f516462122314529c8342244c685a4c899bf",
    ),
    cp(
        2029000,
        "0000000000000020d5e38b6aef5bc8e430029444d7977b46f710c7d281ef1281",
    ),
    cp(
        2109672,
        "000000000000001889bd33ef019065e250d32bd46911f4003d3fdd8128b5358d",
    ),
    cp(
        2175051,
        "000000000000001cf26547602d982dcaa909231bbcd1e70c0eb3c65de25473ba",
    ),
    cp(
        2216986,
        "0000000000000010b1135dc743f27f6fc8a138c6420a9d963fc676f96c2048f4",
    ),
    cp(
        2361500,
        "0000000000000009ba1e8f47851d036bb618a4f6565eb3c32d1f647d450ff195",
    ),
    cp(
        2421800,
        "000000000000000718ed026ebd644a8b70b42d4cbd7b25304c066c9bf15f85b7",
    ),
];

/// Testnet checkpoints (subset of Core v23.1.2's `checkpointData`, PROTOCOL.md §2.4).
///
/// Checked as the mainnet list: Core's newest testnet checkpoint at UdjinM6/dash 82a49b2 is
/// still 1,380,000, the last row here.
pub const TESTNET_CHECKPOINTS: &[Checkpoint] = &[
    cp(
        255,
        "0000080b600e06f4c07880673f027210f9314575f5f875fafe51971e268b886a",
    ),
    cp(
        905100,
        "0000020c5e0f86f385cbf8e90210de9a9fd63633f01433bf47a6b3227a2851fd",
    ),
    cp(
        1189000,
        "000001690314036dfbbecbdf382b230ead8e9c584241290a51f9f05a87a9cf7e",
    ),
    cp(
        1295700,
        "00000107d42829a38e31c1a38c660d621e1ca376a880df1520e85e38af175d3a",
    ),
    cp(
        1380000,
        "000000a98084beaf77ed26a905a7d59979009e23367a55b5d634962d7d65a1f9",
    ),
];

const REGTEST_CHECKPOINTS: &[Checkpoint] = &[Checkpoint {
    height: 0,
    hash: REGTEST_GENESIS,
}];

/// The genesis block hash. Devnets use the regtest-style genesis at height 0 (each devnet has
/// its own block 1).
pub fn genesis_hash(network: Network) -> Hash256 {
    match network {
        Network::Mainnet => MAINNET_GENESIS,
        Network::Testnet => TESTNET_GENESIS,
        Network::Devnet | Network::Regtest => REGTEST_GENESIS,
    }
}

/// The name a devnet's genesis block is derived from, as Dash Core forms it from `-devnet=NAME`
/// (`devnet-NAME`, or `devnet` when no name is given); `None` on other networks. The client's
/// start and the simulated devnets both derive the genesis from this one name, so they link.
pub fn devnet_genesis_name(params: &crate::network::ChainParams) -> Option<String> {
    if params.network() != Network::Devnet {
        return None;
    }
    Some(match params.devnet_name() {
        Some(n) if !n.is_empty() => format!("devnet-{n}"),
        _ => "devnet".to_string(),
    })
}

/// The devnet genesis block (height 1) of a devnet configured by `params`: its header and its
/// one transaction ([`devnet_genesis_block`] of [`devnet_genesis_name`]); `None` on other
/// networks.
pub fn devnet_genesis_of(
    params: &crate::network::ChainParams,
) -> Option<(BlockHeader, crate::wire::tx::Transaction)> {
    devnet_genesis_block(&devnet_genesis_name(params)?)
}

/// A devnet's own genesis block at height 1, as Dash Core derives it from `-devnet=NAME`
/// (`chainparams.cpp`, `CreateDevNetGenesisBlock` / `FindDevNetGenesisBlock`): version 4, on top
/// of the regtest-style genesis, time one second later, the same bits, a coinbase whose
/// scriptSig is `OP_1 <NAME>` paying 50 DASH to `OP_RETURN`, and the first nonce from 0 whose
/// X11 hash meets the target. Returns the header and that coinbase (version 1, no special
/// payload). `None` for an empty name (Core requires one) or a name too long for one push (over
/// 75 bytes, never seen in practice).
pub fn devnet_genesis_block(name: &str) -> Option<(BlockHeader, crate::wire::tx::Transaction)> {
    use crate::wire::tx::{Transaction, TxIn, TxOut};
    let name = name.as_bytes();
    if name.is_empty() || name.len() > 75 {
        return None;
    }
    let prev = genesis_header(Network::Devnet);
    let mut script_sig = Vec::with_capacity(2 + name.len());
    script_sig.push(0x51); // OP_1 (CScript << 1)
    script_sig.push(name.len() as u8);
    script_sig.extend_from_slice(name);
    let coinbase = Transaction {
        version: 1,
        tx_type: 0,
        inputs: vec![TxIn {
            prev_hash: Hash256::ZERO,
            prev_index: u32::MAX,
            script_sig,
            sequence: u32::MAX,
        }],
        outputs: vec![TxOut {
            value: 50 * 100_000_000,
            script_pubkey: vec![0x6a], // OP_RETURN
        }],
        lock_time: 0,
        extra_payload: None,
    };
    let mut header = BlockHeader {
        version: 4,
        prev_block_hash: prev.block_hash(),
        // One transaction: the merkle root is its txid.
        merkle_root: coinbase.txid(),
        time: prev.time + 1,
        bits: prev.bits,
        nonce: 0,
    };
    loop {
        if super::pow::check_proof_of_work(&header.block_hash(), header.bits, Network::Devnet)
            .is_ok()
        {
            return Some((header, coinbase));
        }
        header.nonce = header.nonce.checked_add(1)?;
    }
}

/// The header of [`devnet_genesis_block`].
pub fn devnet_genesis_header(name: &str) -> Option<BlockHeader> {
    devnet_genesis_block(name).map(|(h, _)| h)
}

/// The genesis block header.
pub fn genesis_header(network: Network) -> BlockHeader {
    let (time, bits, nonce) = match network {
        Network::Mainnet => (1_390_095_618, 0x1e0f_fff0, 28_917_698),
        Network::Testnet => (1_390_666_206, 0x1e0f_fff0, 3_861_367_235),
        Network::Devnet | Network::Regtest => (1_417_713_337, 0x207f_ffff, 1_096_447),
    };
    BlockHeader {
        version: 1,
        prev_block_hash: Hash256::ZERO,
        merkle_root: GENESIS_MERKLE_ROOT,
        time,
        bits,
        nonce,
    }
}

/// The proof-of-work limit (highest allowed target): `~0 >> 20` on mainnet/testnet,
/// `~0 >> 1` on devnet/regtest.
pub fn pow_limit(network: Network) -> U256 {
    match network {
        Network::Mainnet | Network::Testnet => U256::MAX.shr(20),
        Network::Devnet | Network::Regtest => U256::MAX.shr(1),
    }
}

/// The powLimit in compact form (`0x1e0fffff` / `0x207fffff`).
pub fn pow_limit_bits(network: Network) -> u32 {
    pow_limit(network).to_compact()
}

/// First height whose bits Dark Gravity Wave computes (`nPowDGWHeight`).
pub fn dgw_height(network: Network) -> u32 {
    match network {
        Network::Mainnet | Network::Regtest => 34_140,
        Network::Testnet => 4_002,
        Network::Devnet => 4_001,
    }
}

/// Whether the testnet-style minimum-difficulty rules apply (`fPowAllowMinDifficultyBlocks`).
pub fn allow_min_difficulty_blocks(network: Network) -> bool {
    !matches!(network, Network::Mainnet)
}

/// Whether difficulty never changes (`fPowNoRetargeting`; regtest only).
pub fn no_retargeting(network: Network) -> bool {
    matches!(network, Network::Regtest)
}

/// Hard-coded checkpoints, ascending by height (devnet: none; regtest: genesis).
pub fn checkpoints(network: Network) -> &'static [Checkpoint] {
    match network {
        Network::Mainnet => MAINNET_CHECKPOINTS,
        Network::Testnet => TESTNET_CHECKPOINTS,
        Network::Devnet => &[],
        Network::Regtest => REGTEST_CHECKPOINTS,
    }
}

/// The checkpoint hash at `height`, if there is one.
pub fn checkpoint_at(network: Network, height: u32) -> Option<Hash256> {
    checkpoints(network)
        .iter()
        .find(|c| c.height == height)
        .map(|c| c.hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_genesis_is_built_as_core_builds_it() {
        let g = devnet_genesis_header("devnet-dqs").unwrap();
        let base = genesis_header(Network::Devnet);
        assert_eq!(g.version, 4);
        assert_eq!(g.prev_block_hash, REGTEST_GENESIS);
        assert_eq!(g.time, base.time + 1);
        assert_eq!(g.bits, 0x207f_ffff);
        // The coinbase, byte by byte (CScript() << 1 << name; 50 DASH to OP_RETURN).
        let mut tx = hex_bytes(
            "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff",
        );
        tx.push(12);
        tx.extend_from_slice(&[0x51, 10]);
        tx.extend_from_slice(b"devnet-dqs");
        tx.extend_from_slice(&hex_bytes("ffffffff0100f2052a01000000016a00000000"));
        assert_eq!(g.merkle_root, crate::hashes::sha256d(&tx));
        assert!(
            super::super::pow::check_proof_of_work(&g.block_hash(), g.bits, Network::Devnet)
                .is_ok()
        );
        // The first nonce that works: no smaller one does.
        for nonce in 0..g.nonce {
            let h = BlockHeader { nonce, ..g };
            assert!(super::super::pow::check_proof_of_work(
                &h.block_hash(),
                h.bits,
                Network::Devnet
            )
            .is_err());
        }
        assert_ne!(
            devnet_genesis_header("devnet-other").unwrap().block_hash(),
            g.block_hash()
        );
        assert!(devnet_genesis_header("").is_none());
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn genesis_headers_hash_to_genesis_hashes() {
        for n in Network::ALL {
            assert_eq!(genesis_header(n).block_hash(), genesis_hash(n), "{n}");
        }
        assert_eq!(
            genesis_hash(Network::Testnet).to_display_hex(),
            "00000bafbc94add76cb75e2ec92894837288a481e5c005f6563d91623bf8bc2c"
        );
    }

    #[test]
    fn checkpoints_ascending() {
        for n in Network::ALL {
            let c = checkpoints(n);
            assert!(c.windows(2).all(|w| w[0].height < w[1].height));
        }
        assert_eq!(
            checkpoint_at(Network::Testnet, 905100)
                .unwrap()
                .to_display_hex(),
            "0000020c5e0f86f385cbf8e90210de9a9fd63633f01433bf47a6b3227a2851fd"
        );
    }
}
