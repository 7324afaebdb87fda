//! ChainLocks on real testnet data (§9.1): the clsig for block 905775 (dashj's
//! ChainLocksHandlerTest) against the LLMQ_50_60 active set of the full list at 905762 (no
//! mining window lies between 905762 and 905767 = 905775 − 8, so that set is the signing set).

mod common;

use common::headers::VectorHeaders;
use dash_qrsync::chain::HeaderIndex;
use dash_qrsync::engine::{select_non_rotated_quorum, Engine, EngineConfig, LockVerdict};
use dash_qrsync::hashes::Hash256;
use dash_qrsync::quorum::bls::{self, PublicKey, Scheme, Signature};
use dash_qrsync::quorum::verify;
use dash_qrsync::wire::locks::ClSig;
use dash_qrsync::wire::mnlistdiff::MnListDiff;
use dash_qrsync::wire::Decode;
use dash_qrsync::Network;

fn setup() -> Option<(Engine, VectorHeaders, ClSig)> {
    let dir = common::vectors_dir()?;
    let headers = VectorHeaders::load(&dir, "testnet");
    let diff = MnListDiff::from_bytes(
        &common::read_payload(
            &dir,
            "testnet/mnlistdiff/mnlistdiff_testnet_0_905762_p70230.bin",
        ),
        70230,
    )
    .unwrap();
    let mut engine = Engine::new(EngineConfig::for_network(Network::Testnet));
    engine.feed_mnlistdiff(&diff, &headers).unwrap();
    let clsig = ClSig::from_bytes(
        &common::read_payload(&dir, "testnet/locks/clsig_testnet_905775.bin"),
        70230,
    )
    .unwrap();
    Some((engine, headers, clsig))
}

#[test]
fn real_clsig_is_signed_by_the_quorum_the_rules_select() {
    let Some((engine, headers, clsig)) = setup() else {
        return;
    };
    assert_eq!(clsig.height, 905_775);
    assert_eq!(headers.hash_at(905_775), Some(clsig.block_hash));
    let list = engine.list_at_height(905_762).unwrap();
    let cl_type = engine.config().llmq().chainlocks;
    assert_eq!(cl_type, 1);
    assert_eq!(list.quorums_of_type(cl_type).count(), 24);
    let selected = select_non_rotated_quorum(list, cl_type, &clsig.request_id()).unwrap();
    let sig = Signature::from_bytes(&clsig.signature, Scheme::Basic).unwrap();
    let mut verifying = Vec::new();
    for c in list.quorums_of_type(cl_type) {
        // Every candidate's own quorumSig is genuine, so its key is the quorum's key.
        verify::verify_quorum_sig(c).unwrap();
        let pk = PublicKey::from_bytes(&c.quorum_public_key, Scheme::Basic).unwrap();
        let msg = clsig.sign_hash(cl_type, &c.quorum_hash);
        if bls::verify(&pk, &msg.0, &sig, Scheme::Basic) {
            verifying.push(c.quorum_hash);
        }
    }
    // Exactly one quorum's key verifies the lock, and it is the one selection picks.
    assert_eq!(verifying, vec![selected]);
    // The signature is over this block: another block hash does not verify.
    let c = list.quorums.get(&(cl_type, selected)).unwrap();
    let pk = PublicKey::from_bytes(&c.quorum_public_key, Scheme::Basic).unwrap();
    let mut other = clsig.clone();
    other.block_hash = Hash256([7; 32]);
    assert!(!bls::verify(
        &pk,
        &other.sign_hash(cl_type, &selected).0,
        &sig,
        Scheme::Basic
    ));
}

#[test]
fn engine_will_not_vouch_for_a_lock_whose_quorum_it_has_not_validated() {
    let Some((engine, headers, clsig)) = setup() else {
        return;
    };
    // The selected quorum's members need the list at its base − 8, which the vectors lack,
    // so the engine says it cannot verify rather than trusting an unvalidated key.
    match engine.verify_clsig(&clsig, &headers) {
        LockVerdict::CannotVerify(why) => assert!(why.contains("not validated"), "{why}"),
        v => panic!("expected CannotVerify, got {v:?}"),
    }
    // A lock for a different block at a height our chain has is a conflict.
    let mut forged = clsig.clone();
    forged.block_hash = headers.hash_at(905_774).unwrap();
    assert!(matches!(
        engine.verify_clsig(&forged, &headers),
        LockVerdict::Invalid(_)
    ));
}
