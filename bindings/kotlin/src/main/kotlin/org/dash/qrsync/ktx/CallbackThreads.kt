// One named, attached JVM thread per library callback thread.
package org.dash.qrsync.ktx

import com.sun.jna.Callback
import com.sun.jna.CallbackReference
import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native
import org.dash.qrsync.uniffiCallbackInterfaceHostStore
import org.dash.qrsync.uniffiCallbackInterfaceSyncListener

/**
 * How the library's native threads appear in the JVM.
 *
 * UniFFI's Kotlin bindings call the app through JNA callbacks. By default JNA attaches a native
 * thread to the JVM for one callback and detaches it afterwards, so one native thread shows up
 * as a new `Thread-N` on every call. [install] gives every listener and store callback a JNA
 * `CallbackThreadInitializer`: the first callback on a library thread attaches it once, as a
 * daemon thread with a fixed name, and it stays attached until that thread exits (JNA detaches
 * it then).
 *
 * - Every [org.dash.qrsync.SyncListener] method of one client runs on that client's single
 *   library thread, named [EVENTS_THREAD] (`dqs-events`), one call at a time, in order.
 * - [org.dash.qrsync.HostStore] methods run on the library's runtime threads, named
 *   [STORE_THREAD] (`dqs-rt`); calls are never concurrent.
 *
 * [FlowClient] and [clientConfig] call [install] themselves. An app that uses only the
 * generated API calls it once before it creates its first client.
 */
object CallbackThreads {
    /** The JVM name of the thread that calls [org.dash.qrsync.SyncListener]. */
    const val EVENTS_THREAD = "dqs-events"

    /** The JVM name of the threads that call [org.dash.qrsync.HostStore]. */
    const val STORE_THREAD = "dqs-rt"

    // JNA's value of Native.CB_HAS_INITIALIZER (package-private there).
    private const val CB_HAS_INITIALIZER = 1

    private val installed: Boolean by lazy {
        val events = CallbackThreadInitializer(true, false, EVENTS_THREAD)
        val listener = listOf<Callback>(
            uniffiCallbackInterfaceSyncListener.onProgress,
            uniffiCallbackInterfaceSyncListener.onQuorum,
            uniffiCallbackInterfaceSyncListener.onChainLock,
            uniffiCallbackInterfaceSyncListener.onState,
            uniffiCallbackInterfaceSyncListener.onError,
            uniffiCallbackInterfaceSyncListener.uniffiFree,
            uniffiCallbackInterfaceSyncListener.uniffiClone,
        )
        val store = CallbackThreadInitializer(true, false, STORE_THREAD)
        val storeCallbacks = listOf<Callback>(
            uniffiCallbackInterfaceHostStore.load,
            uniffiCallbackInterfaceHostStore.save,
            uniffiCallbackInterfaceHostStore.remove,
            uniffiCallbackInterfaceHostStore.uniffiFree,
            uniffiCallbackInterfaceHostStore.uniffiClone,
        )
        listener.forEach { Native.setCallbackThreadInitializer(it, events) }
        storeCallbacks.forEach { Native.setCallbackThreadInitializer(it, store) }
        (listener + storeCallbacks).all(::markHasInitializer)
    }

    /**
     * JNA consults a callback's initializer only if the initializer was registered before the
     * callback's native trampoline was made, and the bindings make the trampolines when they
     * load. Creating the trampoline here (public API) covers a first use after [install]; for
     * bindings already loaded, the existing trampoline gets the flag JNA itself would have set
     * (`CallbackReference.setCallbackOptions`, reached by reflection; JNA 5.14 is pinned).
     */
    private fun markHasInitializer(cb: Callback): Boolean {
        CallbackReference.getFunctionPointer(cb)
        return try {
            val cls = CallbackReference::class.java
            val map = cls.getDeclaredField("callbackMap").apply { isAccessible = true }.get(null) as Map<*, *>
            // JNA guards callbackMap with the pointerCallbackMap lock.
            val lock = cls.getDeclaredField("pointerCallbackMap").apply { isAccessible = true }.get(null)
            val ref = synchronized(lock) { map[cb] } ?: return false
            val setOptions = cls.getDeclaredMethod("setCallbackOptions", Int::class.javaPrimitiveType)
            setOptions.isAccessible = true
            setOptions.invoke(ref, CB_HAS_INITIALIZER)
            true
        } catch (e: ReflectiveOperationException) {
            false
        } catch (e: RuntimeException) {
            false
        }
    }

    /**
     * Registers the thread initializers (idempotent, thread-safe). Returns false if JNA's
     * internals were not as expected and callbacks that were set up before this call may still
     * arrive on short-lived `Thread-N` threads (the names only; order and the single native
     * thread are unaffected).
     */
    fun install(): Boolean = installed
}
