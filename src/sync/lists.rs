//! Masternode lists and quorums: the cold-start wave, `getqrinfo`, the missing lists.

use super::*;

/// Whether an engine error blames the peer (invalid data) or our own view (unknown block); the
/// classification itself is [`Blame::penalty`].
pub(super) fn blames_peer(e: &EngineError) -> bool {
    e.penalty() == Penalty::Ban
}

use super::declined::{MNLISTD_ATTEMPTS, QRINFO_ATTEMPTS};

/// One `getqrinfo` for the tip with the held lists as bases. `Ok(false)` when no peer answered
/// (Core answers nothing it cannot build): reported once as an error naming the request, and
/// not asked again for the same tip.
pub(super) async fn fetch_qrinfo(sh: &Arc<Shared>, peers: &mut Peers) -> Result<bool, PassError> {
    let tip = sh.with_state(|s| s.headers.tip());
    let declined = sh
        .declined
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .qrinfo_declined(tip.1);
    if declined {
        return Ok(false);
    }
    for _attempt in 0..QRINFO_ATTEMPTS {
        ensure_peers(sh, peers).await?;
        let Some(peer) = peers.pick(crate::wire::version::MIN_MNLIST_SYNC_VERSION) else {
            return Ok(false);
        };
        let bases = if sh.config.strategy == SyncStrategy::SequentialFromGenesis {
            0
        } else {
            MAX_QRINFO_BASES
        };
        let req = sh.with_state(|s| {
            let tip = s.headers.tip().1;
            s.engine.qrinfo_request(tip, bases)
        });
        match peer
            .request(
                Message::GetQrInfo(req),
                Expect::QrInfo,
                sh.config.request_timeout,
            )
            .await
        {
            Ok(Message::QrInfo(q)) => match feed_qrinfo_placing(sh, peers, peer.addr, &q).await? {
                Fed::Yes => {
                    sh.progress();
                    return Ok(true);
                }
                Fed::PeerBanned => {}
                // The peer is ahead of our headers: catch up and retry.
                Fed::NotYet => sync_headers(sh, peers).await?,
            },
            Ok(_) => {}
            Err(e) => lost(sh, peers, &e),
        }
    }
    sh.declined
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .decline_qrinfo(tip.1);
    sh.error(
        ErrorKind::Network,
        format!(
            "no peer answered getqrinfo for block {} (height {}) in {QRINFO_ATTEMPTS} attempts of {} s: \
             a node that cannot build it (no quorum snapshots) sends nothing; rotated quorums \
             stay unvalidated until a peer answers (retried when the tip moves)",
            tip.1,
            tip.0,
            sh.config.request_timeout.as_secs_f64()
        ),
        true,
    );
    Ok(false)
}

/// One `getmnlistd` with retries on other peers; feeds the answer.
pub(super) fn fetch_diff(
    sh: &Shared,
    peer: &Peer,
    req: GetMnListDiff,
) -> impl std::future::Future<Output = (SocketAddr, Result<Message, NetError>, GetMnListDiff)>
       + Send
       + 'static {
    // Started now (see `Peer::request`), awaited by the caller or a task.
    let answer = peer.request(
        Message::GetMnListD(req.clone()),
        Expect::MnListDiff(req.block_hash),
        sh.config.request_timeout,
    );
    let addr = peer.addr;
    async move { (addr, answer.await, req) }
}

/// Whether the `getmnlistd` for `block` was declined at the current tip.
fn declined_diff(sh: &Shared, block: &Hash256) -> bool {
    let tip = sh.with_state(|s| s.headers.tip().1);
    sh.declined
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .mnlistd_declined(tip, block)
}

