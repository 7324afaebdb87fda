// Coroutines over the generated bindings: per-collector event flows, state flows, suspend calls.
package org.dash.qrsync.ktx

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import org.dash.qrsync.ChainLock
import org.dash.qrsync.ClientConfig
import org.dash.qrsync.ErrorEvent
import org.dash.qrsync.HostStore
import org.dash.qrsync.LockResult
import org.dash.qrsync.Progress
import org.dash.qrsync.QrSyncClient
import org.dash.qrsync.Quorum
import org.dash.qrsync.Status
import org.dash.qrsync.SyncListener
import org.dash.qrsync.SyncState
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicLong
import kotlin.time.Duration
import kotlin.time.Duration.Companion.minutes

/** Everything a client reports, as one sealed type. */
sealed interface QrSyncEvent {
    /** A progress report. */
    data class ProgressEvent(val progress: Progress) : QrSyncEvent

    /** A quorum passed every check (once per quorum). */
    data class QuorumAvailable(val quorum: Quorum) : QrSyncEvent

    /** A ChainLock verified. */
    data class ChainLocked(val lock: ChainLock) : QrSyncEvent

    /** The sync state changed. */
    data class StateChanged(val state: SyncState) : QrSyncEvent

    /** An error; recoverable ones are informational. */
    data class Failure(val error: ErrorEvent) : QrSyncEvent

    /**
     * This collector's buffer was full and [count] events were dropped for it (only for it)
     * just before this point. Sent as soon as the buffer has room again, or as the last
     * event when the client is closed.
     */
    data class EventsDropped(val count: Long) : QrSyncEvent
}

/**
 * A client for coroutines.
 *
 * Events: every collection of [events] is its own subscription with its own buffer of
 * [eventBuffer] events, so collectors never take events from each other. A collector receives
 * every event reported after it subscribed (no replay of earlier ones: [state] and [progress]
 * hold the latest values). `collect` subscribes before its first suspension, so a collector
 * started with `launch(start = CoroutineStart.UNDISPATCHED)` before [start] sees the whole sync.
 * The library's thread never waits for a collector: when a collector is [eventBuffer] events
 * behind, further events are dropped for that collector only, counted in [droppedEvents], and
 * announced to it by one [QrSyncEvent.EventsDropped] when its buffer has room again (or as its
 * last event at [close]). [close] completes
 * every collection after its buffered events.
 *
 * Threads: blocking calls into the library run on [io] (default [Dispatchers.IO]), so every
 * suspend function here is safe on the main thread. The library's callbacks arrive on its
 * `dqs-events` thread (see [CallbackThreads]); collectors run in their own coroutine context.
 *
 * Errors: failures are [QrSyncError]s. The app's [store] is wrapped in [ReadableStore].
 */
