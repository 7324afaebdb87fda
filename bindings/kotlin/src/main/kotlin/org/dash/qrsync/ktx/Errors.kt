// Typed, readable exceptions for the Kotlin layer.
package org.dash.qrsync.ktx

import org.dash.qrsync.InternalException
import org.dash.qrsync.QrSyncException
import kotlin.time.Duration

/**
 * Every failure the Kotlin layer throws. The subclass says what kind of failure it is and
 * [message] is the library's own sentence (no `reason=` prefix, no stack trace). The generated
 * exception, when there is one, is the [cause].
 *
 * None of these is a `CancellationException`: a timeout is an ordinary failure that
 * `try`/`catch` sees and that does not silently cancel the calling coroutine.
 */
sealed class QrSyncError(message: String, cause: Throwable? = null) : Exception(message, cause) {
    /** The configuration cannot work (for example no peers and no DNS seeds). */
    class InvalidConfig(message: String, cause: Throwable? = null) : QrSyncError(message, cause)

    /** An argument was rejected (a malformed address, hash or lock payload). */
    class InvalidArgument(message: String, cause: Throwable? = null) : QrSyncError(message, cause)

    /** The feature is not compiled into the loaded library (for example the simulator). */
    class NotAvailable(message: String, cause: Throwable? = null) : QrSyncError(message, cause)

    /** The client was stopped or closed before the awaited condition held. */
    class NotRunning(message: String) : QrSyncError(message)

    /** [FlowClient.awaitSynced] gave up after [after]. */
    class Timeout(val after: Duration, message: String) : QrSyncError(message)

    /** A failure inside the library (a bug); [message] is what the library reported. */
    class Internal(message: String, cause: Throwable? = null) : QrSyncError(message, cause)
}

/** The typed error for an exception thrown by the generated bindings (others pass through). */
fun Throwable.toQrSyncError(): Throwable = when (this) {
    is QrSyncError -> this
    is QrSyncException.InvalidConfig -> QrSyncError.InvalidConfig(reason, this)
    is QrSyncException.InvalidArgument -> QrSyncError.InvalidArgument(reason, this)
    is QrSyncException.NotAvailable -> QrSyncError.NotAvailable(reason, this)
    is QrSyncException.Internal -> QrSyncError.Internal(reason, this)
    is InternalException -> QrSyncError.Internal(message ?: "internal error in the bindings", this)
    else -> this
}

/** Runs [block], rethrowing the generated exceptions as [QrSyncError]s. */
internal inline fun <T> typed(block: () -> T): T =
    try {
        block()
    } catch (e: QrSyncException) {
        throw e.toQrSyncError()
    } catch (e: InternalException) {
        throw e.toQrSyncError()
    }
