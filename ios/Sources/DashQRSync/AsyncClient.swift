// Swift concurrency over the generated API: an AsyncStream of events and `await`-able sync.
// The generated `DashQRSync.swift` is copied next to this file by scripts/build-xcframework.sh.
import Foundation
import os

/// Everything a client reports, as one enum.
public enum QrSyncEvent: Sendable {
    case progress(Progress)
    case quorum(Quorum)
    case chainLock(ChainLock)
    case state(SyncState)
    case error(ErrorEvent)
}

private let log = Logger(subsystem: "org.dash.qrsync", category: "sync")

/// A client whose events are an `AsyncStream`. Events are buffered (the library never waits
/// for the app).
public final class AsyncQrSyncClient: @unchecked Sendable {
    public let client: QrSyncClient
    public let events: AsyncStream<QrSyncEvent>
    private let continuation: AsyncStream<QrSyncEvent>.Continuation

    private final class Listener: SyncListener, @unchecked Sendable {
        let continuation: AsyncStream<QrSyncEvent>.Continuation
        init(_ c: AsyncStream<QrSyncEvent>.Continuation) { continuation = c }
        func onProgress(progress: Progress) { continuation.yield(.progress(progress)) }
        func onQuorum(quorum: Quorum) {
            log.info("quorum \(quorum.llmqType) \(quorum.quorumHash, privacy: .public) available")
            continuation.yield(.quorum(quorum))
        }
        func onChainLock(lock: ChainLock) { continuation.yield(.chainLock(lock)) }
        func onState(state: SyncState) { continuation.yield(.state(state)) }
        func onError(error: ErrorEvent) {
            log.error("\(error.message, privacy: .public)")
            continuation.yield(.error(error))
        }
    }

    public init(config: ClientConfig, store: HostStore?) throws {
        var c: AsyncStream<QrSyncEvent>.Continuation!
        events = AsyncStream(bufferingPolicy: .unbounded) { c = $0 }
        continuation = c
        client = try QrSyncClient(config: config, store: store, listener: Listener(c))
    }

    /// Starts syncing (returns at once).
    public func start() throws { try client.start() }

    /// Waits until the client is synced.
    public func synced() async {
        for await e in events {
            if case .state(.synced) = e { return }
        }
    }

    deinit {
        client.stop()
        continuation.finish()
    }
}
