package org.dash.qrsync

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.dash.qrsync.ktx.CallbackThreads
import org.dash.qrsync.ktx.FlowClient
import org.dash.qrsync.ktx.QrSyncError
import org.dash.qrsync.ktx.QrSyncEvent
import org.dash.qrsync.ktx.clientConfig
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.io.IOException
import java.util.Collections
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FlowClientTest {
    private lateinit var simnet: Simnet

    @BeforeAll
    fun startSimnet() {
        simnet = Simnet.start(7uL)
    }

    @AfterAll
    fun stopSimnet() {
        simnet.shutdown()
        simnet.close()
    }

    private fun config() = clientConfig(Network.REGTEST) {
        peer(simnet.address())
        timeouts(connect = 3.seconds, request = 5.seconds)
    }

    /** Records the JVM thread of every callback. */
    private class ThreadRecorder : SyncListener {
        val threads: MutableList<Thread> = Collections.synchronizedList(mutableListOf())
        val synced = java.util.concurrent.CountDownLatch(1)
        private fun here() { threads += Thread.currentThread() }
        override fun onProgress(progress: Progress) = here()
        override fun onQuorum(quorum: Quorum) = here()
        override fun onChainLock(lock: ChainLock) = here()
        override fun onState(state: SyncState) {
            here()
            if (state == SyncState.SYNCED) synced.countDown()
        }
        override fun onError(error: ErrorEvent) = here()
    }

    private class ThreadStore : HostStore {
        val map = java.util.concurrent.ConcurrentHashMap<String, ByteArray>()
        val threads: MutableList<String> = Collections.synchronizedList(mutableListOf())
        override fun load(key: String): ByteArray? { threads += Thread.currentThread().name; return map[key] }
        override fun save(key: String, value: ByteArray) { threads += Thread.currentThread().name; map[key] = value }
        override fun remove(key: String) { threads += Thread.currentThread().name; map.remove(key) }
    }

    @Test
    fun everyListenerCallbackOfASyncRunsOnOneNamedThread() {
        // The bindings were loaded before (Simnet.start): this is the late-install path.
        assertTrue(CallbackThreads.install(), "JNA's callback internals were not as expected")
        val rec = ThreadRecorder()
        val store = ThreadStore()
        val client = QrSyncClient(config(), store, rec)
        client.start()
        assertTrue(rec.synced.await(120, TimeUnit.SECONDS))
        val quorums = client.status().quorumsValidated.toInt()
        client.stop()
        client.close()
        val threads = synchronized(rec.threads) { rec.threads.toList() }
        // At least one progress, one state and one quorum callback per validated quorum.
        assertTrue(threads.size > quorums + 2, "only ${threads.size} callbacks")
        assertEquals(setOf(CallbackThreads.EVENTS_THREAD), threads.map { it.name }.toSet())
        assertEquals(1, threads.map { System.identityHashCode(it) }.toSet().size, "one attached thread, not one per call")
        assertTrue(threads[0].isDaemon)
        // The store is called from the library's runtime threads, under their own name.
        assertTrue(store.threads.isNotEmpty())
        assertEquals(setOf(CallbackThreads.STORE_THREAD), store.threads.toSet())
        // JNA detaches the thread when the library's thread exits (after stop, it is joined).
        val deadline = TimeSource.Monotonic.markNow() + 10.seconds
        while (threads[0].isAlive && deadline.hasNotPassedNow()) Thread.sleep(20)
        assertFalse(threads[0].isAlive, "the events thread stayed attached after the client was closed")
    }

    @Test
    fun awaitSyncedReturnsAtOnceWhenSyncedAndCanBeCalledAgain() = runBlocking {
        FlowClient(config(), MapStore()).use { client ->
            client.start()
            val first = client.awaitSynced(2.minutes)
            assertEquals(SyncState.SYNCED, first.state)
            assertEquals(SyncState.SYNCED, client.state.value)
            repeat(5) {
                val t = TimeSource.Monotonic.markNow()
                // A 1 ms budget cannot be met by waiting: only an immediate return passes.
                val s = client.awaitSynced(1.milliseconds)
                assertEquals(SyncState.SYNCED, s.state)
                assertTrue(t.elapsedNow() < 1.seconds)
            }
            assertNotNull(client.progress.value)
        }
    }

    @Test
    fun awaitSyncedTimesOutWithAnOrdinaryException() = runBlocking {
        // Nothing listens on port 1 of the loopback address: the client never syncs.
        val c = clientConfig(Network.REGTEST) {
            peer("127.0.0.1:1")
            timeouts(connect = 200.milliseconds, request = 200.milliseconds)
        }
        FlowClient(c, null).use { client ->
            client.start()
            val e = assertThrows<QrSyncError.Timeout> { runBlocking { client.awaitSynced(300.milliseconds) } }
            assertFalse((e as Throwable) is CancellationException)
            assertEquals(300.milliseconds, e.after)
            assertTrue(e.message!!.startsWith("not synced after 300ms"), e.message)
            // An ordinary catch in the caller's coroutine sees it, and the coroutine goes on.
            val caught = try {
                client.awaitSynced(100.milliseconds)
                null
            } catch (t: QrSyncError) {
                t
            }
            assertTrue(caught is QrSyncError.Timeout)
            assertTrue(coroutineContext[kotlinx.coroutines.Job]!!.isActive)
        }
    }

    @Test
    fun awaitSyncedOnAClosedClientSaysNotRunning() = runBlocking {
        val client = FlowClient(config(), null)
        client.close()
        assertEquals(SyncState.STOPPED, client.state.value)
        val e = assertThrows<QrSyncError.NotRunning> { runBlocking { client.awaitSynced(5.seconds) } }
        assertEquals("the client stopped before it was synced", e.message)
        // A collection started after close completes at once.
        withTimeout(5.seconds) { client.events.collect { } }
    }

    @Test
    fun twoCollectorsEachSeeTheWholeSyncInTheSameOrder() = runBlocking {
        val client = FlowClient(config(), MapStore())
        val a = CopyOnWriteArrayList<QrSyncEvent>()
        val b = CopyOnWriteArrayList<QrSyncEvent>()
        val ja = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { client.events.collect { a += it } }
        val jb = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { client.events.collect { b += it } }
        client.start()
        val status = client.awaitSynced()
        withContext(Dispatchers.IO) { client.close() }
        ja.join()
        jb.join()
        assertEquals(a, b)
        assertEquals(status.quorumsValidated.toInt(), a.count { it is QrSyncEvent.QuorumAvailable })
        assertTrue(a.contains(QrSyncEvent.StateChanged(SyncState.SYNCED)))
        assertTrue(a.none { it is QrSyncEvent.EventsDropped })
        assertEquals(0L, client.droppedEvents)
    }

    @Test
    fun aFullBufferDropsEventsForThatCollectorOnlyAndSaysSo() = runBlocking {
        val client = FlowClient(config(), MapStore(), eventBuffer = 2)
        val gate = CompletableDeferred<Unit>()
        val slow = CopyOnWriteArrayList<QrSyncEvent>()
        val fast = CopyOnWriteArrayList<QrSyncEvent>()
        val js = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
            client.events.collect {
                slow += it
                gate.await() // stuck on its first event until released
            }
        }
        // A second collector with the same small buffer only appends: it keeps up.
        val jf = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { client.events.collect { fast += it } }
        client.start()
        client.awaitSynced()
        gate.complete(Unit)
        withContext(Dispatchers.IO) { client.close() }
        js.join()
        jf.join()
        // Read after close: the sync may publish after SYNCED (a last progress report), and what
        // the stuck collector drops of it counts too.
        val dropped = client.droppedEvents
        fun real(l: List<QrSyncEvent>) = l.count { it !is QrSyncEvent.EventsDropped }
        fun lost(l: List<QrSyncEvent>) = l.filterIsInstance<QrSyncEvent.EventsDropped>().sumOf { it.count }
        assertTrue(lost(slow) > 0, "the stuck collector lost nothing")
        // Each collector accounts for every event published: received + announced as dropped.
        assertEquals(real(fast) + lost(fast), real(slow) + lost(slow))
        assertEquals(dropped, lost(slow) + lost(fast))
        // The loss is the stuck collector's: the other one (same buffer size) lost less, if any.
        assertTrue(lost(fast) < lost(slow), "fast lost ${lost(fast)}, slow ${lost(slow)}")
        // Both received the first event (the stuck one then waited on it).
        assertEquals(fast.first(), slow.first())
    }

    @Test
    fun errorsAreTypedWithTheLibrarysMessage() = runBlocking {
        val bad = assertThrows<QrSyncError.InvalidArgument> { clientConfig(Network.REGTEST) { peer("not an address") } }
        assertEquals("\"not an address\" is not an IP:port address", bad.message)
        assertTrue(bad.cause is QrSyncException.InvalidArgument)
        // The configuration check is the library's: the same message as from Rust and C.
        val peers = assertThrows<QrSyncError.InvalidConfig> { clientConfig(Network.REGTEST) { maxPeers(0) } }
        assertEquals("max_peers must be between 1 and 16", peers.message)
        assertThrows<QrSyncError.InvalidConfig> { clientConfig(Network.REGTEST) { maxPeers(-1) } }
        val timeout = assertThrows<QrSyncError.InvalidConfig> {
            clientConfig(Network.REGTEST) { timeouts(connect = 0.seconds, request = 5.seconds) }
        }
        assertEquals("timeouts must be positive", timeout.message)
        val cfg = assertThrows<QrSyncError.InvalidConfig> { FlowClient(clientConfig(Network.REGTEST), null) }
        assertFalse(cfg.message!!.startsWith("reason="), cfg.message)
        assertTrue(cfg.message!!.isNotBlank())
        FlowClient(config(), null).use { client ->
            val clsig = assertThrows<QrSyncError.InvalidArgument> { runBlocking { client.verifyClsig(byteArrayOf(1, 2, 3)) } }
            assertFalse(clsig.message!!.contains("reason="), clsig.message)
            val hash = assertThrows<QrSyncError.InvalidArgument> { runBlocking { client.quorum(100u, "zz") } }
            assertEquals("\"zz\" is not a 32-byte hex hash", hash.message)
        }
    }

    @Test
    fun aFailingStoreIsReportedWithItsMessageNotAStackTrace() = runBlocking {
        val store = object : HostStore {
            override fun load(key: String): ByteArray? = null
            override fun save(key: String, value: ByteArray) = throw IOException("disk full")
            override fun remove(key: String) {}
        }
        val client = FlowClient(config(), store)
        val failures = CopyOnWriteArrayList<ErrorEvent>()
        val j = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
            client.events.collect { if (it is QrSyncEvent.Failure) failures += it.error }
        }
        client.start()
        client.awaitSynced()
        withContext(Dispatchers.IO) { client.close() }
        j.join()
        val store_ = failures.filter { it.kind == ErrorKind.STORE }
        assertTrue(store_.isNotEmpty(), "no store error reported: $failures")
        for (f in store_) {
            assertTrue(f.message.contains("disk full"), f.message)
            assertFalse(f.message.contains("\tat ") || f.message.contains("\n"), f.message)
            assertFalse(f.message.contains("reason="), f.message)
            assertTrue(f.recoverable)
        }
    }
}
