package org.dash.qrsync

import androidx.test.ext.junit.runners.AndroidJUnit4
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/** Instrumented test (emulator): sync the in-process simulated network (AAR built with --simnet). */
@RunWith(AndroidJUnit4::class)
class DeviceSyncTest {
    class MapStore : HostStore {
        val map = ConcurrentHashMap<String, ByteArray>()
        override fun load(key: String): ByteArray? = map[key]
        override fun save(key: String, value: ByteArray) { map[key] = value }
        override fun remove(key: String) { map.remove(key) }
    }

    @Test
    fun syncsTheSimulatedNetwork() {
        val simnet = Simnet.start(7uL)
        val synced = CountDownLatch(1)
        val listener = object : SyncListener {
            override fun onProgress(progress: Progress) {}
            override fun onQuorum(quorum: Quorum) {}
            override fun onChainLock(lock: ChainLock) {}
            override fun onState(state: SyncState) { if (state == SyncState.SYNCED) synced.countDown() }
            override fun onError(error: ErrorEvent) {}
        }
        val config = ClientConfig(Network.REGTEST)
        config.addPeer(simnet.address())
        val client = QrSyncClient(config, MapStore(), listener)
        client.start()
        assertTrue(synced.await(120, TimeUnit.SECONDS))
        assertTrue(client.status().quorumsValidated > 0u)
        client.stop()
        simnet.shutdown()
    }
}
