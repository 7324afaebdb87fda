//! The writer task of one connection ([`Writer`]): writes the queued messages in order, each
//! within the I/O timeout. A write that fails closes the connection ([`NetError::Closed`]); one
//! that does not complete in time means the peer stopped reading ([`NetError::Stalled`]). Either
//! way the reader task is stopped, the reason kept on the connection and [`Notice::Closed`]
//! sent.

use super::connection::MessageWriter;
use super::matching::ConnState;
use super::reader::{Notice, Unsolicited};
use super::NetError;
use crate::wire::message::Message;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// The writer of one connection; [`Writer::run`] is the writer task.
pub(super) struct Writer {
    /// The socket's write half.
    pub(super) frames: MessageWriter,
    /// The connection's shared state (close reason).
    pub(super) state: Arc<ConnState>,
    /// Where the close notice goes.
    pub(super) notices: mpsc::Sender<Unsolicited>,
    /// The longest one write may take.
    pub(super) io_timeout: Duration,
    /// The negotiated protocol version.
    pub(super) version: u32,
    /// The reader task, stopped when a write fails.
    pub(super) reader: AbortHandle,
}

impl Writer {
    /// Writes what `queue` holds until it closes or a write fails, then shuts the socket down.
    pub(super) async fn run(mut self, mut queue: mpsc::Receiver<Message>) {
        if let Err(failure) = self.drain(&mut queue).await {
            self.reader.abort();
            self.state.fail(failure);
            let _ = self.notices.try_send(Unsolicited {
                conn: self.state.id(),
                notice: Notice::Closed,
            });
        }
        let _ = tokio::time::timeout(self.io_timeout, self.frames.shutdown()).await;
    }

    /// Writes every queued message until the queue closes (`Ok`) or a write fails.
    async fn drain(&mut self, queue: &mut mpsc::Receiver<Message>) -> Result<(), NetError> {
        while let Some(m) = queue.recv().await {
            self.write(&m).await?;
        }
        Ok(())
    }

    /// Writes `m` within the I/O timeout.
    async fn write(&mut self, m: &Message) -> Result<(), NetError> {
        let id = self.state.id();
        let t = Instant::now();
        match tokio::time::timeout(self.io_timeout, self.frames.write_message(m, self.version))
            .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(NetError::Closed(id, e.to_string())),
            Err(_) => Err(NetError::Stalled(
                id,
                format!(
                    "writing {} did not complete in {:.1} s",
                    m.command(),
                    t.elapsed().as_secs_f64()
                ),
            )),
        }
    }
}