class FlowClient(
    config: ClientConfig,
    store: HostStore?,
    /** Events buffered per collector before events are dropped for it (at least 1). */
    val eventBuffer: Int = DEFAULT_EVENT_BUFFER,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    private class Subscriber(capacity: Int) {
        val channel = Channel<QrSyncEvent>(capacity)

        // Events dropped since the last notice. Written on the library's single events thread;
        // read by the collector only after the channel is closed (no more events then).
        val pendingDrops = AtomicLong()

        /** True when delivered; false when dropped because this collector's buffer is full. */
        fun offer(event: QrSyncEvent): Boolean {
            val pending = pendingDrops.get()
            if (pending > 0) {
                val notice = channel.trySend(QrSyncEvent.EventsDropped(pending))
                if (notice.isClosed) return true
                if (notice.isFailure) {
                    pendingDrops.incrementAndGet()
                    return false
                }
                pendingDrops.set(0)
            }
            val r = channel.trySend(event)
            if (r.isSuccess || r.isClosed) return true
            pendingDrops.incrementAndGet()
            return false
        }
    }

    private val subscribers = CopyOnWriteArrayList<Subscriber>()
    private val closed = AtomicBoolean(false)
    private val dropped = AtomicLong()
    private val mutableState = MutableStateFlow(SyncState.IDLE)
    private val mutableProgress = MutableStateFlow<Progress?>(null)

    private val listener = object : SyncListener {
        override fun onProgress(progress: Progress) {
            publish(QrSyncEvent.ProgressEvent(progress))
            mutableProgress.value = progress
        }

        override fun onQuorum(quorum: Quorum) = publish(QrSyncEvent.QuorumAvailable(quorum))

        override fun onChainLock(lock: ChainLock) = publish(QrSyncEvent.ChainLocked(lock))

        override fun onState(state: SyncState) {
            // The event first: whoever sees the new state finds the event already buffered.
            publish(QrSyncEvent.StateChanged(state))
            mutableState.value = state
        }

        override fun onError(error: ErrorEvent) = publish(QrSyncEvent.Failure(error))
    }

    private fun publish(event: QrSyncEvent) {
        for (s in subscribers) {
            if (!s.offer(event)) dropped.incrementAndGet()
        }
    }

    init {
        require(eventBuffer >= 1) { "eventBuffer must be at least 1, not $eventBuffer" }
        CallbackThreads.install()
    }

    /** The generated client underneath (its calls block and throw the generated exceptions). */
    val client: QrSyncClient = typed {
        QrSyncClient(config, store?.let { if (it is ReadableStore) it else ReadableStore(it) }, listener)
    }

    /** The latest sync state ([SyncState.STOPPED] once stopped or closed). */
    val state: StateFlow<SyncState> = mutableState.asStateFlow()

    /** The latest progress report, null before the first. */
    val progress: StateFlow<Progress?> = mutableProgress.asStateFlow()

    /** Events dropped so far, summed over all collectors whose buffer was full. */
    val droppedEvents: Long get() = dropped.get()

    /** The client's events; see the class documentation for the subscription rules. */
    val events: Flow<QrSyncEvent> = flow {
        val sub = Subscriber(eventBuffer)
        subscribers.add(sub)
        if (closed.get()) sub.channel.close()
        try {
            for (e in sub.channel) emit(e)
            // Drops after the last buffered event are announced at the end.
            val pending = sub.pendingDrops.getAndSet(0)
            if (pending > 0) emit(QrSyncEvent.EventsDropped(pending))
        } finally {
            subscribers.remove(sub)
            sub.channel.cancel()
        }
    }

    /** Starts syncing in the background. */
    suspend fun start() = call { client.start() }

    /**
     * Returns at once when the client is synced, else suspends until it is; returns a status
     * snapshot. Throws [QrSyncError.Timeout] after [timeout] and [QrSyncError.NotRunning] when
     * the client stops first. Can be called any number of times, from any coroutine.
     */
    suspend fun awaitSynced(timeout: Duration = 2.minutes): Status {
        if (mutableState.value != SyncState.SYNCED) {
            val reached = withTimeoutOrNull(timeout) {
                mutableState.first {
                    it == SyncState.SYNCED || it == SyncState.STOPPED || it == SyncState.UPDATE_REQUIRED
                }
            }
            when (reached) {
                null -> throw QrSyncError.Timeout(timeout, "not synced after $timeout (state ${mutableState.value})")
                SyncState.STOPPED -> throw QrSyncError.NotRunning("the client stopped before it was synced")
                SyncState.UPDATE_REQUIRED -> throw QrSyncError.NotRunning(
                    "the network speaks a newer protocol than this library reads: update dash-qrsync",
                )
                else -> Unit
            }
        }
        return status()
    }

    /** A status snapshot. */
    suspend fun status(): Status = call { client.status() }

    /** A validated quorum by LLMQ type and hash (display hex), or null. */
    suspend fun quorum(llmqType: UByte, quorumHash: String): Quorum? = call { client.quorum(llmqType, quorumHash) }

    /** The validated quorums of one LLMQ type, newest first. */
    suspend fun quorums(llmqType: UByte): List<Quorum> = call { client.quorums(llmqType) }

    /** Every validated quorum the client holds, by LLMQ type, newest first within a type. */
    suspend fun quorums(): List<Quorum> = call {
        (0..255).flatMap { client.quorums(it.toUByte()) }
    }

    /** Verifies a serialized `clsig` payload. */
    suspend fun verifyClsig(payload: ByteArray): LockResult = call { client.verifyClsig(payload) }

    /** Verifies a serialized `isdlock` payload. */
    suspend fun verifyIslock(payload: ByteArray): LockResult = call { client.verifyIslock(payload) }

    /** The block hash (display hex) of the header chain at [height], or null beyond it. */
    suspend fun blockHash(height: UInt): String? = call { client.blockHash(height) }

    /** Stops syncing (bounded); the event flows stay open until [close]. */
    suspend fun stop() {
        call { client.stop() }
        mutableState.value = SyncState.STOPPED
    }

    /** [close] on [io]: safe on the main thread. */
    suspend fun shutdown() = withContext(io) { close() }

    /**
     * Stops the client, frees it and completes every event collection once its buffered events
     * are delivered. Blocks for the bounded time the library needs to stop (a few seconds at
     * most); from the main thread use [shutdown]. Idempotent.
     */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        try {
            client.stop()
        } finally {
            client.close()
            mutableState.value = SyncState.STOPPED
            for (s in subscribers) s.channel.close()
        }
    }

    private suspend fun <T> call(block: () -> T): T {
        if (closed.get()) throw QrSyncError.NotRunning("the client is closed")
        return withContext(io) { typed(block) }
    }

    companion object {
        /** The default per-collector buffer: far more than a cold sync reports. */
        const val DEFAULT_EVENT_BUFFER = 4096
    }
}
