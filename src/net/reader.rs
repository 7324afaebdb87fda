//! The reader task of one connection, as a struct ([`Reader`]): the demux loop that takes each
//! frame off the wire and
//! - hands an answer to the request waiting for it (`matching.rs`);
//! - drops a large answer (`mnlistdiff`, `qrinfo`) nothing waits for undecoded, charged by its
//!   bytes (a late answer still finds its timed-out request's waiter);
//! - answers a `ping` (charged too);
//! - charges everything else, known or not (a newer peer's command is ignored, never an error),
//!   against the connection's [`Budget`], and reduces it to a [`Notice`] for the sync (block and
//!   ChainLock announcements, `clsig`s, headers that answer nothing), dropped when the notice
//!   channel is full.
//!
//! The loop ends on the first error (a close, invalid data, a flood, a header that fails its own
//! proof of work); the reason is kept on the connection and [`Notice::Closed`] is sent.

use super::connection::{decode, MessageReader};
use super::matching::ConnState;
use super::{ConnId, NetCounters, NetError, MAX_CLSIG_INV};
use crate::hashes::Hash256;
use crate::network::Network;
use crate::wire::frame::RawMessage;
use crate::wire::locks::ClSig;
use crate::wire::message::{inv_type, Command, Inventory, Message};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// How much unsolicited traffic a peer may send: token buckets of messages and bytes, each
/// with a burst and a refill per second. A light client that asked for no transaction relay
/// gets a few announcements per block; anything far above that is a flood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Messages allowed at once.
    pub burst_messages: u32,
    /// Messages added per second.
    pub messages_per_sec: u32,
    /// Bytes allowed at once.
    pub burst_bytes: u32,
    /// Bytes added per second.
    pub bytes_per_sec: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            burst_messages: 500,
            messages_per_sec: 50,
            burst_bytes: 1 << 20,
            bytes_per_sec: 64 * 1024,
        }
    }
}

/// The token buckets of one connection, with what it spent since it opened (for the reason).
pub(super) struct Buckets {
    budget: Budget,
    messages: f64,
    bytes: f64,
    at: Instant,
    spent_messages: u64,
    spent_bytes: u64,
    since: Instant,
}

impl Buckets {
    /// Full buckets.
    pub(super) fn new(budget: Budget) -> Buckets {
        let now = Instant::now();
        Buckets {
            budget,
            messages: budget.burst_messages as f64,
            bytes: budget.burst_bytes as f64,
            at: now,
            spent_messages: 0,
            spent_bytes: 0,
            since: now,
        }
    }

    /// Charges one unsolicited message of `len` payload bytes; `Err` names the overrun.
    fn charge(&mut self, command: &Command, len: usize) -> Result<(), String> {
        let now = Instant::now();
        let dt = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        let b = self.budget;
        self.messages =
            (self.messages + dt * b.messages_per_sec as f64).min(b.burst_messages as f64);
        self.bytes = (self.bytes + dt * b.bytes_per_sec as f64).min(b.burst_bytes as f64);
        self.messages -= 1.0;
        self.bytes -= len as f64;
        self.spent_messages += 1;
        self.spent_bytes += len as u64;
        if self.messages < 0.0 || self.bytes < 0.0 {
            return Err(format!(
                "unsolicited flood: {} messages / {} bytes in {:.1} s (last: {command} of {len} \
                 bytes), budget {} messages + {}/s, {} bytes + {}/s",
                self.spent_messages,
                self.spent_bytes,
                now.duration_since(self.since).as_secs_f64(),
                b.burst_messages,
                b.messages_per_sec,
                b.burst_bytes,
                b.bytes_per_sec
            ));
        }
        Ok(())
    }
}

/// What the sync is told about unsolicited traffic; each is small and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A new block was announced by an `inv`: the announced block's hash (the last one of the
    /// `inv`), so that a block already held costs nothing.
    NewBlock(Hash256),
    /// `headers` that answer no request (an announcement, or a late answer): what the sync
    /// checks before they may cause any request — whether the first links to a block it holds
    /// and how far above that block the last claims to be. The last header's hash met the
    /// target of its own bits (checked in the reader; a header that does not is misbehaviour).
    Headers {
        /// The first header's previous block.
        prev: Hash256,
        /// The last header's hash.
        last: Hash256,
        /// The last header's compact target.
        bits: u32,
        /// Headers in the message.
        count: usize,
    },
    /// ChainLocks were announced (at most [`MAX_CLSIG_INV`] entries).
    ClSigInv(Vec<Inventory>),
    /// A `clsig` arrived.
    ClSig(ClSig),
    /// The connection closed; its reason is in [`super::Peer::close_reason`].
    Closed,
}

/// A notice from one connection.
#[derive(Debug)]
pub struct Unsolicited {
    /// Which connection.
    pub conn: ConnId,
    /// What happened.
    pub notice: Notice,
}

