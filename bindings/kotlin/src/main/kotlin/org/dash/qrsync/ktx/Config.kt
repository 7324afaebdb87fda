// A small builder over the generated ClientConfig whose failures are QrSyncErrors.
package org.dash.qrsync.ktx

import org.dash.qrsync.ClientConfig
import org.dash.qrsync.Network
import org.dash.qrsync.SyncProfile
import kotlin.time.Duration

/**
 * Builds a [ClientConfig] for [network]:
 * `clientConfig(Network.TESTNET) { peer("203.0.113.7:19999"); profile(SyncProfile.WALLET) }`.
 * Values the library's configuration check refuses throw [QrSyncError.InvalidConfig], malformed
 * ones (an address that is not "IP:port") [QrSyncError.InvalidArgument], with the library's
 * message (the same as from Rust and C).
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

    /** Which quorums are validated (default [SyncProfile.FULL]). */
    fun profile(profile: SyncProfile) = raw.setProfile(profile)

    /** Connect and per-request timeouts (positive, at most about 49 days). */
    fun timeouts(connect: Duration, request: Duration) = typed {
        raw.setTimeouts(millis(connect, "connect"), millis(request, "request"))
    }

    /** Peers kept connected, 1 to 16 (checked by the library; a negative count is out of range too). */
    fun maxPeers(count: Int) = typed {
        raw.setMaxPeers(if (count < 0) UInt.MAX_VALUE else count.toUInt())
    }

    /** The protocol version advertised to peers (default: the newest the library speaks). */
    fun protocolVersion(version: Int) = typed {
        raw.setProtocolVersion(if (version < 0) 0u else version.toUInt())
    }

    /** Starts the header chain at a trusted checkpoint: its height and 80-byte header. */
    fun checkpoint(height: Int, header: ByteArray) = typed {
        raw.setCheckpoint(if (height < 0) UInt.MAX_VALUE else height.toUInt(), header)
    }

    /** Keep following the tip after the first sync (default true). */
    fun followTip(follow: Boolean) = raw.setFollowTip(follow)

    // Zero and negative durations go to the library as 0, which its check refuses; only a
    // duration too long for 32-bit milliseconds is refused here (a conversion, not a rule).
    private fun millis(d: Duration, what: String): UInt {
        val ms = d.inWholeMilliseconds
        if (ms > UInt.MAX_VALUE.toLong()) {
            throw QrSyncError.InvalidArgument("the $what timeout must fit 32-bit milliseconds, not $d")
        }
        return if (ms <= 0) 0u else ms.toUInt()
    }
}
