package org.dash.qrsync

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/** Records "masternodes changed" events. */
class ChangeRecorder : MasternodesListener {
    val changes = CopyOnWriteArrayList<MasternodesChange>()
    override fun onMasternodesChanged(change: MasternodesChange) { changes.add(change) }
}

/** The authenticated masternode address book from Kotlin, after a sync of the simulated network. */
class MasternodeBookTest {
    @Test
    fun addressBookAndItsChangeEventAfterASync() {
        val simnet = Simnet.start(11uL)
        try {
            val c = ClientConfig(Network.REGTEST)
            c.addPeer(simnet.address())
            c.setTimeouts(3000u, 5000u)
            val rec = Recorder()
            val client = QrSyncClient(c, null, rec)
            assertNull(client.masternodes(), "no book before any list is validated")
            val changes = ChangeRecorder()
            client.setMasternodesListener(changes)
            client.start()
            assertTrue(rec.synced.await(120, TimeUnit.SECONDS), "not synced: ${rec.errors}")
            val book = client.masternodes()
            assertNotNull(book)
            book!!
            assertTrue(book.entries.isNotEmpty())
            assertEquals(64, book.smlRoot.length)
            for (mn in book.entries) {
                assertEquals(64, mn.proRegTxHash.length)
                assertEquals(48, mn.operatorPublicKey.size)
                assertEquals(20, mn.votingKeyId.size)
                assertEquals(mn.mnType == MasternodeType.EVO, mn.platformNodeId != null)
                for (a in mn.addresses) {
                    assertTrue(a.hostPort.endsWith(":${a.port}"), a.hostPort)
                    assertTrue(a.hostPort.contains(a.host), a.hostPort)
                }
            }
            assertTrue(book.entries.any { mn -> mn.addresses.any { it.purpose == AddressPurpose.CORE_P2P } })
            // Events arrive in order: the change for the list the book shows came before SYNCED.
            assertTrue(changes.changes.isNotEmpty(), "no masternodes-changed event")
            val last = changes.changes.last()
            assertEquals(book.smlRoot, last.smlRoot)
            assertEquals(book.entries.size.toUInt(), last.count)
            client.setMasternodesListener(null)
            client.stop()
            client.close()
        } finally {
            simnet.shutdown()
            simnet.close()
        }
    }
}
