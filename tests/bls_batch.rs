//! Batch BLS verification (issue 17): one multi-pairing for many checks must accept exactly
//! what one-by-one verification accepts, and name every failing item — on generated keys in
//! both schemes and on real mainnet (legacy scheme) and testnet (basic scheme) commitments.

mod common;

use common::headers::VectorHeaders;
use dash_qrsync::chain::HeaderIndex;
use dash_qrsync::engine::{Engine, EngineConfig};
use dash_qrsync::quorum::bls::{self, Batch, Scheme, SecretKey, Signature};
use dash_qrsync::quorum::verify::{self, QuorumFailure, Verdict};
use dash_qrsync::wire::commitment::FinalCommitment;
use dash_qrsync::wire::qrinfo::QrInfo;
use dash_qrsync::wire::Decode;
use dash_qrsync::Network;
use std::sync::Arc;

/// Commitments with their base heights.
type Jobs = Vec<(Arc<FinalCommitment>, u32)>;

const SCHEMES: [Scheme; 2] = [Scheme::Basic, Scheme::Legacy];

fn keys(n: usize) -> Vec<SecretKey> {
    (0..n)
        .map(|i| SecretKey::from_seed(format!("bls batch test key {i}").as_bytes()))
        .collect()
}

/// Message `i % distinct`: messages repeat when `distinct < n`.
fn msg(i: usize, distinct: usize) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[..8].copy_from_slice(&((i % distinct) as u64).to_be_bytes());
    m[8] = 0xd5;
    m
}

/// A batch of `n` valid checks: key i signs message i (messages repeat every `distinct`).
fn valid_batch(scheme: Scheme, n: usize, distinct: usize) -> (Batch, Vec<SecretKey>) {
    let sks = keys(n);
    let mut b = Batch::new(scheme);
    for (i, sk) in sks.iter().enumerate() {
        let m = msg(i, distinct);
        b.push(sk.public_key(), m, sk.sign(&m, scheme));
    }
    (b, sks)
}

/// The same checks as `b` with check `i`'s signature replaced.
fn with_signature(b: &Batch, i: usize, sig: Signature) -> Batch {
    let mut out = Batch::new(b.scheme());
    for (k, c) in b.checks().iter().enumerate() {
        let s = if k == i { sig } else { c.signature };
        out.push(c.public_key, c.msg, s);
    }
    out
}

#[test]
fn a_batch_of_valid_signatures_is_accepted_in_both_schemes() {
    for scheme in SCHEMES {
        for (n, distinct) in [(1, 1), (2, 1), (16, 16), (16, 3)] {
            let (b, _) = valid_batch(scheme, n, distinct);
            // Each check holds on its own (the reference), and the batch accepts them.
            for c in b.checks() {
                assert!(bls::verify(&c.public_key, &c.msg, &c.signature, scheme));
            }
            assert!(b.verify(), "{scheme:?} n={n} distinct={distinct}");
            let (bad, cost) = b.invalid_with_cost();
            assert!(bad.is_empty());
            // One multi-pairing: one Miller loop per distinct message plus one.
            assert_eq!(cost.pairings, 1, "{scheme:?} n={n}");
            assert_eq!(cost.miller_loops, distinct.min(n) + 1, "{scheme:?} n={n}");
        }
    }
}

#[test]
fn one_bad_signature_among_many_is_rejected_and_named() {
    for scheme in SCHEMES {
        let (b, sks) = valid_batch(scheme, 24, 24);
        for bad in [0usize, 7, 23] {
            // A valid signature of the right key over another message.
            let wrong = sks[bad].sign(&msg(bad + 1, 24), scheme);
            assert!(!bls::verify(
                &sks[bad].public_key(),
                &msg(bad, 24),
                &wrong,
                scheme
            ));
            let t = with_signature(&b, bad, wrong);
            assert!(!t.verify(), "{scheme:?} bad={bad}");
            assert_eq!(t.invalid(), vec![bad], "{scheme:?}");
        }
    }
}

#[test]
fn a_signature_swapped_between_two_items_is_rejected_and_both_named() {
    for scheme in SCHEMES {
        // Repeated messages too: items 3 and 9 sign the same message with different keys.
        for distinct in [24, 6] {
            let (b, _) = valid_batch(scheme, 24, distinct);
            let (s3, s9) = (b.checks()[3].signature, b.checks()[9].signature);
            let t = with_signature(&with_signature(&b, 3, s9), 9, s3);
            assert!(!t.verify(), "{scheme:?} distinct={distinct}");
            assert_eq!(t.invalid(), vec![3, 9], "{scheme:?} distinct={distinct}");
        }
    }
}

#[test]
fn signatures_of_the_other_scheme_are_rejected() {
    for scheme in SCHEMES {
        let other = if scheme == Scheme::Basic {
            Scheme::Legacy
        } else {
            Scheme::Basic
        };
        let (b, _) = valid_batch(other, 8, 8);
        let mut t = Batch::new(scheme);
        for c in b.checks() {
            t.push(c.public_key, c.msg, c.signature);
        }
        assert_eq!(t.invalid(), (0..8).collect::<Vec<_>>(), "{scheme:?}");
    }
}

