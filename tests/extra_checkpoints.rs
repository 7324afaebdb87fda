//! Host-supplied hash-only checkpoints (issue 24 item 3): a wallet team passes trusted hashes
//! newer than the built-in table in Rust, C and UniFFI; one that contradicts a checkpoint the
//! library knows is refused on every surface with the same message, and a saved state whose
//! headers contradict one added later is discarded instead of silently kept.
//!
//! Oracles: Dash Core v23.1.2's hash-only mainnet checkpoint at 2,421,800
//! (`src/chainparams.cpp`, `checkpointData`), and the simulated chain's own block hashes for the
//! plumbing of the restore path.

use dash_qrsync::bindings::ClientConfig;
use dash_qrsync::c_api::{self, dqs_result};
use dash_qrsync::{Config, ErrorKind, Hash256, Network};

mod common;

/// Core v23.1.2 `src/chainparams.cpp`, mainnet `checkpointData`: block 2,421,800 (display order).
const CORE_2421800: &str = "000000000000000718ed026ebd644a8b70b42d4cbd7b25304c066c9bf15f85b7";

#[test]
fn a_checkpoint_contradicting_a_known_one_is_refused_with_one_message_everywhere() {
    let core = Hash256::from_display_hex(CORE_2421800).unwrap();
    let wrong = Hash256([7; 32]);

    // Rust.
    let mut config = Config::new(Network::Mainnet);
    let e = config.add_extra_checkpoint(2_421_800, wrong).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidConfig);
    assert!(
        e.message.contains("2421800") && e.message.contains(CORE_2421800),
        "{}",
        e.message
    );
    assert!(
        config.extra_checkpoints.is_empty(),
        "config changed on error"
    );
    // Core's own hash is accepted, and then a second hash at that height is refused.
    config.add_extra_checkpoint(2_421_800, core).unwrap();
    config.add_extra_checkpoint(2_600_000, wrong).unwrap();
    let twice = config
        .add_extra_checkpoint(2_600_000, Hash256([8; 32]))
        .unwrap_err();
    assert!(
        twice
            .message
            .contains("two extra checkpoints at height 2600000"),
        "{}",
        twice.message
    );
    assert_eq!(config.extra_checkpoints.len(), 2);
    // A checkpoint set directly on the public field is checked by `validate` too.
    let mut direct = Config::new(Network::Mainnet);
    direct.use_dns_seeds = true;
    direct.validate().unwrap();
    direct
        .extra_checkpoints
        .push(dash_qrsync::chain::Checkpoint {
            height: 2_421_800,
            hash: wrong,
        });
    assert_eq!(direct.validate().unwrap_err().message, e.message);

    // C and UniFFI give the same refusal (tests/surface_parity.rs); here what only they have:
    // a hash of the wrong length is an argument error, a null configuration is refused.
    let mut c = std::ptr::null_mut();
    c_api::dqs_config_new(c_api::dqs_network::Mainnet as u32, &mut c);
    assert_eq!(
        c_api::dqs_config_add_checkpoint_hash(c, 2_421_800, core.0.as_ptr(), 31),
        dqs_result::ErrInvalidArgument
    );
    assert_eq!(
        c_api::dqs_config_add_checkpoint_hash(c, 2_421_800, core.0.as_ptr(), 32),
        dqs_result::Ok
    );
    assert_eq!(
        c_api::dqs_config_add_checkpoint_hash(std::ptr::null_mut(), 1, core.0.as_ptr(), 32),
        dqs_result::ErrNull
    );
    c_api::dqs_config_free(c);
    let u = ClientConfig::new(Network::Mainnet);
    u.add_checkpoint_hash(2_421_800, core.0.to_vec()).unwrap();
    assert!(u.add_checkpoint_hash(1, vec![0; 33]).is_err());
}

#[cfg(feature = "simnet")]
mod restore {
    use super::common::recorder::{synced, Recorder};
    use dash_qrsync::chain::Checkpoint;
    use dash_qrsync::simnet::server::Faults;
    use dash_qrsync::simnet::SimConfig;
    use dash_qrsync::store::MemoryStore;
    use dash_qrsync::{Client, Config, ErrorKind, Hash256, Store, SyncStrategy};
    use std::sync::Arc;
    use std::time::Duration;

    use super::common::simnet::Net;

    fn client(
        net: &Net,
        store: &Arc<MemoryStore>,
        extra: Option<Checkpoint>,
    ) -> (Client, Arc<Recorder>) {
        let mut c = Config::new(net.cfg.network());
        c.chain = net.cfg.params.clone();
        c.peers = net.servers.iter().map(|s| s.addr()).collect();
        c.strategy = SyncStrategy::QrInfo;
        c.request_timeout = Duration::from_secs(5);
        c.connect_timeout = Duration::from_secs(5);
        if let Some(x) = extra {
            c.add_extra_checkpoint(x.height, x.hash).unwrap();
        }
        let rec = Arc::new(Recorder::default());
        let store: Arc<dyn Store> = store.clone();
        (Client::new(c, store, rec.clone()).unwrap(), rec)
    }

    #[test]
    fn saved_headers_contradicting_a_checkpoint_added_later_are_discarded() {
        let net = Net::start(SimConfig::regtest(31), &[Faults::default()]);
        let store = Arc::new(MemoryStore::new());
        let h = net.node.with_chain(|c| c.tip_height()) / 2;
        let honest = net.node.with_chain(|c| c.block(h).unwrap().hash);

        // First run: a plain sync, saved to the host's store.
        let (first, rec) = client(&net, &store, None);
        first.start().unwrap();
        assert!(
            rec.wait_for(synced, Duration::from_secs(120)),
            "{:?}",
            rec.log.lock().unwrap().errors
        );
        first.stop();
        drop(first);

        // The host now trusts a different hash at h: the saved headers contradict it, so the
        // state is reported and not used (the chain restarts from its start).
        let (second, rec2) = client(
            &net,
            &store,
            Some(Checkpoint {
                height: h,
                hash: Hash256([9; 32]),
            }),
        );
        second.start().unwrap();
        let needle = format!("extra checkpoint at height {h}");
        assert!(
            rec2.wait_for(
                |l| l
                    .errors
                    .iter()
                    .any(|e| e.kind == ErrorKind::CorruptState && e.message.contains(&needle)),
                Duration::from_secs(60)
            ),
            "no CorruptState naming the checkpoint: {:?}",
            rec2.log.lock().unwrap().errors
        );
        assert_ne!(
            second.block_hash(h),
            Some(honest),
            "contradicting saved headers kept"
        );
        second.stop();
        drop(second);

        // With the honest hash the saved state is taken as it is: no CorruptState, synced, and
        // the chain passes through the checkpoint.
        let (third, rec3) = client(
            &net,
            &store,
            Some(Checkpoint {
                height: h,
                hash: honest,
            }),
        );
        third.start().unwrap();
        assert!(
            rec3.wait_for(synced, Duration::from_secs(120)),
            "{:?}",
            rec3.log.lock().unwrap().errors
        );
        assert_eq!(third.block_hash(h), Some(honest));
        let log = rec3.log.lock().unwrap();
        assert!(
            !log.errors.iter().any(|e| e.kind == ErrorKind::CorruptState),
            "{:?}",
            log.errors
        );
        drop(log);
        third.stop();
    }
}
