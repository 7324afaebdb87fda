//! The vocabulary of the client API: configuration, events and listener, errors, status and
//! lock verdicts. These are plain values with no dependency on the sync machinery; the sync
//! (the crate-private `sync` module) reports through them and [`crate::Client`] drives it. The C ABI and the
//! UniFFI bindings translate exactly these types (and nothing below them).

mod config;
mod error;
mod event;
mod masternodes;
mod status;

pub use crate::engine::{QuorumInfo, SyncProfile};
pub use crate::store::{MemoryStore, Store, StoreError};
pub use crate::wire::header::BlockHeader;
pub use config::{Checkpoint, Config, ResolvedStart, StartPoint, SyncStrategy};
pub use error::{ClientError, ErrorKind};
pub use event::{ChainLockEvent, EventListener, NoopListener, Progress, SyncState};
pub use masternodes::{
    AddressKind, AddressPurpose, MasternodeAddress, MasternodeBook, MasternodeEntry,
    MasternodeType, MasternodesChanged,
};
pub use status::{LockFailureReason, LockStatus, PhaseMark, Status};