/// Handles a failed `getmnlistd`: the failure is classified as every failure is ([`lost`]),
/// and an unanswered one counts towards the request being declined for this tip, which is
/// reported once, naming the block.
fn diff_failed(sh: &Shared, peers: &mut Peers, req: &GetMnListDiff, e: &NetError) {
    lost(sh, peers, e);
    if !matches!(e, NetError::Timeout(..)) {
        return;
    }
    let (tip, height) =
        sh.with_state(|s| (s.headers.tip().1, s.headers.height_of(&req.block_hash)));
    let newly = sh
        .declined
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .mnlistd_timed_out(tip, req.block_hash);
    tracing::debug!(block = %req.block_hash, ?height, declined = newly, "getmnlistd unanswered");
    if newly {
        sh.error(
            ErrorKind::Network,
            format!(
                "no peer answered getmnlistd for block {} (height {}) in {MNLISTD_ATTEMPTS} \
                 attempts of {} s: a node that cannot build that list sends nothing; what needs \
                 it stays unvalidated (not asked again until the tip moves)",
                req.block_hash,
                height.map_or_else(|| "unknown".to_string(), |h| h.to_string()),
                sh.config.request_timeout.as_secs_f64()
            ),
            true,
        );
    }
}

/// Fetches what the engine still lacks, in parallel across peers (or one at a time for the
/// sequential strategy), until nothing is missing.
pub(super) async fn fetch_missing(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    for _round in 0..MAX_MISSING_ROUNDS {
        // Blocks before the header chain's start that active quorums need: their headers.
        backfill(sh, peers, None).await?;
        let (missing, reqs) = sh.with_state(|s| {
            let m = s.engine.missing(&s.headers);
            let r = if sh.config.strategy == SyncStrategy::SequentialFromGenesis {
                s.engine.mnlistdiff_requests_from_genesis(&m, &s.headers)
            } else {
                s.engine.mnlistdiff_requests(&m, &s.headers)
            };
            (m, r)
        });
        if missing.is_empty() {
            return Ok(());
        }
        let mut reqs = reqs;
        reqs.retain(|r| !declined_diff(sh, &r.block_hash));
        if !missing.snapshot_heights.is_empty() && reqs.is_empty() {
            // Only a qrinfo delivers rotation snapshots.
            if !fetch_qrinfo(sh, peers).await? {
                return Ok(());
            }
            continue;
        }
        if reqs.is_empty() {
            return Ok(());
        }
        ensure_peers(sh, peers).await?;
        let mut answers = Vec::new();
        if sh.config.strategy != SyncStrategy::QrInfo {
            for req in reqs {
                let Some(peer) = peers.pick(crate::wire::version::MIN_MNLIST_SYNC_VERSION) else {
                    return Err(PassError::NoPeers);
                };
                answers.push(fetch_diff(sh, &peer, req).await);
                if sh.stopping() {
                    return Err(PassError::Stopped);
                }
            }
        } else {
            // The whole round is sent before any answer is awaited (one generation, see
            // `net::Generations`), then awaited in parallel.
            let mut sent = Vec::new();
            for req in reqs {
                let Some(peer) = peers.pick(crate::wire::version::MIN_MNLIST_SYNC_VERSION) else {
                    return Err(PassError::NoPeers);
                };
                sent.push(fetch_diff(sh, &peer, req));
            }
            let mut set = tokio::task::JoinSet::new();
            for f in sent {
                set.spawn(f);
            }
            while let Some(r) = set.join_next().await {
                if let Ok(a) = r {
                    answers.push(a);
                }
            }
        }
        // Feed in ascending height order (each against a base held before this round).
        let mut diffs = Vec::new();
        for (addr, r, req) in answers {
            match r {
                Ok(Message::MnListDiff(d)) => diffs.push((addr, d, req)),
                Ok(_) => {}
                Err(e) => diff_failed(sh, peers, &req, &e),
            }
        }
        diffs.sort_by_key(|(_, d, _)| sh.with_state(|s| s.headers.height_of(&d.block_hash)));
        for (addr, d, _) in diffs {
            feed_diff(sh, peers, addr, &d);
        }
        sh.progress();
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
    }
    Ok(())
}