/// Reduces an unsolicited message to what the sync uses (`None`: ignored).
fn notice_of(m: Message) -> Option<Notice> {
    match m {
        Message::Inv(items) => {
            let mut cls: Vec<Inventory> = items
                .iter()
                .filter(|i| i.inv_type == inv_type::MSG_CLSIG)
                .rev()
                .take(MAX_CLSIG_INV)
                .cloned()
                .collect();
            cls.reverse();
            if !cls.is_empty() {
                Some(Notice::ClSigInv(cls))
            } else {
                items
                    .iter()
                    .rev()
                    .find(|i| i.inv_type == inv_type::MSG_BLOCK)
                    .map(|b| Notice::NewBlock(b.hash))
            }
        }
        // One X11 for the last header, whatever the message's size.
        Message::Headers(hs) => Some(Notice::Headers {
            prev: hs.first()?.prev_block_hash,
            last: hs.last()?.block_hash(),
            bits: hs.last()?.bits,
            count: hs.len(),
        }),
        // Decompression already hashed every header.
        Message::Headers2(b) => Some(Notice::Headers {
            prev: b.headers.first()?.prev_block_hash,
            last: b
                .hashes
                .last()
                .copied()
                .unwrap_or_else(|| b.headers.last().map_or(Hash256::ZERO, |h| h.block_hash())),
            bits: b.headers.last()?.bits,
            count: b.headers.len(),
        }),
        Message::ClSig(cl) => Some(Notice::ClSig(cl)),
        _ => None,
    }
}

/// The demux of one connection's incoming messages (see the module docs); [`Reader::run`] is
/// the reader task.
pub(super) struct Reader {
    /// The connection's shared state (waiting requests, close reason).
    pub(super) state: Arc<ConnState>,
    /// Counters of all peers.
    pub(super) counters: Arc<NetCounters>,
    /// The writer queue (for `pong`s).
    pub(super) out: mpsc::Sender<Message>,
    /// Where notices go.
    pub(super) notices: mpsc::Sender<Unsolicited>,
    /// The unsolicited traffic spent.
    pub(super) budget: Buckets,
    /// The network (for the proof of work of announced headers).
    pub(super) network: Network,
    /// The negotiated protocol version.
    pub(super) version: u32,
}

impl Reader {
    /// Reads from `frames` until the first error, then closes the connection with it.
    pub(super) async fn run(mut self, mut frames: MessageReader) {
        let reason = loop {
            let taken = match frames.read_raw().await {
                Ok(raw) => self.take(raw),
                Err(e) => Err(e),
            };
            if let Err(e) = taken {
                break e;
            }
        };
        // The decoder's buffered bytes are uncounted before the close is seen.
        drop(frames);
        self.state.fail(reason);
        let _ = self.notices.try_send(Unsolicited {
            conn: self.id(),
            notice: Notice::Closed,
        });
    }

    fn id(&self) -> ConnId {
        self.state.id()
    }

    /// Takes one frame: an answer, a `ping`, or unsolicited traffic.
    fn take(&mut self, raw: RawMessage) -> Result<(), NetError> {
        let len = raw.payload.len();
        let command = Command::from_name(&raw.command);
        if matches!(command, Command::MnListDiff | Command::QrInfo)
            && !self.state.awaits_large(&command)
        {
            // Unasked-for large answer (a late answer still finds its timed-out request's
            // waiter): dropped undecoded, charged by its bytes.
            self.counters.unsolicited_in.fetch_add(1, Ordering::Relaxed);
            return self.charge(&command, len);
        }
        let m = decode(&raw, self.version, self.id())?;
        drop(raw);
        if let Message::Ping(n) = m {
            self.charge(&command, len)?;
            // A full writer queue means the peer is not reading; the writer's timeout closes
            // the connection, so the pong is simply dropped.
            let _ = self.out.try_send(Message::Pong(n));
            return Ok(());
        }
        match self.state.answer(m) {
            None => Ok(()),
            Some(m) => self.unsolicited(m, &command, len),
        }
    }

    /// Charges an unsolicited message and sends its notice, if it has one.
    fn unsolicited(&mut self, m: Message, command: &Command, len: usize) -> Result<(), NetError> {
        self.counters.unsolicited_in.fetch_add(1, Ordering::Relaxed);
        // Everything unasked-for is charged by its bytes: headers announcements and late or
        // stale headers answers too (a full answer is a fraction of the burst), so junk headers
        // cost their sender its budget.
        self.charge(command, len)?;
        let Some(notice) = notice_of(m) else {
            return Ok(());
        };
        if let Notice::Headers { last, bits, .. } = &notice {
            self.check_announced_work(last, *bits)?;
        }
        self.notify(notice)
    }

    /// The one cheap check that proves a header wrong on its own: its hash (computed anyway)
    /// must meet the target its own bits state.
    fn check_announced_work(&self, last: &Hash256, bits: u32) -> Result<(), NetError> {
        crate::chain::pow::check_proof_of_work(last, bits, self.network).map_err(|e| {
            NetError::Misbehaved(
                self.id(),
                format!(
                    "unsolicited headers: announced header {last} does not meet its own target \
                     (bits {bits:#010x}): {e}"
                ),
            )
        })
    }

    /// Sends `notice` to the sync; a full channel drops it, a closed one ends the connection.
    fn notify(&self, notice: Notice) -> Result<(), NetError> {
        let conn = self.id();
        match self.notices.try_send(Unsolicited { conn, notice }) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters
                    .notices_dropped
                    .fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                Err(NetError::Closed(conn, "client stopping".into()))
            }
        }
    }

    /// Charges one unsolicited message of `len` payload bytes against the budget.
    fn charge(&mut self, command: &Command, len: usize) -> Result<(), NetError> {
        let id = self.id();
        self.budget
            .charge(command, len)
            .map_err(|why| NetError::Misbehaved(id, why))
    }
}
