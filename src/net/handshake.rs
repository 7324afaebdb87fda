//! The version handshake on a fresh [`Connection`]: our `version`, theirs, a `verack` each way,
//! all within the connect timeout. A peer older than protocol 70000, a second `version` or a
//! close ends it; other messages before the `verack` are ignored.

use super::connection::Connection;
use super::{NetError, PeerConfig};
use crate::wire::message::{services, Message, NetAddress, VersionMessage};
use std::net::SocketAddr;

/// The oldest protocol version a peer may speak.
const MIN_PEER_VERSION: i32 = 70000;

/// Performs the handshake within `cfg.connect_timeout`; returns the peer's `version`.
pub(super) async fn handshake(
    conn: &mut Connection,
    cfg: &PeerConfig,
) -> Result<VersionMessage, NetError> {
    let addr = conn.id().addr;
    let ours = our_version(addr, cfg);
    match tokio::time::timeout(cfg.connect_timeout, exchange(conn, cfg, ours)).await {
        Ok(r) => r,
        Err(_) => Err(NetError::Handshake(addr, "timed out".into())),
    }
}

/// The protocol version both sides speak: the lower of theirs and ours.
pub(super) fn negotiated(theirs: &VersionMessage, ours: u32) -> u32 {
    (theirs.version as u32).min(ours)
}

/// Sends `ours`, then reads until the peer's `version` and `verack` both arrived (answering its
/// `version` with our `verack`).
async fn exchange(
    conn: &mut Connection,
    cfg: &PeerConfig,
    ours: VersionMessage,
) -> Result<VersionMessage, NetError> {
    let addr = conn.id().addr;
    conn.write_message(&Message::Version(ours), cfg.protocol_version)
        .await
        .map_err(|e| NetError::Handshake(addr, e.to_string()))?;
    let mut theirs: Option<VersionMessage> = None;
    let mut got_verack = false;
    while theirs.is_none() || !got_verack {
        let p = theirs.as_ref().map_or(cfg.protocol_version, |v| {
            negotiated(v, cfg.protocol_version)
        });
        match conn.read_message(p).await {
            Ok(Message::Version(v)) => {
                if theirs.is_some() {
                    return Err(NetError::Misbehaved(conn.id(), "duplicate version".into()));
                }
                if v.version < MIN_PEER_VERSION {
                    return Err(NetError::Handshake(
                        addr,
                        format!("protocol version {} is too old", v.version),
                    ));
                }
                let p = negotiated(&v, cfg.protocol_version);
                conn.write_message(&Message::Verack, p)
                    .await
                    .map_err(|e| NetError::Handshake(addr, e.to_string()))?;
                theirs = Some(v);
            }
            Ok(Message::Verack) => got_verack = true,
            Ok(_) => {}
            Err(NetError::Closed(_, why)) => return Err(NetError::Handshake(addr, why)),
            Err(e) => return Err(e),
        }
    }
    Ok(theirs.expect("loop ends with a version"))
}

/// Our `version` to `addr`: no services, no transaction relay, our best height.
fn our_version(addr: SocketAddr, cfg: &PeerConfig) -> VersionMessage {
    VersionMessage {
        version: cfg.protocol_version as i32,
        services: 0,
        timestamp: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
        addr_recv: NetAddress {
            services: services::NODE_NETWORK,
            ip: match addr.ip() {
                std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
                std::net::IpAddr::V6(v6) => v6.octets(),
            },
            port: addr.port(),
        },
        addr_from: NetAddress {
            services: 0,
            ip: [0; 16],
            port: 0,
        },
        nonce: rand_nonce(),
        user_agent: format!("/dash-qrsync:{}/", crate::VERSION),
        start_height: cfg.start_height,
        relay: Some(false),
        mnauth_challenge: Some([0; 32]),
        masternode_connection: Some(false),
    }
}

fn rand_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish()
}