/// One `getmnlistd` to any usable peer, fed to the engine; invalid answers ban the peer.
pub(super) async fn fetch_and_feed(
    sh: &Arc<Shared>,
    peers: &mut Peers,
    req: GetMnListDiff,
) -> Result<(), PassError> {
    if declined_diff(sh, &req.block_hash) {
        return Ok(());
    }
    ensure_peers(sh, peers).await?;
    let Some(peer) = peers.pick(crate::wire::version::MIN_MNLIST_SYNC_VERSION) else {
        return Ok(());
    };
    let (addr, r, req) = fetch_diff(sh, &peer, req).await;
    match r {
        Ok(Message::MnListDiff(d)) => feed_diff(sh, peers, addr, &d),
        Ok(_) => {}
        Err(e) => diff_failed(sh, peers, &req, &e),
    }
    Ok(())
}

/// A cold start in one wave (QrInfo strategy, nothing held): the `getqrinfo` for the tip and the
/// predicted lists go out together, spread over the peers, and are fed in dependency order.
/// Whatever the prediction missed (or a failed answer left out) is fetched afterwards by
/// [`fetch_missing`]; if the qrinfo did not land, it is asked for again on its own.
pub(super) async fn cold_start(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    ensure_peers(sh, peers).await?;
    let plan = sh.with_state(|s| {
        let (h, t) = s.headers.tip();
        s.engine.cold_start_plan(&s.headers, h, t)
    });
    let min = crate::wire::version::MIN_MNLIST_SYNC_VERSION;
    let timeout = sh.config.request_timeout;
    // The chain first, so its answers arrive (and are fed, overlapping the CPU with the rest of
    // the transfer) while the qrinfo, which is fed last, is still on its way.
    // The whole wave is sent before any answer is awaited, so that it is one generation of
    // requests however fast the answers come back (`net::Generations`).
    let mut sent = Vec::new();
    for req in plan.diffs.iter().cloned() {
        let Some(peer) = peers.pick(min) else {
            return Err(PassError::NoPeers);
        };
        sent.push(fetch_diff(sh, &peer, req));
    }
    let Some(qr_peer) = peers.pick(min) else {
        return Err(PassError::NoPeers);
    };
    let qr_answer = qr_peer.request(
        Message::GetQrInfo(plan.qrinfo.clone()),
        Expect::QrInfo,
        timeout,
    );
    let mut set = tokio::task::JoinSet::new();
    for f in sent {
        set.spawn(f);
    }
    let qr_task = {
        let addr = qr_peer.addr;
        tokio::spawn(async move { (addr, qr_answer.await) })
    };
    // Feed the chain in order as its links arrive (each diff's base is the previous one); a
    // link that failed is skipped, and what it breaks is fetched again by `fetch_missing`.
    let position: HashMap<Hash256, usize> = plan
        .diffs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.block_hash, i))
        .collect();
    let mut ready: std::collections::BTreeMap<usize, Option<(SocketAddr, Box<MnListDiff>)>> =
        std::collections::BTreeMap::new();
    let mut next = 0usize;
    while let Some(r) = set.join_next().await {
        let Ok((addr, answer, req)) = r else {
            continue;
        };
        let at = position.get(&req.block_hash).copied().unwrap_or(usize::MAX);
        let item = match answer {
            Ok(Message::MnListDiff(d)) => Some((addr, d)),
            Ok(_) => None,
            Err(e) => {
                diff_failed(sh, peers, &req, &e);
                None
            }
        };
        ready.insert(at, item);
        while let Some(item) = ready.remove(&next) {
            if let Some((addr, d)) = item {
                feed_diff(sh, peers, addr, &d);
            }
            next += 1;
        }
    }
    // Links after a lost task: feed what arrived, in order.
    for (addr, d) in ready.into_values().flatten() {
        feed_diff(sh, peers, addr, &d);
    }
    let qrinfo = match qr_task.await {
        Ok((addr, Ok(Message::QrInfo(q)))) => Some((addr, q)),
        Ok((_, Err(e))) => {
            lost(sh, peers, &e);
            None
        }
        _ => None,
    };
    let qrinfo_fed = match qrinfo {
        Some((addr, q)) => feed_qrinfo_placing(sh, peers, addr, &q).await? == Fed::Yes,
        None => false,
    };
    sh.progress();
    if sh.stopping() {
        return Err(PassError::Stopped);
    }
    if !qrinfo_fed && !fetch_qrinfo(sh, peers).await? {
        // Declined: the tip list by a plain diff, so that a network without rotated quorums
        // (e.g. a regtest node with no masternodes) still syncs.
        fetch_tip_list(sh, peers).await?;
    }
    Ok(())
}

