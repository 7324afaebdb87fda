//! The handle of one connected peer ([`Peer`]): connecting runs the layers in order (open the
//! [`Connection`], handshake, spawn the reader and writer tasks); requests register what answer
//! they wait for ([`Expect`]) and are answered, timed out or failed with the connection's close
//! reason.

use super::connection::Connection;
use super::counters::InFlight;
use super::handshake::{handshake, negotiated};
use super::matching::{ConnState, Expect};
use super::reader::{Buckets, Reader, Unsolicited};
use super::writer::Writer;
use super::{ConnId, NetCounters, NetError, PeerConfig, WRITE_QUEUE};
use crate::hashes::Hash256;
use crate::wire::message::{services, GetHeaders, Message};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// A connected, handshaken peer.
pub struct Peer {
    /// Its address.
    pub addr: SocketAddr,
    /// Negotiated protocol version (min of both).
    pub version: u32,
    /// Height the peer announced at handshake.
    pub start_height: i32,
    /// Its service bits.
    pub services: u64,
    out: mpsc::Sender<Message>,
    conn: Arc<ConnState>,
    counters: Arc<NetCounters>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("addr", &self.addr)
            .field("id", &self.conn.id().id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Peer {
    /// Connects and performs the version handshake. Notices (announcements, locks, the close)
    /// are sent to `notices` while there is room.
    pub async fn connect(
        addr: SocketAddr,
        cfg: &PeerConfig,
        counters: Arc<NetCounters>,
        notices: mpsc::Sender<Unsolicited>,
    ) -> Result<Peer, NetError> {
        let mut connection = Connection::open(addr, cfg, counters.clone()).await?;
        let theirs = handshake(&mut connection, cfg).await?;
        let version = negotiated(&theirs, cfg.protocol_version);
        let conn = Arc::new(ConnState::new(connection.id()));
        let (frames_in, frames_out) = connection.into_split();
        let (out, queue) = mpsc::channel::<Message>(WRITE_QUEUE);
        let reader = Reader {
            state: conn.clone(),
            counters: counters.clone(),
            out: out.clone(),
            notices: notices.clone(),
            budget: Buckets::new(cfg.budget),
            network: cfg.network,
            version,
        };
        let reader = tokio::spawn(reader.run(frames_in));
        let writer = Writer {
            frames: frames_out,
            state: conn.clone(),
            notices,
            io_timeout: cfg.io_timeout,
            version,
            reader: reader.abort_handle(),
        };
        let writer = tokio::spawn(writer.run(queue));
        let peer = Peer {
            addr,
            version,
            start_height: theirs.start_height,
            services: theirs.services,
            out,
            conn,
            counters,
            tasks: vec![writer, reader],
        };
        peer.send(Message::SendHeaders);
        Ok(peer)
    }

    /// This connection's id.
    pub fn conn_id(&self) -> ConnId {
        self.conn.id()
    }

    /// True once the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Why the connection closed (a generic reason while it is open).
    pub fn close_reason(&self) -> NetError {
        self.conn.reason()
    }

    /// Queues a message (dropped when the connection is closed or the queue is full).
    pub fn send(&self, m: Message) {
        let _ = self.out.try_send(m);
    }

    /// Sends `m` and waits for the answer `expect` describes; `timeout` covers queueing,
    /// writing and waiting. When the connection closes meanwhile, the error is its close reason.
    pub fn request(
        &self,
        m: Message,
        expect: Expect,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<Message, NetError>> + Send + 'static {
        // Everything but the wait happens now, not when the future is first polled: requests
        // started one after another are in flight together even if the first answer comes
        // back before the others' tasks run. The request's generation is fixed now too, and
        // its sender receives the answer when this future resolves ([`Generations`]).
        let name = expect.name();
        let locator_tip = expect.locator_tip();
        let started = tokio::time::Instant::now();
        let deadline = started + timeout;
        let (tx, rx) = oneshot::channel();
        let enqueued = self.enqueue(m, expect, tx);
        let guard = enqueued.is_ok().then(|| InFlight::start(&self.counters));
        let out = self.out.clone();
        let conn = self.conn.clone();
        async move {
            let guard = guard;
            let queued = match enqueued {
                Ok(queued) => queued,
                Err(()) => return Err(conn.reason()),
            };
            let wait = async {
                if let Some(m) = queued {
                    if out.send(m).await.is_err() {
                        return Err(conn.reason());
                    }
                }
                match rx.await {
                    Ok(r) => r,
                    Err(_) => Err(conn.reason()),
                }
            };
            let r = match tokio::time::timeout_at(deadline, wait).await {
                Ok(r) => r,
                Err(_) => Err(conn.timed_out(name, locator_tip, started)),
            };
            if let Some(g) = &guard {
                g.resolved();
            }
            r
        }
    }

    /// Registers the waiter for `expect` and queues `m`: `Ok(Some(m))` when the writer queue
    /// is full (the request's future queues it), `Err` when the connection is closed.
    fn enqueue(
        &self,
        m: Message,
        expect: Expect,
        reply: oneshot::Sender<Result<Message, NetError>>,
    ) -> Result<Option<Message>, ()> {
        if self.is_closed() {
            return Err(());
        }
        self.conn.wait_for(expect, reply);
        // The connection may have failed between the check and the push.
        if self.is_closed() {
            return Err(());
        }
        match self.out.try_send(m) {
            Ok(()) => Ok(None),
            Err(mpsc::error::TrySendError::Full(m)) => Ok(Some(m)),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(()),
        }
    }

    /// `getheaders` from `locator`, and what its answer must look like.
    pub fn get_headers_msg(&self, locator: Vec<Hash256>) -> (Message, Expect) {
        let g = GetHeaders {
            version: self.version,
            locator: locator.clone(),
            stop_hash: Hash256::ZERO,
        };
        let m = if self.compressed_headers() {
            Message::GetHeaders2(g)
        } else {
            Message::GetHeaders(g)
        };
        (m, Expect::Headers(locator))
    }

    /// Whether the peer serves compressed headers (`getheaders2` → `headers2`: about half the
    /// bytes, and up to 8,000 per message from protocol 70235).
    pub fn compressed_headers(&self) -> bool {
        self.services & services::NODE_HEADERS_COMPRESSED != 0
    }

    /// The most headers one answer to [`Peer::get_headers_msg`] carries; fewer means the peer
    /// has nothing newer.
    pub fn max_headers_per_message(&self) -> usize {
        if self.compressed_headers() {
            crate::wire::headers2::max_headers2(self.version)
        } else {
            crate::wire::headers2::MAX_HEADERS
        }
    }

    /// Closes the connection with `reason` (kept as its close reason unless it already had
    /// one): waiting requests fail at once with it, both tasks end, the socket is dropped.
    pub fn close_with(&self, reason: NetError) {
        self.conn.fail(reason);
        for t in &self.tasks {
            t.abort();
        }
    }

    /// Closes the connection (see [`Peer::close_with`]).
    pub fn close(&self) {
        self.close_with(NetError::Closed(self.conn.id(), "closed by us".into()));
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.close();
    }
}
