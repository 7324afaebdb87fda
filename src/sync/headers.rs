//! Header sync from the best peer.

use super::*;

/// Downloads headers until the best peer has nothing newer.
pub(super) async fn sync_headers(sh: &Arc<Shared>, peers: &mut Peers) -> Result<(), PassError> {
    loop {
        ensure_peers(sh, peers).await?;
        let Some(peer) = peers
            .list
            .iter()
            .filter(|p| !p.is_closed())
            .min_by_key(|p| (peers.failures_of(&p.addr), -(p.start_height as i64)))
            .cloned()
        else {
            return Err(PassError::NoPeers);
        };
        let locator = sh.with_state(|s| s.headers.locator());
        let (msg, expect) = peer.get_headers_msg(locator);
        match peer.request(msg, expect, sh.config.request_timeout).await {
            Ok(Message::Headers(hs) | Message::Headers2(hs)) => {
                let n = hs.len();
                if n == 0 {
                    return Ok(());
                }
                let r = sh.with_state_mut(|s| {
                    let out = s.headers.connect(&hs)?;
                    if let Some(reorg) = &out.reorg {
                        s.engine.rewind_to(reorg.fork_height);
                    }
                    Ok::<_, crate::chain::ChainError>(out)
                });
                match r {
                    Ok(out) => {
                        sh.target.fetch_max(out.tip_height, Ordering::Relaxed);
                        sh.progress();
                        if n < peer.max_headers_per_message() {
                            return Ok(());
                        }
                    }
                    Err(e) if e.penalty() == Penalty::Ban => {
                        misbehaved(sh, peers, peer.addr, format!("invalid headers: {e}"))
                    }
                    Err(e) => lost(
                        sh,
                        peers,
                        &NetError::Closed(peer.conn_id(), format!("headers not usable: {e}")),
                    ),
                }
            }
            Ok(_) => {}
            Err(e) => lost(sh, peers, &e),
        }
        if sh.stopping() {
            return Err(PassError::Stopped);
        }
    }
}
