//! BLS on real network data: every quorum commitment in every vector carries a `quorumSig` made
//! by the quorum's threshold key over its commitment hash, in the legacy scheme (versions 1/2)
//! or the basic scheme (3/4). Verifying all of them checks point decoding in both formats and
//! both hash-to-G2 functions (§5.4) against what Dash Core produced.

mod common;

use common::expected::EXPECTED_DIFFS;
use dash_qrsync::quorum::bls::{self, PublicKey, Scheme, Signature};
use dash_qrsync::wire::commitment::FinalCommitment;
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::Decode;
use std::collections::BTreeMap;

fn all_commitments() -> Option<Vec<(String, FinalCommitment)>> {
    let dir = common::vectors_dir()?;
    let mut files: BTreeMap<&str, u32> = BTreeMap::new();
    for e in EXPECTED_DIFFS.iter() {
        files.insert(e.file, e.protocol);
    }
    let mut out = Vec::new();
    for (file, p) in files {
        let bytes = common::read_payload(&dir, file);
        let diffs: Vec<MnListDiff> = if file.contains("qrinfo") {
            let q = QrInfo::from_bytes(&bytes, p).unwrap();
            q.diffs_in_application_order()
                .into_iter()
                .cloned()
                .collect()
        } else {
            vec![MnListDiff::from_bytes(&bytes, p).unwrap()]
        };
        for d in diffs {
            for c in d.new_quorums {
                out.push((file.to_string(), c));
            }
        }
    }
    Some(out)
}

fn scheme(c: &FinalCommitment) -> Scheme {
    if c.is_basic_scheme() {
        Scheme::Basic
    } else {
        Scheme::Legacy
    }
}

#[test]
fn every_real_quorum_sig_verifies() {
    let Some(all) = all_commitments() else { return };
    let mut seen = std::collections::HashSet::new();
    let (mut legacy, mut basic) = (0, 0);
    for (file, c) in &all {
        if !seen.insert((c.llmq_type, c.quorum_hash, c.quorum_sig)) {
            continue;
        }
        let s = scheme(c);
        let pk = PublicKey::from_bytes(&c.quorum_public_key, s)
            .unwrap_or_else(|e| panic!("{file}: type {} {}: {e}", c.llmq_type, c.quorum_hash));
        let sig = Signature::from_bytes(&c.quorum_sig, s).unwrap();
        let msg = c.commitment_hash();
        assert!(
            bls::verify(&pk, &msg.0, &sig, s),
            "{file}: quorumSig of type {} {} (v{}) does not verify",
            c.llmq_type,
            c.quorum_hash,
            c.version
        );
        match s {
            Scheme::Legacy => legacy += 1,
            Scheme::Basic => basic += 1,
        }
        // The same signature must not verify for a different message or in the other scheme.
        let mut other = msg.0;
        other[0] ^= 1;
        assert!(!bls::verify(&pk, &other, &sig, s));
    }
    eprintln!("verified {legacy} legacy and {basic} basic quorumSigs");
    assert!(legacy > 0, "the vectors contain legacy commitments");
    assert!(basic > 0, "the vectors contain basic commitments");
}

#[test]
fn keys_re_encode_byte_identically_in_their_scheme() {
    let Some(all) = all_commitments() else { return };
    for (_, c) in all.iter().take(400) {
        let s = scheme(c);
        let pk = PublicKey::from_bytes(&c.quorum_public_key, s).unwrap();
        assert_eq!(pk.to_bytes(s), c.quorum_public_key);
        let sig = Signature::from_bytes(&c.quorum_sig, s).unwrap();
        assert_eq!(sig.to_bytes(s), c.quorum_sig);
    }
}
