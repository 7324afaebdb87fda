//! Request/answer matching: what a request waits for ([`Expect`]), and the state one
//! connection's handle and its two tasks share ([`ConnState`]): the waiting requests, the close
//! flag and reason, the last headers that continued nothing asked for.

use super::{ConnId, NetError};
use crate::hashes::Hash256;
use crate::wire::message::{Command, Message};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// What answer a request waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A `headers`/`headers2` answer to a `getheaders` with this locator: empty, or starting
    /// right after one of the locator's blocks. An announcement that does not continue the
    /// locator is not taken as the answer.
    Headers(Vec<Hash256>),
    /// The `mnlistdiff` for this block.
    MnListDiff(Hash256),
    /// A `qrinfo`.
    QrInfo,
    /// A `pong` with this nonce (the connection tests' round trip).
    #[cfg_attr(not(test), allow(dead_code))]
    Pong(u64),
}

impl Expect {
    /// Whether `m` is the answer this request waits for.
    pub fn matches(&self, m: &Message) -> bool {
        match (self, m) {
            (Expect::Headers(locator), m @ (Message::Headers(_) | Message::Headers2(_))) => m
                .headers()
                .and_then(|hs| hs.first())
                .is_none_or(|h| locator.contains(&h.prev_block_hash)),
            (Expect::MnListDiff(h), Message::MnListDiff(d)) => d.block_hash == *h,
            (Expect::QrInfo, Message::QrInfo(_)) => true,
            (Expect::Pong(n), Message::Pong(p)) => n == p,
            _ => false,
        }
    }

    /// The command of the request that waits.
    pub(super) fn request(&self) -> Command {
        match self {
            Expect::Headers(_) => Command::GetHeaders,
            Expect::MnListDiff(_) => Command::GetMnListD,
            Expect::QrInfo => Command::GetQrInfo,
            Expect::Pong(_) => Command::Ping,
        }
    }

    /// The name of the request's command (in [`NetError::Timeout`]).
    pub(super) fn name(&self) -> &'static str {
        self.request().known_name().unwrap_or_default()
    }

    /// The newest block of a `getheaders` locator (our tip, or the last header requested).
    pub(super) fn locator_tip(&self) -> Option<Hash256> {
        match self {
            Expect::Headers(locator) => locator.first().copied(),
            _ => None,
        }
    }

    /// Whether this request waits for a large answer with this command (`mnlistdiff`,
    /// `qrinfo`); the reader drops such answers undecoded when nothing waits for them.
    fn awaits_large(&self, command: &Command) -> bool {
        matches!(
            (self, command),
            (Expect::MnListDiff(_), Command::MnListDiff) | (Expect::QrInfo, Command::QrInfo)
        )
    }
}

type Reply = Result<Message, NetError>;
type Waiter = (Expect, oneshot::Sender<Reply>);

/// State shared by a connection's tasks and its handle.
pub(super) struct ConnState {
    id: ConnId,
    closed: AtomicBool,
    reason: Mutex<Option<NetError>>,
    waiters: Mutex<Vec<Waiter>>,
    /// The last non-empty `headers` that answered no waiting `getheaders` while one waited:
    /// when it arrived and its first header's previous block.
    unconnected: Mutex<Option<(tokio::time::Instant, Hash256)>>,
}

impl ConnState {
    /// An open connection's state.
    pub(super) fn new(id: ConnId) -> ConnState {
        ConnState {
            id,
            closed: AtomicBool::new(false),
            reason: Mutex::new(None),
            waiters: Mutex::new(Vec::new()),
            unconnected: Mutex::new(None),
        }
    }

    /// The connection's id.
    pub(super) fn id(&self) -> ConnId {
        self.id
    }

    /// True once the connection is closed.
    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Closes with `reason` (the first reason wins) and fails every waiting request with it.
    pub(super) fn fail(&self, reason: NetError) -> NetError {
        let reason = {
            let mut r = self.reason.lock().unwrap_or_else(|e| e.into_inner());
            r.get_or_insert(reason).clone()
        };
        self.closed.store(true, Ordering::SeqCst);
        let waiters: Vec<Waiter> =
            std::mem::take(&mut *self.waiters.lock().unwrap_or_else(|e| e.into_inner()));
        for (_, w) in waiters {
            let _ = w.send(Err(reason.clone()));
        }
        reason
    }

    /// Why the connection closed (a generic reason while it is open).
    pub(super) fn reason(&self) -> NetError {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| NetError::Closed(self.id, "closed".into()))
    }

    /// Registers a request waiting for the answer `expect` describes.
    pub(super) fn wait_for(&self, expect: Expect, reply: oneshot::Sender<Reply>) {
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((expect, reply));
    }

    /// Whether a request waits for a large answer (`mnlistdiff`, `qrinfo`) with this command.
    pub(super) fn awaits_large(&self, command: &Command) -> bool {
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(e, _)| e.awaits_large(command))
    }

    /// Hands `m` to the first request waiting for it (`None`), or gives it back as unsolicited.
    /// Headers that answer nothing while a `getheaders` waits are remembered (see
    /// [`ConnState::timed_out`]).
    pub(super) fn answer(&self, m: Message) -> Option<Message> {
        let (waiter, headers_waited) = {
            let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            let headers_waited = w.iter().any(|(e, _)| matches!(e, Expect::Headers(_)));
            let found = w
                .iter()
                .position(|(e, _)| e.matches(&m))
                .map(|i| w.remove(i));
            (found, headers_waited)
        };
        if let Some((_, reply)) = waiter {
            let _ = reply.send(Ok(m));
            return None;
        }
        if let (true, Some(first)) = (headers_waited, m.headers().and_then(|hs| hs.first())) {
            *self.unconnected.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((tokio::time::Instant::now(), first.prev_block_hash));
        }
        Some(m)
    }

    /// The error of request `name` that ran out of time: headers that arrived since it started
    /// but continued nothing we asked from (`locator_tip`: [`Expect::locator_tip`]) are the real
    /// reason, not the time.
    pub(super) fn timed_out(
        &self,
        name: &'static str,
        locator_tip: Option<Hash256>,
        started: tokio::time::Instant,
    ) -> NetError {
        let unconnected = *self.unconnected.lock().unwrap_or_else(|e| e.into_inner());
        match (locator_tip, unconnected) {
            (Some(tip), Some((at, prev))) if at >= started => NetError::HeadersDoNotConnect {
                conn: self.id,
                prev,
                tip,
            },
            _ => NetError::Timeout(self.id, name),
        }
    }
}
