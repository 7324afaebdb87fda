// Idiomatic Kotlin over the generated bindings: a Flow of events and suspend helpers.
package org.dash.qrsync.ktx

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.receiveAsFlow
import kotlinx.coroutines.withTimeout
import org.dash.qrsync.ChainLock
import org.dash.qrsync.ClientConfig
import org.dash.qrsync.ErrorEvent
import org.dash.qrsync.HostStore
import org.dash.qrsync.Progress
import org.dash.qrsync.QrSyncClient
import org.dash.qrsync.Quorum
import org.dash.qrsync.SyncListener
import org.dash.qrsync.SyncState

/** Everything a client reports, as one sealed type. */
sealed interface QrSyncEvent {
    data class ProgressEvent(val progress: Progress) : QrSyncEvent
    data class QuorumAvailable(val quorum: Quorum) : QrSyncEvent
    data class ChainLocked(val lock: ChainLock) : QrSyncEvent
    data class StateChanged(val state: SyncState) : QrSyncEvent
    data class Failure(val error: ErrorEvent) : QrSyncEvent
}

/**
 * A client whose events are a [Flow]. Events are buffered without limit (the library never
 * waits for the app); collect [events] from any coroutine.
 */
class FlowClient(config: ClientConfig, store: HostStore?) : AutoCloseable {
    private val channel = Channel<QrSyncEvent>(Channel.UNLIMITED)

    private val listener = object : SyncListener {
        override fun onProgress(progress: Progress) { channel.trySend(QrSyncEvent.ProgressEvent(progress)) }
        override fun onQuorum(quorum: Quorum) { channel.trySend(QrSyncEvent.QuorumAvailable(quorum)) }
        override fun onChainLock(lock: ChainLock) { channel.trySend(QrSyncEvent.ChainLocked(lock)) }
        override fun onState(state: SyncState) { channel.trySend(QrSyncEvent.StateChanged(state)) }
        override fun onError(error: ErrorEvent) { channel.trySend(QrSyncEvent.Failure(error)) }
    }

    /** The underlying generated client. */
    val client: QrSyncClient = QrSyncClient(config, store, listener)

    /** The events, in order (a single consumer receives each event once). */
    val events: Flow<QrSyncEvent> = channel.receiveAsFlow()

    /** Starts syncing (returns at once). */
    fun start() = client.start()

    /** Suspends until the client reports [SyncState.SYNCED] (or throws on timeout). */
    suspend fun awaitSynced(timeoutMs: Long = 120_000) {
        withTimeout(timeoutMs) {
            events.first { it is QrSyncEvent.StateChanged && it.state == SyncState.SYNCED }
        }
    }

    override fun close() {
        client.stop()
        client.close()
        channel.close()
    }
}
