//! Counters shared by all peers of a client: bytes, messages, round trips, and the request
//! [`Generations`] from which the dependent round trips are counted; [`InFlight`] counts one
//! request while it waits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Counters shared by all peers of a client.
#[derive(Debug, Default)]
pub struct NetCounters {
    /// Bytes received.
    pub bytes_in: AtomicU64,
    /// Bytes sent.
    pub bytes_out: AtomicU64,
    /// Messages received.
    pub messages_in: AtomicU64,
    /// Messages sent.
    pub messages_out: AtomicU64,
    /// Requests that waited on an answer.
    pub round_trips: AtomicU64,
    /// Requests currently waiting.
    pub in_flight: AtomicU64,
    /// Round trips that had to follow each other: the highest request generation so far
    /// ([`Generations`]; requests of one generation count once however they overlap in time).
    pub dependent_round_trips: AtomicU64,
    /// Unsolicited messages received (before reduction to notices).
    pub unsolicited_in: AtomicU64,
    /// Notices dropped because the channel to the sync was full.
    pub notices_dropped: AtomicU64,
    /// Bytes currently buffered by the frame decoders of all connections.
    pub bytes_buffered: AtomicU64,
    /// The most bytes the frame decoders of all connections buffered at once.
    pub bytes_buffered_peak: AtomicU64,
    /// Request generations, from which [`NetCounters::dependent_round_trips`] is computed.
    pub generations: Mutex<Generations>,
}

/// Request generations by causality, so that the count of dependent round trips is a property
/// of what each request waited for, not of how the machine scheduled the tasks.
///
/// A request's generation is one more than the highest generation among the answers its
/// issuing task had already received when it sent the request (zero if none). A task
/// *receives* an answer when a request it sent resolves (answered or failed), wherever that
/// request's future is awaited; a task that has not sent anything yet starts from what the
/// root task (the sync's own task, see [`NetCounters::claim_generation_root`]) knows from its
/// own answers, and the root takes in the answers of other tasks when it next sends. So requests
/// sent together, before any of their answers was awaited, are one generation however their
/// answers overlap in time, and a request sent after waiting for an answer is one later.
/// [`NetCounters::dependent_round_trips`] is the highest generation sent.
///
/// The sync keeps its side of this: it sends a wave's requests before awaiting any of them.
#[derive(Debug, Default)]
pub struct Generations {
    root: Option<Option<tokio::task::Id>>,
    /// What the root knows from its own answers (and those it has taken in).
    root_own: u64,
    /// The highest generation received by other tasks, taken in by the root when it sends.
    others: u64,
    /// What each other task knows.
    tasks: HashMap<tokio::task::Id, u64>,
}

/// Tasks other than the root remembered at most (range fetchers); older ones are forgotten.
const MAX_GENERATION_TASKS: usize = 4096;

impl Generations {
    /// The generation of a request sent now by the current task.
    fn send(&mut self) -> (Option<tokio::task::Id>, u64) {
        let me = tokio::task::try_id();
        let root = *self.root.get_or_insert(me);
        let known = if root == me {
            self.root_own = self.root_own.max(self.others);
            self.root_own
        } else {
            match me {
                Some(id) => {
                    if self.tasks.len() >= MAX_GENERATION_TASKS && !self.tasks.contains_key(&id) {
                        self.tasks.clear();
                    }
                    *self.tasks.entry(id).or_insert(self.root_own)
                }
                None => self.root_own,
            }
        };
        (me, known + 1)
    }

    /// A request sent by `task` in generation `generation` resolved.
    fn received(&mut self, task: Option<tokio::task::Id>, generation: u64) {
        if self.root == Some(task) {
            self.root_own = self.root_own.max(generation);
            return;
        }
        self.others = self.others.max(generation);
        if let Some(id) = task {
            if let Some(k) = self.tasks.get_mut(&id) {
                *k = (*k).max(generation);
            }
        }
    }
}

impl NetCounters {
    /// Makes the calling task the root of the request generations ([`Generations`]): the
    /// sync's own task, which chooses what to ask from the answers of every other task.
    /// Without it the first task that sends a request is the root.
    pub fn claim_generation_root(&self) {
        let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        g.root = Some(tokio::task::try_id());
    }

    /// Moves [`NetCounters::bytes_buffered`] (and its peak) from `old` to `new` bytes.
    pub(super) fn buffered_delta(&self, old: usize, new: usize) {
        if new >= old {
            let now = self
                .bytes_buffered
                .fetch_add((new - old) as u64, Ordering::Relaxed)
                + (new - old) as u64;
            self.bytes_buffered_peak.fetch_max(now, Ordering::Relaxed);
        } else {
            self.bytes_buffered
                .fetch_sub((old - new) as u64, Ordering::Relaxed);
        }
    }
}

/// One request in flight: counted when started, uncounted when its future ends or is dropped.
pub(super) struct InFlight {
    counters: Arc<NetCounters>,
    /// The sending task and the request's generation ([`Generations`]).
    sender: Option<tokio::task::Id>,
    pub(super) generation: u64,
}

impl InFlight {
    pub(super) fn start(counters: &Arc<NetCounters>) -> InFlight {
        counters.round_trips.fetch_add(1, Ordering::Relaxed);
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        let (sender, generation) = counters
            .generations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send();
        counters
            .dependent_round_trips
            .fetch_max(generation, Ordering::Relaxed);
        InFlight {
            counters: counters.clone(),
            sender,
            generation,
        }
    }

    /// The request resolved: its sender has received a generation-`generation` answer.
    pub(super) fn resolved(&self) {
        self.counters
            .generations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .received(self.sender, self.generation);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
