package org.dash.qrsync

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.dash.qrsync.ktx.FlowClient
import org.dash.qrsync.ktx.QrSyncEvent
import org.dash.qrsync.ktx.clientConfig
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.RepetitionInfo
import org.junit.jupiter.api.RepeatedTest
import org.junit.jupiter.api.TestInstance
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/**
 * Runs the Kotlin quick start of docs/BINDINGS.md exactly as written (the lines between the
 * `quick-start` markers are compared with the document by bindings/kotlin/check-quickstart.sh),
 * 20 times, each a cold sync of the simulated network with a fresh store.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QuickStartTest {
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

    private class Outcome(val seen: List<Quorum>, val problems: List<String>, val status: Status, val held: List<Quorum>)

    private suspend fun quickStart(scope: CoroutineScope, simnetAddress: String, store: HostStore): Outcome {
        // quick-start:begin
        val config = clientConfig(Network.REGTEST) {
            peer(simnetAddress) // a real network: peer("203.0.113.7:19999") or dnsSeeds(true)
            timeouts(connect = 3.seconds, request = 5.seconds)
        }
        val client = FlowClient(config, store) // store: the app's HostStore (Room, file, ...)
        val seen = mutableListOf<Quorum>()
        val problems = mutableListOf<String>()
        val collector = scope.launch(start = CoroutineStart.UNDISPATCHED) { // subscribed before start()
            client.events.collect { e ->
                when (e) {
                    is QrSyncEvent.QuorumAvailable -> seen += e.quorum
                    is QrSyncEvent.Failure -> problems += e.error.message
                    else -> {}
                }
            }
        }
        client.start()
        val status = client.awaitSynced(timeout = 2.minutes) // at once if already synced
        val held = client.quorums() // every validated quorum the client holds
        client.shutdown() // stops on Dispatchers.IO; the collector ends after the last buffered event
        collector.join()
        // quick-start:end
        return Outcome(seen, problems, status, held)
    }

    @RepeatedTest(20)
    fun quickStartAsDocumentedSeesEveryQuorumEvent(rep: RepetitionInfo) = runBlocking {
        val store = MapStore()
        val out = coroutineScope { quickStart(this, simnet.address(), store) }
        val key = { q: Quorum -> "${q.llmqType}/${q.quorumHash}" }
        assertEquals(SyncState.SYNCED, out.status.state, "run ${rep.currentRepetition}")
        assertTrue(out.status.quorumsValidated > 0u)
        // Every quorum the sync reports reached the collector, once.
        assertEquals(out.status.quorumsValidated.toInt(), out.seen.size, "run ${rep.currentRepetition}: ${out.problems}")
        assertEquals(out.seen.size, out.seen.map(key).toSet().size, "a quorum event was delivered twice")
        assertEquals(out.held.map(key).toSet(), out.seen.map(key).toSet(), "the events and the client's quorum list differ")
        assertTrue(store.map.isNotEmpty(), "the sync saved nothing")
        println("quick start run ${rep.currentRepetition}/20: ${out.seen.size} quorum events, quorumsValidated=${out.status.quorumsValidated}, held=${out.held.size}")
    }
}