#[test]
fn the_batch_names_exactly_the_checks_that_fail_one_by_one() {
    for scheme in SCHEMES {
        let (b, sks) = valid_batch(scheme, 20, 5);
        // Break a fixed, irregular set: wrong message, wrong key, another item's signature.
        let mut t = Batch::new(scheme);
        for (i, c) in b.checks().iter().enumerate() {
            match i {
                2 | 11 => t.push(c.public_key, c.msg, sks[i].sign(&[0xee; 32], scheme)),
                5 => t.push(sks[6].public_key(), c.msg, c.signature),
                17 => t.push(c.public_key, c.msg, b.checks()[12].signature),
                _ => t.push(c.public_key, c.msg, c.signature),
            };
        }
        let one_by_one: Vec<usize> = t
            .checks()
            .iter()
            .enumerate()
            .filter(|(_, c)| !bls::verify(&c.public_key, &c.msg, &c.signature, scheme))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(one_by_one, vec![2, 5, 11, 17]);
        assert_eq!(t.invalid(), one_by_one, "{scheme:?}");
    }
}

/// The commitments of a real qrinfo with their base heights, after feeding it to an engine
/// (which holds the lists member computation needs).
fn real(rel: &str, network: Network, protocol: u32) -> Option<(Engine, VectorHeaders, Jobs)> {
    let dir = common::vectors_dir()?;
    let headers = VectorHeaders::load(&dir, network.name());
    let q = QrInfo::from_bytes(&common::read_payload(&dir, rel), protocol).unwrap();
    let mut engine = Engine::new(EngineConfig::for_network(network));
    engine.feed_qrinfo(&q, &headers).unwrap();
    let jobs: Jobs = q
        .last_commitment_per_index
        .iter()
        .map(|c| {
            (
                Arc::new(c.clone()),
                headers.height_of(&c.quorum_hash).unwrap(),
            )
        })
        .collect();
    assert_eq!(jobs.len(), 32, "{rel}");
    Some((engine, headers, jobs))
}

/// Batched verdicts equal one-by-one verdicts, for the real commitments and for copies with
/// `quorumSig` swapped between two commitments and one `membersSig` from a third.
fn real_commitments_batch_like_one_by_one(rel: &str, network: Network, protocol: u32) {
    let Some((engine, headers, jobs)) = real(rel, network, protocol) else {
        return;
    };
    let cp = &engine.config().params;
    let one_by_one = |jobs: &[(Arc<FinalCommitment>, u32)]| -> Vec<Verdict> {
        jobs.iter()
            .map(|(c, h)| verify::verify_commitment(cp, c, *h, &headers, &engine))
            .collect()
    };
    let batched = |jobs: &[(Arc<FinalCommitment>, u32)]| {
        let mut cache = verify::MemberCache::default();
        verify::verify_commitments_batched(cp, jobs, &headers, &engine, &mut cache)
    };
    let (verdicts, stats) = batched(&jobs);
    assert!(
        verdicts.iter().all(|v| matches!(v, Verdict::Valid { .. })),
        "{rel}: {verdicts:?}"
    );
    assert_eq!(stats.signatures, 64, "{rel}");
    assert_eq!(
        stats.batches, 1,
        "{rel}: one multi-pairing for 64 signatures"
    );
    assert_eq!(
        stats.miller_loops, 33,
        "{rel}: one per commitment hash plus one"
    );
    let mut tampered = jobs.clone();
    let (a, b, m) = (4usize, 19usize, 27usize);
    let (qa, qb) = (jobs[a].0.quorum_sig, jobs[b].0.quorum_sig);
    Arc::make_mut(&mut tampered[a].0).quorum_sig = qb;
    Arc::make_mut(&mut tampered[b].0).quorum_sig = qa;
    Arc::make_mut(&mut tampered[m].0).members_sig = jobs[m + 1].0.members_sig;
    let (verdicts, stats) = batched(&tampered);
    assert!(stats.batches > 1, "{rel}: a failing batch is bisected");
    let reference = one_by_one(&tampered);
    for (i, (v, r)) in verdicts.iter().zip(&reference).enumerate() {
        let expected = match i {
            i if i == a || i == b => Some(QuorumFailure::QuorumSigInvalid),
            i if i == m => Some(QuorumFailure::MembersSigInvalid),
            _ => None,
        };
        match (v, r, expected.clone()) {
            (Verdict::Valid { .. }, Verdict::Valid { .. }, None) => {}
            (Verdict::Invalid(x), Verdict::Invalid(y), Some(e)) => {
                assert_eq!(*x, e, "{rel} #{i}");
                assert_eq!(*y, e, "{rel} #{i}");
            }
            _ => panic!("{rel} #{i}: batched {v:?}, one by one {r:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn real_mainnet_legacy_commitments_batch_like_one_by_one() {
    real_commitments_batch_like_one_by_one(
        "mainnet/qrinfo/qrinfo_mainnet_0_1739226_p70221.bin",
        Network::Mainnet,
        70221,
    );
}

#[test]
fn real_testnet_basic_commitments_batch_like_one_by_one() {
    real_commitments_batch_like_one_by_one(
        "testnet/qrinfo/qrinfo_testnet_0_905294_p70230.bin",
        Network::Testnet,
        70230,
    );
}
