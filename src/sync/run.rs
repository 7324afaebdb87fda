//! The run loop: restore, sync passes, persistence, following the tip.

use super::*;
use crate::chain::ChainLockPlacement;

/// Loads saved state from the host's store; bad state is reported and replaced by a clean start.
pub(super) async fn restore(sh: &Arc<Shared>) {
    let store = sh.store.clone();
    let cfg = sh.with_state(|s| s.engine.config().clone());
    let r =
        tokio::task::spawn_blocking(move || crate::store::state::load(store.as_ref(), &cfg)).await;
    match r {
        Ok(Ok((saved, warning))) => {
            if let Some(w) = warning {
                sh.error(
                    ErrorKind::CorruptState,
                    format!("newest saved state skipped: {w}"),
                    true,
                );
            }
            let start_ok = sh.config.accepts_saved_chain(&saved.headers);
            if !start_ok {
                sh.error(
                    ErrorKind::CorruptState,
                    "saved state starts at another checkpoint; resyncing",
                    true,
                );
                return;
            }
            if let Some(h) = sh.config.saved_chain_contradicts_extra(&saved.headers) {
                sh.error(
                    ErrorKind::CorruptState,
                    format!(
                        "saved headers contradict the configured extra checkpoint at height {h}; \
                         resyncing"
                    ),
                    true,
                );
                return;
            }
            // Checkpoints added since the state was saved bind the restored chain too.
            let mut saved = saved;
            for c in &sh.config.extra_checkpoints {
                saved.headers = saved.headers.with_required_checkpoint(*c);
            }
            let restored: Vec<_> = saved
                .engine
                .held_lists()
                .last()
                .map(|_| {
                    let tip = saved.engine.tip_list().cloned();
                    tip.map(|t| {
                        t.quorums
                            .keys()
                            .filter_map(|k| saved.engine.quorum(k.0, &k.1).map(|q| q.info.clone()))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
                })
                .unwrap_or_default();
            sh.with_state_mut(|s| {
                s.headers = saved.headers;
                s.engine = saved.engine;
            });
            sh.report_quorums(&restored);
            sh.progress();
        }
        Ok(Err(crate::store::state::StateError::Empty)) => {}
        Ok(Err(crate::store::state::StateError::Store(e))) => sh.error(
            ErrorKind::Store,
            format!("cannot load saved state: {e}; syncing from scratch"),
            true,
        ),
        Ok(Err(e)) => sh.error(
            ErrorKind::CorruptState,
            format!("{e}; syncing from scratch"),
            true,
        ),
        // Cancelled by a stop (the runtime shut down under it): not a failure.
        Err(e) if e.is_cancelled() || sh.stopping() => {}
        Err(_) => sh.error(ErrorKind::Internal, "state loading task failed", true),
    }
}

/// The client's state as the save reads it: briefly, once to plan and once per header segment
/// written, never copied whole (`store::state::save_state`).
struct LiveState(Arc<Shared>);

impl crate::store::state::StateSource for LiveState {
    fn with_state(&self, f: &mut dyn FnMut(&crate::chain::HeaderChain, &crate::engine::Engine)) {
        // Headers below the anchor are not saved, so neither are the lists at those blocks (a
        // saved list must be on the saved chain); they are fetched again if still needed.
        self.0.with_state(|s| {
            let anchor = s.headers.anchor_height();
            if s.engine
                .held_lists()
                .first()
                .is_some_and(|(h, _)| *h < anchor)
            {
                f(&s.headers, &s.engine.without_lists_below(anchor))
            } else {
                f(&s.headers, &s.engine)
            }
        })
    }
    fn with_headers(&self, f: &mut dyn FnMut(&crate::chain::HeaderChain)) {
        self.0.with_state(|s| f(&s.headers))
    }
}

/// Saves the current state through the host's store (on a blocking thread).
pub(super) async fn persist(sh: &Arc<Shared>) {
    let store = sh.store.clone();
    let live = LiveState(sh.clone());
    let r =
        tokio::task::spawn_blocking(move || crate::store::state::save_state(store.as_ref(), &live))
            .await;
    match r {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => sh.error(ErrorKind::Store, format!("cannot save state: {e}"), true),
        Err(e) if e.is_cancelled() || sh.stopping() => {}
        Err(_) => sh.error(ErrorKind::Internal, "state saving task failed", true),
    }
}

pub(super) fn synced(sh: &Shared) -> bool {
    sh.with_state(|s| {
        s.engine.tip_list().map(|l| l.block_hash) == Some(s.headers.tip().1)
            && s.engine.missing(&s.headers).is_empty()
    })
}

/// Why the client is not synced, with the state that says so: a peer showed blocks above the
/// header tip that no answer brought (headers), or the lists trail the headers or miss what
/// the active quorums need (lists). `None` when synced.
pub(super) fn lag(sh: &Shared, peers: &Peers) -> Option<(SyncState, String)> {
    let tip = sh.with_state(|s| s.headers.tip().0);
    if peers.behind(tip) {
        return Some((
            SyncState::Headers,
            format!("peers announced blocks above the header tip {tip} that no peer served yet"),
        ));
    }
    if synced(sh) {
        return None;
    }
    let list = sh.with_state(|s| s.engine.tip_list().map(|l| l.height));
    Some((
        SyncState::MasternodeLists,
        match list {
            Some(h) if h < tip => {
                format!("masternode lists trail the headers (list at {h}, headers at {tip})")
            }
            _ => format!("lists needed by the active quorums at {tip} are missing"),
        },
    ))
}

/// How far above the header tip an unsolicited ChainLock may be and still be looked at (a
/// lock may overtake its block's announcement by a block; one further ahead is cheap to forge
/// and triggers nothing — its blocks' announcements will).
pub(super) const MAX_CLSIG_AHEAD: u32 = 1;

/// What handling a ChainLock led to.
pub(super) enum ClOutcome {
    /// Valid and its block is on the active chain (reported once); `moved` when the chain
    /// switched to it.
    Verified {
        /// The active chain switched branches to hold the locked block.
        moved: bool,
    },
    /// Valid for a block whose headers are not held yet: handled again after the next pass.
    Later,
    /// Not decidable (the list or quorum it needs is not held): a pass may fetch what is
    /// missing only for a lock of the tip or the block after it.
    Unverifiable,
    /// Invalid: its sender misbehaved.
    Invalid(crate::engine::LockFailure),
}

/// Verifies a ChainLock (its signature, whatever block our chain holds at that height) and,
/// when valid, pins the header chain to its block as Core does: a lock for a block of another
/// branch switches to that branch (fetching its headers first when they are not held), never
/// blaming the sender. Reports each lock once, when its block is on the active chain.
pub(super) fn handle_clsig(sh: &Shared, cl: &ClSig, seen: &mut HashMap<u32, Hash256>) -> ClOutcome {
    let v = sh.with_state(|s| s.engine.verify_clsig_signature(cl));
    match v {
        LockVerdict::Valid { .. } => {}
        LockVerdict::CannotVerify(_) => return ClOutcome::Unverifiable,
        LockVerdict::Invalid(f) => return ClOutcome::Invalid(f),
    }
    let h = cl.height.max(0) as u32;
    let (placement, on_chain) = sh.with_state_mut(|s| {
        let p = s.headers.apply_chain_lock(h, cl.block_hash);
        if let ChainLockPlacement::Switched(r) = &p {
            s.engine.rewind_to(r.fork_height);
        }
        (p, s.headers.hash_at(h) == Some(cl.block_hash))
    });
    tracing::debug!(height = h, block = %cl.block_hash, ?placement, on_chain, "ChainLock placed");
    let moved = matches!(placement, ChainLockPlacement::Switched(_));
    if moved {
        tracing::info!(height = h, block = %cl.block_hash, "ChainLock moved the chain to its branch");
    }
    if !on_chain {
        return match placement {
            // A lower lock off our chain, or one that conflicts with a higher pin: ignored.
            ChainLockPlacement::ConflictsWithPin => ClOutcome::Verified { moved: false },
            ChainLockPlacement::NotNewer
                if sh.with_state(|s| s.headers.chain_lock().is_some_and(|(ph, _)| ph > h)) =>
            {
                ClOutcome::Verified { moved: false }
            }
            _ => ClOutcome::Later,
        };
    }
    if seen.insert(h, cl.block_hash) != Some(cl.block_hash) {
        sh.events.emit(Event::ChainLock(ChainLockEvent {
            height: h,
            block_hash: cl.block_hash,
        }));
    }
    ClOutcome::Verified { moved }
}

pub(super) async fn run(sh: Arc<Shared>) {
    let (tx, rx) = mpsc::channel::<Unsolicited>(crate::net::NOTICE_QUEUE);
    let mut peers = Peers {
        list: Vec::new(),
        failures: HashMap::new(),
        bans: HashMap::new(),
        handled: HashSet::new(),
        next: 0,
        tx,
        rx,
        new_block: false,
        clsigs: Vec::new(),
        newer: HashMap::new(),
        prefer: None,
        shown: HashMap::new(),
        refuted: HashSet::new(),
        junk: HashMap::new(),
        announced_pass: HashMap::new(),
        deferred: None,
        deferred_for: HashSet::new(),
    };
    let mut chainlocks: HashMap<u32, Hash256> = HashMap::new();
    let mut pending_clsig: Option<ClSig> = None;
    let mut saved_tip: Option<(Hash256, Hash256)> = None;
    // This task chooses the requests: the root of the request generations (net::Generations).
    sh.counters.claim_generation_root();
    restore(&sh).await;
    sh.set_state(SyncState::Connecting);
    loop {
        // One pass: headers, then lists, until synced.
        peers.new_block = false;
        let pass = async {
            ensure_peers(&sh, &mut peers).await?;
            if sh.state() != SyncState::Synced {
                sh.set_state(SyncState::Headers);
            }
            sync_headers(&sh, &mut peers).await?;
            if sh.state() != SyncState::Synced {
                sh.mark_list_phase();
                sh.set_state(SyncState::MasternodeLists);
            }
            sync_lists(&sh, &mut peers).await?;
            Ok::<(), PassError>(())
        };
        match pass.await {
            Err(PassError::Stopped) => return,
            Err(PassError::NoPeers) => {
                sh.error(ErrorKind::Network, "no usable peer", true);
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Err(PassError::AllBanned(why)) => {
                let reasons: Vec<&str> = peers.bans.values().map(|b| b.1.as_str()).collect();
                let advice = match probable_misconfiguration(&reasons) {
                    Some((check, param)) => format!(
                        "every peer failed the same check ({check}): a probable configuration \
                         error rather than bad peers; check {param}"
                    ),
                    None => "configure other peers".to_string(),
                };
                sh.error(
                    ErrorKind::PeerMisbehaved,
                    format!(
                        "every peer was banned {MAX_BANS} times ({why}); sync stopped: {advice}"
                    ),
                    false,
                );
                sh.set_state(SyncState::Stopped);
                return;
            }
            Err(PassError::UpdateRequired(what)) => {
                sh.error(
                    ErrorKind::UnsupportedProtocol,
                    format!(
                        "no peer left that this library can read; the network speaks a newer \
                         protocol ({what}); sync stopped: update dash-qrsync (validated data \
                         so far is kept and still answers lock checks)"
                    ),
                    false,
                );
                sh.set_state(SyncState::UpdateRequired);
                return;
            }
            Ok(()) => {}
        }
        let now = sh.with_state(|s| {
            (
                s.headers.tip().1,
                s.engine.tip_list().map_or(Hash256::ZERO, |l| l.block_hash),
            )
        });
        if synced(&sh) {
            sh.with_state_mut(|s| s.engine.prune_to_needs());
        }
        if saved_tip != Some(now) {
            persist(&sh).await;
            saved_tip = Some(now);
        }
        let behind = lag(&sh, &peers);
        if behind.is_none() {
            sh.set_state(SyncState::Synced);
            sh.progress();
            if let Some(cl) = pending_clsig.take() {
                match handle_clsig(&sh, &cl, &mut chainlocks) {
                    ClOutcome::Later | ClOutcome::Unverifiable => pending_clsig = Some(cl),
                    // The chain moved to the locked branch: its lists next.
                    ClOutcome::Verified { moved: true } => peers.new_block = true,
                    _ => {}
                }
            }
            if !sh.config.follow_tip {
                return;
            }
        } else {
            if sh.state() == SyncState::Synced {
                // Behind: not Synced until caught up, and the host is told why.
                let (state, why) = behind.unwrap_or((SyncState::Headers, String::new()));
                sh.set_state(state);
                sh.error(ErrorKind::Network, format!("left Synced: {why}"), true);
            }
            sh.progress();
        }
        // Wait for something to do: an announcement, a lock, or a periodic re-check. Notices
        // that arrived during the pass were already noted by `drain`.
        let mut need_pass = std::mem::take(&mut peers.new_block);
        while !need_pass {
            if sh.stopping() {
                return;
            }
            for (conn, cl) in std::mem::take(&mut peers.clsigs) {
                match handle_clsig(&sh, &cl, &mut chainlocks) {
                    ClOutcome::Verified { moved: false } => {}
                    ClOutcome::Verified { moved: true } => need_pass = true,
                    outcome @ (ClOutcome::Later | ClOutcome::Unverifiable) => {
                        let tip = sh.with_state(|s| s.headers.tip().0);
                        let h = cl.height.max(0) as u32;
                        let plausible = match outcome {
                            // Valid: its block is real, its sender has the headers.
                            ClOutcome::Later => true,
                            // Only a lock of the tip or the next block may make a pass fetch
                            // what verifying it needs (the list at its height − 8).
                            _ => h >= tip && h <= tip.saturating_add(MAX_CLSIG_AHEAD),
                        };
                        // One pass per lock: the same lock again causes nothing.
                        let again = pending_clsig.as_ref().is_some_and(|p| *p == cl);
                        if !plausible || again {
                            tracing::debug!(height = h, tip, "unverifiable ChainLock ignored");
                            continue;
                        }
                        // Its sender has what is missing (at least the locked block's headers).
                        peers.prefer = Some(conn.addr);
                        pending_clsig = Some(cl);
                        need_pass = true;
                    }
                    ClOutcome::Invalid(f) => {
                        misbehaved(&sh, &mut peers, conn.addr, format!("invalid clsig: {f}"))
                    }
                }
            }
            if need_pass {
                break;
            }
            // A deferred announcement's pass is due at the end of its interval.
            let wait = peers.deferred.map_or(Duration::from_secs(5), |due| {
                due.saturating_duration_since(Instant::now())
                    .min(Duration::from_secs(5))
            });
            let next = tokio::time::timeout(wait, peers.rx.recv()).await;
            if peers.deferred.is_some_and(|due| Instant::now() >= due) {
                // Only if still needed: a pass since may have brought the announced block.
                deferred_pass_started(&mut peers);
                if let Ok(Some(u)) = next {
                    note(&sh, &mut peers, u);
                    drain(&sh, &mut peers);
                }
                need_pass = std::mem::take(&mut peers.new_block) || lag(&sh, &peers).is_some();
                continue;
            }
            let Ok(Some(u)) = next else {
                // Periodic: top up peers; re-run a pass if not synced.
                refill(&sh, &mut peers).await;
                need_pass = lag(&sh, &peers).is_some();
                continue;
            };
            note(&sh, &mut peers, u);
            drain(&sh, &mut peers);
            need_pass = std::mem::take(&mut peers.new_block);
        }
    }
}

/// When every banned peer's last ban was for the same validation check, and that check
/// depends on this client's chain parameters, the check and the parameter to look at. Honest
/// peers that all fail one rule point at our rules (e.g. `llmqtestparams` left out for a
/// network that sets it), not at the peers. Framing, flooding and other faults are not
/// configuration: `None`.
fn probable_misconfiguration(reasons: &[&str]) -> Option<(&'static str, String)> {
    let mut first: Option<(&'static str, String)> = None;
    for r in reasons {
        let c = config_check(r)?;
        match &first {
            None => first = Some(c),
            Some(f) if *f == c => {}
            Some(_) => return None,
        }
    }
    first
}

/// The configuration-dependent check a ban reason names, with the parameter it depends on.
fn config_check(reason: &str) -> Option<(&'static str, String)> {
    // Quorum checks: the size, threshold and types of each LLMQ come from the parameters.
    const QUORUM: [(&str, &str); 8] = [
        (
            "is not configured for this network",
            "LLMQ type not configured",
        ),
        ("bitset sizes", "quorum size"),
        ("valid members, minimum", "quorum minimum size"),
        ("does not match base height", "quorum index"),
        ("is not enabled at the base block", "LLMQ type activation"),
        ("membersSig does not verify", "quorum members' signature"),
        ("bits set beyond the", "quorum members"),
        ("commitment version", "commitment version"),
    ];
    if let Some((_, check)) = QUORUM.iter().find(|(k, _)| reason.contains(k)) {
        let param = match quorum_type_in(reason) {
            Some(100) => "llmqtestparams (quorum type 100)".to_string(),
            Some(104) => "llmqtestinstantsendparams (quorum type 104)".to_string(),
            Some(106) => "llmqtestplatformparams (quorum type 106)".to_string(),
            Some(101) => "llmqdevnetparams (quorum type 101)".to_string(),
            Some(t) => format!(
                "the LLMQ parameters of quorum type {t} (llmqtestparams, llmqdevnetparams, \
                 llmqchainlocks, llmqinstantsenddip0024 ...) and the network"
            ),
            None => "the network's LLMQ parameters (llmqtestparams, llmqdevnetparams ...)".into(),
        };
        return Some((check, param));
    }
    const ACTIVATION: [(&str, &str); 4] = [
        ("not allowed at height", "CbTx version for the height"),
        ("masternode list root mismatch", "masternode list root"),
        ("quorum root mismatch", "quorum root"),
        ("does not match block height", "CbTx height"),
    ];
    if let Some((_, check)) = ACTIVATION.iter().find(|(k, _)| reason.contains(k)) {
        return Some((
            check,
            "the activation heights (testactivationheight=v20@…, mn_rr@…, dip3params) and \
             LLMQ parameters"
                .into(),
        ));
    }
    const HEADERS: [(&str, &str); 4] = [
        ("are not a valid target", "header difficulty"),
        ("hash above target", "header proof of work"),
        (", required 0x", "header difficulty"),
        ("at checkpoint height", "checkpoint"),
    ];
    if let Some((_, check)) = HEADERS.iter().find(|(k, _)| reason.contains(k)) {
        return Some((
            check,
            "the network and its chain (mainnet/testnet/regtest/devnet name, \
             minimumdifficultyblocks, checkpoints)"
                .into(),
        ));
    }
    None
}

/// The `N` of "quorum type N" in an engine error.
fn quorum_type_in(reason: &str) -> Option<u8> {
    let at = reason.find("quorum type ")? + "quorum type ".len();
    let digits: String = reason[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod misconfiguration_tests {
    use super::*;

    #[test]
    fn the_same_parameter_dependent_check_on_every_peer_names_the_parameter() {
        let a = "invalid mnlistdiff: quorum type 100 00ab is invalid: bitset sizes 4/4, expected 3";
        let b = "invalid qrinfo: quorum type 100 00cd is invalid: bitset sizes 4/4, expected 3";
        let (check, param) = probable_misconfiguration(&[a, b]).unwrap();
        assert_eq!(check, "quorum size");
        assert!(param.starts_with("llmqtestparams"), "{param}");
        // Different checks, or a fault that is not about rules: no guess.
        let c = "invalid mnlistdiff: CbTx version 3 not allowed at height 50";
        assert_eq!(probable_misconfiguration(&[a, c]), None);
        assert_eq!(
            probable_misconfiguration(&[a, "bad checksum [de, ad, be, ef]"]),
            None
        );
        assert_eq!(probable_misconfiguration(&[]), None);
        assert!(probable_misconfiguration(&[c])
            .unwrap()
            .1
            .contains("testactivationheight"));
    }
}
