//! Peers over TCP: connect, handshake, framing, request/response matching with timeouts, byte
//! and round-trip counters. One reader task and one writer task per peer; answers are matched to
//! waiting requests, announcements go to the sync as small [`Notice`]s.
//!
//! The layers of one peer, innermost first:
//! - `connection.rs`: a [`connection::Connection`] is one TCP stream speaking whole messages
//!   (`read_message`/`write_message`, frame limits, byte counters); it splits into a read half
//!   and a write half for the two tasks.
//! - `handshake.rs`: `version`/`verack` within the connect timeout, the negotiated version.
//! - `matching.rs`: what a request waits for ([`Expect`]) and the state a connection's handle
//!   and tasks share: the waiting requests, the close reason.
//! - `reader.rs`: the demux loop as a struct: answers to their requests, pings answered,
//!   everything unsolicited charged against the [`Budget`] and reduced to [`Notice`]s.
//! - `writer.rs`: the writer task, every write bounded by the I/O timeout.
//! - `peer.rs`: the [`Peer`] handle: connect (the above in order), send, request.
//! - `counters.rs`: [`NetCounters`] and the request [`Generations`]; `blame.rs`: [`Penalty`].
//!
//! Commands are typed ([`crate::wire::message::Command`]); a command the library does not know
//! (a newer peer's) is unsolicited traffic like any other: charged by its bytes, never an error.
//!
//! Budgets (issue 14): every queue is bounded and every wait has a deadline.
//! - The writer queue holds [`WRITE_QUEUE`] messages; a write that does not complete within the
//!   connection's I/O timeout means the peer stopped reading: the connection is closed as
//!   [`NetError::Stalled`].
//! - A request's timeout covers queueing it, writing it and waiting for the answer.
//! - Unsolicited traffic is reduced in the reader to what the sync uses (block and ChainLock
//!   announcements, `clsig`s) and sent on a bounded channel ([`NOTICE_QUEUE`]); when it is full
//!   the notice is dropped (the sync re-checks periodically). A peer whose unsolicited traffic
//!   exceeds [`Budget`] (messages and bytes per second, with a burst) is closed as misbehaving
//!   with a reason naming what it sent.
//! - Each connection has its own id; its close reason is kept on the connection and handed to
//!   every request waiting on it, so the real reason (not "closed") reaches the sync.

pub mod blame;
mod connection;
mod counters;
mod handshake;
mod matching;
mod peer;
mod reader;
mod writer;

pub use blame::{Blame, Penalty};
// `Generations` is the type of a public field of `NetCounters`; nothing outside names it yet.
#[allow(unused_imports)]
pub use counters::Generations;
pub use counters::NetCounters;
pub use matching::Expect;
pub use peer::Peer;
pub use reader::{Budget, Notice, Unsolicited};

use crate::hashes::Hash256;
use crate::network::Network;
use std::net::SocketAddr;
use std::time::Duration;

/// Messages the writer queue of one connection holds.
pub const WRITE_QUEUE: usize = 64;
/// Notices the channel from all connections to the sync holds.
pub const NOTICE_QUEUE: usize = 256;
/// ChainLock inventory entries kept from one `inv` (the newest few are all the sync needs).
pub const MAX_CLSIG_INV: usize = 8;

/// One connection: its address and a process-wide unique id (a reconnect to the same address
/// gets a new id, so nothing about an old connection can touch a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    /// The peer's address.
    pub addr: SocketAddr,
    /// Unique per connection (0 before the handshake completed).
    pub id: u64,
}

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.addr)
    }
}

/// Why talking to a peer failed. How the sync reacts is decided by [`Blame::penalty`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// TCP connect failed or timed out.
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddr, String),
    /// The handshake did not complete (timeout, closed, too old a version).
    #[error("handshake with {0} failed: {1}")]
    Handshake(SocketAddr, String),
    /// The peer did not answer in time (the time includes queueing and writing the request).
    #[error("{0} did not answer {1} in time")]
    Timeout(ConnId, &'static str),
    /// The connection closed (by the peer, or an I/O error), with the reason.
    #[error("connection to {0} closed: {1}")]
    Closed(ConnId, String),
    /// The peer stopped reading: a write did not complete within the I/O timeout.
    #[error("{0} stopped reading: {1}")]
    Stalled(ConnId, String),
    /// The peer sent bytes that are not a valid message, or more than its budget.
    #[error("{0} sent invalid data: {1}")]
    Misbehaved(ConnId, String),
    /// No answer to a `getheaders` continued its locator, but the peer did send headers while
    /// it was waited for: they start on a chain we do not have (another network or devnet, or
    /// a branch we never saw). Reported in place of [`NetError::Timeout`].
    #[error(
        "headers from {conn} do not connect to our chain: first header's previous block {prev}, \
         our tip {tip}"
    )]
    HeadersDoNotConnect {
        /// The connection.
        conn: ConnId,
        /// The previous-block hash of the first header the peer sent.
        prev: Hash256,
        /// The newest block of the locator we sent (our tip, or the last header requested).
        tip: Hash256,
    },
    /// The peer sent a message (the command) with a structure of a version newer than this
    /// library knows: it speaks a newer protocol, which is no fault of its own.
    #[error("{0} sent a {1} this library cannot read: {2}")]
    Unsupported(ConnId, String, crate::wire::UnsupportedVersion),
}

impl NetError {
    /// The peer's address.
    pub fn addr(&self) -> SocketAddr {
        match self {
            NetError::Connect(a, _) | NetError::Handshake(a, _) => *a,
            NetError::Timeout(c, _)
            | NetError::Closed(c, _)
            | NetError::Stalled(c, _)
            | NetError::Misbehaved(c, _)
            | NetError::HeadersDoNotConnect { conn: c, .. }
            | NetError::Unsupported(c, ..) => c.addr,
        }
    }

    /// The connection it happened on (`None` before a connection existed).
    pub fn conn(&self) -> Option<ConnId> {
        match self {
            NetError::Connect(..) | NetError::Handshake(..) => None,
            NetError::Timeout(c, _)
            | NetError::Closed(c, _)
            | NetError::Stalled(c, _)
            | NetError::Misbehaved(c, _)
            | NetError::HeadersDoNotConnect { conn: c, .. }
            | NetError::Unsupported(c, ..) => Some(*c),
        }
    }
}

/// Settings for one connection.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Network magic.
    pub network: Network,
    /// Our protocol version.
    pub protocol_version: u32,
    /// Connect + handshake timeout.
    pub connect_timeout: Duration,
    /// The longest one write may take; a peer that does not take our bytes for this long is
    /// dead ([`NetError::Stalled`]).
    pub io_timeout: Duration,
    /// Our best height, advertised in `version`.
    pub start_height: i32,
    /// Budget for unsolicited traffic.
    pub budget: Budget,
}

#[cfg(test)]
mod tests;
