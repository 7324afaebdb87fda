//! The one error type of the client API.

/// Kinds of error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorKind {
    /// The configuration cannot work.
    InvalidConfig,
    /// Invalid arguments to an API call (bad bytes, wrong sizes, nulls through the FFI).
    InvalidArgument,
    /// Network trouble (no peers, timeouts, disconnects).
    Network,
    /// A peer sent invalid data; it was disconnected and the data discarded.
    PeerMisbehaved,
    /// The host's store failed.
    Store,
    /// Stored state was unusable (corrupt, other version or network); a clean resync follows.
    CorruptState,
    /// A bug; please report it.
    Internal,
    /// A peer sent data of a newer protocol than this library reads (a structure version it
    /// does not know); the peer is not penalised. When no readable peer is left the sync stops
    /// in [`SyncState::UpdateRequired`](crate::SyncState::UpdateRequired): update the library.
    UnsupportedProtocol,
}

/// An error with its kind, a message, and whether the client recovers on its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ClientError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Human-readable detail.
    pub message: String,
    /// True when the client keeps going (retries, other peers, resync).
    pub recoverable: bool,
}

impl ClientError {
    /// Builds an error.
    pub fn new(kind: ErrorKind, message: impl Into<String>, recoverable: bool) -> ClientError {
        ClientError {
            kind,
            message: message.into(),
            recoverable,
        }
    }
}
