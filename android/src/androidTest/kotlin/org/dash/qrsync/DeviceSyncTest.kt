package org.dash.qrsync

import androidx.test.ext.junit.runners.AndroidJUnit4
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.dash.qrsync.ktx.CallbackThreads
import org.dash.qrsync.ktx.FlowClient
import org.dash.qrsync.ktx.QrSyncEvent
import org.dash.qrsync.ktx.clientConfig
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import java.util.Collections
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/**
 * Instrumented tests (emulator or device): sync the in-process simulated network (AAR built with
 * --simnet). Not run on the project's CI machine (no Android SDK there).
 */
@RunWith(AndroidJUnit4::class)
class DeviceSyncTest {
    class MapStore : HostStore {
        val map = ConcurrentHashMap<String, ByteArray>()
        override fun load(key: String): ByteArray? = map[key]
        override fun save(key: String, value: ByteArray) { map[key] = value }
        override fun remove(key: String) { map.remove(key) }
    }

    @Test
    fun syncsTheSimulatedNetworkOnOneCallbackThread() {
        CallbackThreads.install()
        val simnet = Simnet.start(7uL)
        val synced = CountDownLatch(1)
        val names = Collections.synchronizedSet(mutableSetOf<String>())
        val listener = object : SyncListener {
            override fun onProgress(progress: Progress) { names += Thread.currentThread().name }
            override fun onQuorum(quorum: Quorum) { names += Thread.currentThread().name }
            override fun onChainLock(lock: ChainLock) { names += Thread.currentThread().name }
            override fun onState(state: SyncState) {
                names += Thread.currentThread().name
                if (state == SyncState.SYNCED) synced.countDown()
            }
            override fun onError(error: ErrorEvent) { names += Thread.currentThread().name }
        }
        val config = ClientConfig(Network.REGTEST)
        config.addPeer(simnet.address())
        val client = QrSyncClient(config, MapStore(), listener)
        client.start()
        assertTrue(synced.await(120, TimeUnit.SECONDS))
        assertTrue(client.status().quorumsValidated > 0u)
        client.stop()
        client.close()
        assertEquals(setOf(CallbackThreads.EVENTS_THREAD), names.toSet())
        simnet.shutdown()
    }

    @Test
    fun flowClientSeesEveryQuorum() = runBlocking {
        val simnet = Simnet.start(7uL)
        val config = clientConfig(Network.REGTEST) {
            peer(simnet.address())
            timeouts(connect = 3.seconds, request = 5.seconds)
        }
        val client = FlowClient(config, MapStore())
        val seen = mutableListOf<Quorum>()
        val collector = launch(start = CoroutineStart.UNDISPATCHED) {
            client.events.collect { e -> if (e is QrSyncEvent.QuorumAvailable) seen += e.quorum }
        }
        client.start()
        val status = client.awaitSynced(timeout = 2.minutes)
        client.shutdown()
        collector.join()
        assertEquals(status.quorumsValidated.toInt(), seen.size)
        simnet.shutdown()
    }
}
