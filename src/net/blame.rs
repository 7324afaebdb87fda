//! How a failure is classified: the one place that decides whether a peer is banned or retried.
//!
//! Misbehaviour (invalid or oversized data, floods, answers that fail validation) bans the peer
//! for a back-off period; network trouble (timeouts, closes, a peer that stopped reading, a chain
//! that merely does not connect to ours, a block we do not know yet) is retried with the ordinary
//! network back-off. Data of a newer protocol than the library knows (a structure version it
//! cannot read) is never the peer's fault: no penalty, and the sync stops asking that peer.

use super::NetError;
use crate::chain::ChainError;
use crate::engine::EngineError;

/// What a failure costs the peer it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Penalty {
    /// Not the peer's fault (our view is behind); nothing recorded.
    None,
    /// Network trouble: disconnect, retry after the network back-off.
    Retry,
    /// Misbehaviour: disconnect and ban (a longer back-off; repeated bans end the address).
    Ban,
}

/// Classification of an error by the penalty it deserves.
pub trait Blame {
    /// The penalty for the peer that caused this.
    fn penalty(&self) -> Penalty;
}

impl Blame for NetError {
    fn penalty(&self) -> Penalty {
        match self {
            NetError::Misbehaved(..) => Penalty::Ban,
            // Newer than us is not misbehaviour (see `sync::peers::lost`).
            NetError::Unsupported(..) => Penalty::None,
            NetError::Connect(..)
            | NetError::Handshake(..)
            | NetError::Timeout(..)
            | NetError::Closed(..)
            | NetError::Stalled(..)
            | NetError::HeadersDoNotConnect { .. } => Penalty::Retry,
        }
    }
}

impl Blame for ChainError {
    fn penalty(&self) -> Penalty {
        match self {
            // A batch that does not connect (the peer is on a branch we have not seen, or
            // answered from a stale view) or that we cannot hold right now is not proof of
            // bad intent: retry, possibly elsewhere.
            ChainError::UnknownParent { .. }
            | ChainError::SideBranchLimit { .. }
            | ChainError::HeightOverflow => Penalty::Retry,
            _ => Penalty::Ban,
        }
    }
}

impl Blame for EngineError {
    fn penalty(&self) -> Penalty {
        match self {
            EngineError::UnknownBlock(_) | EngineError::UnknownBase(_) => Penalty::None,
            _ => Penalty::Ban,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashes::Hash256;

    #[test]
    fn unknown_parent_is_not_misbehaviour_but_bad_pow_is() {
        let h = Hash256([1; 32]);
        let unconnected = ChainError::UnknownParent { hash: h, prev: h };
        assert_eq!(unconnected.penalty(), Penalty::Retry);
        let bad = ChainError::HighHash {
            height: 5,
            hash: h,
            bits: 0x207f_ffff,
        };
        assert_eq!(bad.penalty(), Penalty::Ban);
        assert_eq!(EngineError::UnknownBase(h).penalty(), Penalty::None);
        let conn = crate::net::ConnId {
            addr: "127.0.0.1:1".parse().unwrap(),
            id: 1,
        };
        let newer = NetError::Unsupported(
            conn,
            "mnlistdiff".into(),
            crate::wire::UnsupportedVersion {
                structure: "SML entry",
                version: 4,
                newest_known: 3,
            },
        );
        assert_eq!(newer.penalty(), Penalty::None);
        assert_eq!(
            EngineError::MalformedQrInfo("x".into()).penalty(),
            Penalty::Ban
        );
    }
}
