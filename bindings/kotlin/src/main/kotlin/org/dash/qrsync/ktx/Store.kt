// Keeps the app's store exceptions readable when they cross into the library.
package org.dash.qrsync.ktx

import org.dash.qrsync.HostStore
import org.dash.qrsync.StoreFailure

/**
 * Wraps the app's [HostStore] so that any exception it throws reaches the library as a
 * [StoreFailure] carrying that exception's message. (Without it, the generated bindings send an
 * unexpected exception's whole stack trace as the error text.) [FlowClient] wraps its store
 * with this; apps using the generated client directly can do the same.
 */
class ReadableStore(private val store: HostStore) : HostStore {
    override fun load(key: String): ByteArray? = guard("load", key) { store.load(key) }

    override fun save(key: String, value: ByteArray) = guard("save", key) { store.save(key, value) }

    override fun remove(key: String) = guard("remove", key) { store.remove(key) }

    private inline fun <T> guard(op: String, key: String, block: () -> T): T =
        try {
            block()
        } catch (e: StoreFailure) {
            throw e
        } catch (e: Exception) {
            val what = e.message?.takeIf { it.isNotBlank() } ?: e.javaClass.simpleName
            throw StoreFailure.Failed("$op $key: $what")
        }
}
