// A small builder over the generated ClientConfig whose failures are QrSyncErrors.
package org.dash.qrsync.ktx

import org.dash.qrsync.ClientConfig
import org.dash.qrsync.Network
import org.dash.qrsync.SyncProfile
import org.dash.qrsync.SyncStrategy
import kotlin.time.Duration

/**
 * Builds a [ClientConfig] for [network]:
 * `clientConfig(Network.TESTNET) { peer("203.0.113.7:19999"); profile(SyncProfile.WALLET) }`.
 * Invalid values throw [QrSyncError.InvalidArgument] with the library's message.
 */
fun clientConfig(network: Network, block: ClientConfigScope.() -> Unit = {}): ClientConfig {
    CallbackThreads.install()
    val raw = ClientConfig(network)
    ClientConfigScope(raw).block()
    return raw
}

/** The settings of a [ClientConfig]; see [clientConfig]. */
class ClientConfigScope internal constructor(
    /** The generated configuration being built. */
    val raw: ClientConfig,
) {
    /** Adds a peer, "IP:port". */
    fun peer(address: String) = typed { raw.addPeer(address) }

    /** Also uses the network's DNS seeds for peers. */
    fun dnsSeeds(enabled: Boolean) = raw.setDnsSeeds(enabled)

    /** The masternode-list strategy (default [SyncStrategy.QR_INFO]). */
    fun strategy(strategy: SyncStrategy) = raw.setStrategy(strategy)

    /** Which quorums are validated (default [SyncProfile.FULL]). */
    fun profile(profile: SyncProfile) = raw.setProfile(profile)

    /** Connect and per-request timeouts (positive, at most about 49 days). */
    fun timeouts(connect: Duration, request: Duration) = typed {
        raw.setTimeouts(millis(connect, "connect"), millis(request, "request"))
    }

    /** Peers kept connected, 1 to 16. */
    fun maxPeers(count: Int) = typed {
        if (count < 0) throw QrSyncError.InvalidArgument("max peers must be 1..16, not $count")
        raw.setMaxPeers(count.toUInt())
    }

    /** Keep following the tip after the first sync (default true). */
    fun followTip(follow: Boolean) = raw.setFollowTip(follow)

    private fun millis(d: Duration, what: String): UInt {
        val ms = d.inWholeMilliseconds
        if (ms <= 0 || ms > UInt.MAX_VALUE.toLong()) {
            throw QrSyncError.InvalidArgument("the $what timeout must be positive and fit 32-bit milliseconds, not $d")
        }
        return ms.toUInt()
    }
}