/// The list at the header tip by one `getmnlistd` from the newest held list.
pub(super) async fn fetch_tip_list(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    let (tip_hash, base) = sh.with_state(|s| {
        (
            s.headers.tip().1,
            s.engine.tip_list().map_or(Hash256::ZERO, |l| l.block_hash),
        )
    });
    if base == tip_hash {
        return Ok(());
    }
    fetch_and_feed(
        sh,
        peers,
        GetMnListDiff {
            base_block_hash: base,
            block_hash: tip_hash,
        },
    )
    .await
}

/// What became of an answer fed to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fed {
    /// Stored (and its quorums reported).
    Yes,
    /// Invalid: the peer was banned.
    PeerBanned,
    /// It names a block or base we do not have yet: not the peer's fault.
    NotYet,
}

/// Feeds one answered qrinfo; invalid data bans the peer.
pub(super) fn feed_qrinfo(sh: &Shared, peers: &mut Peers, addr: SocketAddr, q: &QrInfo) -> Fed {
    let t = Instant::now();
    match sh.with_state_mut(|s| s.engine.feed_qrinfo(q, &s.headers)) {
        Ok(out) => {
            tracing::debug!(
                quorums = out.quorums_validated.len(),
                bls = out.bls_verifications,
                ms = t.elapsed().as_secs_f64() * 1000.0,
                "qrinfo fed"
            );
            sh.report_quorums(&out.quorums_validated);
            Fed::Yes
        }
        Err(e) if blames_peer(&e) => {
            misbehaved(sh, peers, addr, format!("invalid qrinfo: {e}"));
            Fed::PeerBanned
        }
        Err(_) => Fed::NotYet,
    }
}

/// Feeds one answered diff; invalid data bans the peer, a missing base is left for later.
pub(super) fn feed_diff(sh: &Shared, peers: &mut Peers, addr: SocketAddr, d: &MnListDiff) {
    let t = Instant::now();
    match sh.with_state_mut(|s| s.engine.feed_mnlistdiff(d, &s.headers)) {
        Ok(out) => {
            tracing::debug!(
                block = %d.block_hash,
                entries = d.mn_list.len(),
                quorums = out.quorums_validated.len(),
                bls = out.bls_verifications,
                ms = t.elapsed().as_secs_f64() * 1000.0,
                "mnlistdiff fed"
            );
            sh.report_quorums(&out.quorums_validated)
        }
        Err(e) if blames_peer(&e) => {
            misbehaved(sh, peers, addr, format!("invalid mnlistdiff: {e}"))
        }
        Err(_) => {}
    }
}

/// Brings the engine to the header tip: a `getqrinfo` on a cold start (the full list by
/// `getmnlistd` for the sequential baseline), otherwise one diff from the newest held list;
/// then whatever is still missing (which asks for a `getqrinfo` when a new rotation cycle
/// needs snapshots).
pub(super) async fn sync_lists(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    let (tip_hash, held_tip) =
        sh.with_state(|s| (s.headers.tip().1, s.engine.tip_list().map(|l| l.block_hash)));
    match held_tip {
        Some(t) if t == tip_hash => {}
        Some(base) => {
            let req = GetMnListDiff {
                base_block_hash: base,
                block_hash: tip_hash,
            };
            fetch_and_feed(sh, peers, req).await?;
        }
        None if sh.config.strategy != SyncStrategy::QrInfo => {
            // Baseline: the full list at the tip first, one request at a time afterwards.
            let req = GetMnListDiff {
                base_block_hash: Hash256::ZERO,
                block_hash: tip_hash,
            };
            fetch_and_feed(sh, peers, req).await?;
        }
        None => cold_start(sh, peers).await?,
    }
    fetch_missing(sh, peers).await
}
