package org.dash.qrsync

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/** A Kotlin store: the app owns persistence; here, a map. */
class MapStore : HostStore {
    val map = ConcurrentHashMap<String, ByteArray>()
    override fun load(key: String): ByteArray? = map[key]
    override fun save(key: String, value: ByteArray) { map[key] = value }
    override fun remove(key: String) { map.remove(key) }
}

class Recorder : SyncListener {
    val states = CopyOnWriteArrayList<SyncState>()
    val quorums = CopyOnWriteArrayList<Quorum>()
    val errors = CopyOnWriteArrayList<ErrorEvent>()
    val progress = CopyOnWriteArrayList<Progress>()
    val synced = CountDownLatch(1)
    override fun onProgress(progress: Progress) { this.progress.add(progress) }
    override fun onQuorum(quorum: Quorum) { quorums.add(quorum) }
    override fun onChainLock(lock: ChainLock) {}
    override fun onState(state: SyncState) {
        states.add(state)
        if (state == SyncState.SYNCED) synced.countDown()
    }
    override fun onError(error: ErrorEvent) { errors.add(error) }
}

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SyncTest {
    private lateinit var simnet: Simnet

    @BeforeAll
    fun startSimnet() {
        simnet = Simnet.start(7uL)
        assertTrue(simnet.tipHeight() > 0u)
    }

    @AfterAll
    fun stopSimnet() {
        simnet.shutdown()
        simnet.close()
    }

    private fun config(): ClientConfig {
        val c = ClientConfig(Network.REGTEST)
        c.addPeer(simnet.address())
        c.setTimeouts(3000u, 5000u)
        return c
    }

    @Test
    fun fullSyncWithAKotlinStoreThenRestart() {
        val store = MapStore()
        val rec = Recorder()
        val client = QrSyncClient(config(), store, rec)
        client.start()
        assertTrue(rec.synced.await(120, TimeUnit.SECONDS), "not synced: ${rec.errors}")
        val status = client.status()
        assertEquals(SyncState.SYNCED, status.state)
        assertTrue(status.quorumsValidated > 0u)
        assertEquals(status.quorumsValidated.toInt(), rec.quorums.size)
        assertTrue(rec.progress.isNotEmpty())
        val cl = client.quorums(100u)
        assertTrue(cl.isNotEmpty())
        val one = client.quorum(100u, cl[0].quorumHash)
        assertNotNull(one)
        assertEquals(48, one!!.publicKey.size)
        client.stop()
        client.close()
        assertTrue(store.map.keys.all { it.startsWith("dqs.") } && store.map.isNotEmpty())

        val rec2 = Recorder()
        val again = QrSyncClient(config(), store, rec2)
        again.start()
        assertTrue(rec2.synced.await(120, TimeUnit.SECONDS))
        again.stop()
        again.close()
    }

    @Test
    fun errorsMapToTypedExceptions() {
        val c = ClientConfig(Network.REGTEST)
        assertThrows<QrSyncException.InvalidArgument> { c.addPeer("not an address") }
        assertThrows<QrSyncException.InvalidConfig> { c.setMaxPeers(0u) }
        assertThrows<QrSyncException.InvalidConfig> { c.setProtocolVersion(70229u) }
        assertThrows<QrSyncException.InvalidConfig> { c.validate() }
        assertEquals(Network.REGTEST, c.network())
        // No peers and no DNS seeds.
        assertThrows<QrSyncException.InvalidConfig> { QrSyncClient(c, null, Recorder()) }
        val client = QrSyncClient(config(), null, Recorder())
        assertThrows<QrSyncException.InvalidArgument> { client.verifyClsig(byteArrayOf(1, 2, 3)) }
        assertThrows<QrSyncException.InvalidArgument> { client.quorum(100u, "zz") }
        client.close()
    }

    @Test
    fun hostCheckpointsAreCheckedAgainstTheKnownOnes() {
        // Core v23.1.2 src/chainparams.cpp: mainnet block 2,421,800 is
        // 000000000000000718ed026ebd644a8b70b42d4cbd7b25304c066c9bf15f85b7 (internal order = reversed).
        val core = "000000000000000718ed026ebd644a8b70b42d4cbd7b25304c066c9bf15f85b7"
            .chunked(2).map { it.toInt(16).toByte() }.reversed().toByteArray()
        val c = ClientConfig(Network.MAINNET)
        val bad = assertThrows<QrSyncException.InvalidConfig> {
            c.addCheckpointHash(2421800u, ByteArray(32) { 7 })
        }
        assertTrue(bad.message!!.contains("the mainnet checkpoint there is 000000000000000718ed"), bad.message)
        c.addCheckpointHash(2421800u, core)
        c.addCheckpointHash(2600000u, ByteArray(32) { 7 })
        assertThrows<QrSyncException.InvalidConfig> { c.addCheckpointHash(2600000u, ByteArray(32) { 8 }) }
        assertThrows<QrSyncException.InvalidArgument> { c.addCheckpointHash(1u, ByteArray(31)) }
    }

    @Test
    fun rawApiMessagesAreTheLibrarysSentences() {
        // The generated exceptions' message is the library's sentence, with no `reason=`.
        val c = ClientConfig(Network.REGTEST)
        val bad = assertThrows<QrSyncException.InvalidArgument> { c.addPeer("not an address") }
        assertEquals("\"not an address\" is not an IP:port address", bad.message)
        assertEquals(bad.reason, bad.message)
        val peers = assertThrows<QrSyncException.InvalidConfig> { c.setMaxPeers(0u) }
        assertEquals("max_peers must be between 1 and 16", peers.message)
    }

    @Test
    fun rawApiStoreFailureIsOneLineNotAStackTrace() {
        // A store that throws an ordinary exception (not StoreFailure), straight on the raw API.
        val store = object : HostStore {
            override fun load(key: String): ByteArray? = null
            override fun save(key: String, value: ByteArray) = throw java.io.IOException("disk full")
            override fun remove(key: String) {}
        }
        val rec = Recorder()
        val client = QrSyncClient(config(), store, rec)
        client.start()
        assertTrue(rec.synced.await(120, TimeUnit.SECONDS), "not synced: ${rec.errors}")
        client.stop()
        client.close()
        val failures = rec.errors.filter { it.kind == ErrorKind.STORE }
        assertTrue(failures.isNotEmpty(), "no store error: ${rec.errors}")
        for (f in failures) {
            assertTrue(f.message.contains("java.io.IOException: disk full"), f.message)
            assertTrue(!f.message.contains("\n") && !f.message.contains("\tat "), f.message)
            assertTrue(!f.message.contains("reason="), f.message)
        }
    }

    /** Display hex of bytes in internal order (how the bindings show hashes). */
    private fun displayHex(internal: ByteArray): String =
        internal.reversed().joinToString("") { "%02x".format(it) }

    @Test
    fun theSimulatorsLocksVerifyAndAFlippedByteDoesNot() {
        val rec = Recorder()
        val client = QrSyncClient(config(), null, rec)
        client.start()
        assertTrue(rec.synced.await(120, TimeUnit.SECONDS), "not synced: ${rec.errors}")
        val status = client.status()
        assertEquals(simnet.tipHeight(), status.headerHeight)
        assertTrue(status.dependentRoundTrips in 1uL..status.roundTrips, "$status")
        val tip = status.headerHeight

        // The ChainLock the simulated network signed for the tip (bytes 4..36: the locked block).
        val clsig = simnet.clsig(tip)!!
        assertEquals(132, clsig.size)
        assertEquals(displayHex(clsig.copyOfRange(4, 36)), client.blockHash(tip))
        assertEquals(null, client.blockHash(tip + 1000u))
        val valid = client.verifyClsig(clsig)
        assertTrue(valid is LockResult.Valid && valid.llmqType == 100.toUByte(), "$valid")
        val flipped = clsig.copyOf().also { it[it.size - 20] = (it[it.size - 20].toInt() xor 1).toByte() }
        assertTrue(client.verifyClsig(flipped) is LockResult.Invalid)
        assertEquals(null, simnet.clsig(tip + 1000u))

        // Its newest InstantSend lock, signed by a rotated quorum (type 103).
        val islock = simnet.latestIslock()!!
        val ok = client.verifyIslock(islock)
        assertTrue(ok is LockResult.Valid && ok.llmqType == 103.toUByte(), "$ok")
        // A flipped signature byte is never valid (Unknown when the previous cycle's quorum set,
        // which Core's rule tries next, is not held; Invalid when it is).
        val badSig = islock.copyOf().also { it[it.size - 20] = (it[it.size - 20].toInt() xor 1).toByte() }
        assertTrue(client.verifyIslock(badSig) !is LockResult.Valid)
        // A flipped bit in the version byte (1 -> 0): invalid outright.
        val badVersion = islock.copyOf().also { it[0] = (it[0].toInt() xor 1).toByte() }
        assertTrue(client.verifyIslock(badVersion) is LockResult.Invalid)
        client.stop()
        client.close()
    }

    @Test
    fun chainParametersUseDashCoresOptionNames() {
        val c = ClientConfig(Network.REGTEST)
        c.setChainParam("dip3params", "2:2")
        c.setChainParam("testactivationheight", "v20@100")
        c.setChainParam("testactivationheight", "mn_rr@100")
        val bad = assertThrows<QrSyncException.InvalidConfig> { c.setChainParam("llmqtestparams", "4:9") }
        assertTrue(bad.message!!.contains("llmqtestparams"), bad.message)
        assertThrows<QrSyncException.InvalidConfig> { c.setChainParam("nosuchoption", "1") }
        c.setDashConf("regtest=1\n[regtest]\ndip3params=2:2\ntestactivationheight=v20@100\ntestactivationheight=mn_rr@100\n")
        val line = assertThrows<QrSyncException.InvalidConfig> { c.setDashConf("regtest=1\n[regtest]\ndip3params=two\n") }
        assertTrue(line.message!!.contains("line 3"), line.message)
    }

    @Test
    fun walletProfileValidatesOnlyChainLockAndInstantSendQuorums() {
        // Logging goes to standard error here (logcat on Android); installed once per process.
        enableLogging(LogLevel.WARN)
        val c = config()
        c.setProfile(SyncProfile.WALLET)
        val rec = Recorder()
        val client = QrSyncClient(c, MapStore(), rec)
        client.start()
        assertTrue(rec.synced.await(120, TimeUnit.SECONDS), "not synced: ${rec.errors}")
        assertTrue(rec.quorums.isNotEmpty())
        // The simulated network's ChainLocks type is 100 and its InstantSend type 103.
        assertTrue(rec.quorums.all { it.llmqType == 100.toUByte() || it.llmqType == 103.toUByte() }, "${rec.quorums.map { it.llmqType }}")
        assertTrue(client.quorums(100u).isNotEmpty())
        client.stop()
        client.close()
    }
}
