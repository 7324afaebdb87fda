package org.dash.qrsync

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.TimeUnit

/**
 * A network newer than the library: the simulator serves every masternode list entry with an
 * entry version (4) the library does not know, as a future Dash Core would. The client reports
 * UNSUPPORTED_PROTOCOL (never PEER_MISBEHAVED: a newer peer is not banned), names what it could
 * not read, and stops in UPDATE_REQUIRED.
 */
class NewerProtocolTest {
    @Test
    fun aNewerNetworkEndsInUpdateRequiredWithoutABan() {
        val simnet = Simnet.start(13uL)
        try {
            simnet.serveEntryVersion(4u.toUShort())
            val config = ClientConfig(Network.REGTEST)
            config.addPeer(simnet.address())
            config.setTimeouts(3000u, 5000u)
            val rec = Recorder()
            val client = QrSyncClient(config, MapStore(), rec)
            client.start()
            val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120)
            while (SyncState.UPDATE_REQUIRED !in rec.states && System.nanoTime() < deadline) {
                Thread.sleep(50)
            }
            assertTrue(SyncState.UPDATE_REQUIRED in rec.states, "states ${rec.states}, errors ${rec.errors}")
            assertEquals(SyncState.UPDATE_REQUIRED, client.status().state)
            assertTrue(rec.errors.none { it.kind == ErrorKind.PEER_MISBEHAVED }, "${rec.errors}")
            val unsupported = rec.errors.filter { it.kind == ErrorKind.UNSUPPORTED_PROTOCOL }
            assertTrue(unsupported.isNotEmpty(), "${rec.errors}")
            assertTrue(unsupported.all { "SML entry version 4" in it.message }, "$unsupported")
            client.stop()
            client.close()
        } finally {
            simnet.shutdown()
            simnet.close()
        }
    }
}
