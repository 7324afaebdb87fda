// Swift concurrency over the generated API (DashQRSync.swift next to this file is a copy of
// bindings/generated/swift/DashQRSync.swift; ios/scripts/check-generated.sh keeps them equal):
// one AsyncStream per subscriber, stored state, `synced(timeout:)`, typed readable errors.
import Foundation
#if canImport(os)
import os
#endif

// The generated records and enums are declared Sendable only by Swift 6 compilers; they are
// plain values, so older compilers get the same conformance here.
#if !compiler(>=6)
extension Progress: @unchecked Sendable {}
extension Quorum: @unchecked Sendable {}
extension ChainLock: @unchecked Sendable {}
extension ErrorEvent: @unchecked Sendable {}
extension Status: @unchecked Sendable {}
extension LockResult: @unchecked Sendable {}
extension SyncState: @unchecked Sendable {}
extension ErrorKind: @unchecked Sendable {}
#endif

/// Everything a client reports, as one enum.
public enum QrSyncEvent: Sendable {
    case progress(Progress)
    case quorum(Quorum)
    case chainLock(ChainLock)
    case state(SyncState)
    case error(ErrorEvent)
    /// This subscriber's buffer was full and `count` events were dropped for it (only for it)
    /// just before this point.
    case eventsDropped(count: Int)
}

/// The failures of the Swift layer. `description` and `errorDescription` are the library's
/// own sentence, without the case name or a `reason:` label.
public enum DashQRSyncError: Error, LocalizedError, CustomStringConvertible, Equatable, Sendable {
    /// The configuration cannot work (for example no peers and no DNS seeds).
    case invalidConfig(String)
    /// An argument was rejected (a malformed address, hash or lock payload).
    case invalidArgument(String)
    /// The feature is not compiled into the linked library (for example the simulator).
    case notAvailable(String)
    /// The client was stopped or closed before the awaited condition held.
    case notRunning(String)
    /// `synced(timeout:)` gave up.
    case timeout(String)
    /// The app's store failed.
    case store(String)
    /// A failure inside the library (a bug).
    case internalError(String)

    /// The error for anything the generated API throws.
    public init(_ error: Error) {
        if let e = error as? DashQRSyncError {
            self = e
        } else if let e = error as? QrSyncError {
            switch e {
            case let .InvalidConfig(reason): self = .invalidConfig(reason)
            case let .InvalidArgument(reason): self = .invalidArgument(reason)
            case let .NotAvailable(reason): self = .notAvailable(reason)
            case let .Internal(reason): self = .internalError(reason)
            }
        } else if let e = error as? StoreFailure {
            switch e {
            case let .Failed(reason): self = .store(reason)
            }
        } else {
            self = .internalError(String(describing: error))
        }
    }

    /// The library's message.
    public var message: String {
        switch self {
        case let .invalidConfig(m), let .invalidArgument(m), let .notAvailable(m), let .notRunning(m),
             let .timeout(m), let .store(m), let .internalError(m):
            return m
        }
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}

/// Runs `body`, rethrowing what the generated API throws as a `DashQRSyncError`.
@discardableResult
func typed<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw DashQRSyncError(error)
    }
}

/// The settings of a `ClientConfig`; see `clientConfig(network:_:)`.
public struct ClientConfigBuilder {
    /// The generated configuration being built.
    public let raw: ClientConfig

    /// Adds a peer, "IP:port".
    public func peer(_ address: String) throws { try typed { try raw.addPeer(address: address) } }
    /// Also uses the network's DNS seeds.
    public func dnsSeeds(_ enabled: Bool) { raw.setDnsSeeds(enabled: enabled) }
    /// Which quorums are validated.
    public func profile(_ profile: SyncProfile) { raw.setProfile(profile: profile) }
    /// Peers kept connected, 1 to 16 (checked by the library).
    public func maxPeers(_ count: UInt32) throws { try typed { try raw.setMaxPeers(maxPeers: count) } }
    /// The protocol version advertised to peers (default: the newest the library speaks).
    public func protocolVersion(_ version: UInt32) throws { try typed { try raw.setProtocolVersion(version: version) } }
    /// Starts the header chain at a trusted checkpoint: its height and 80-byte header.
    public func checkpoint(height: UInt32, header: Data) throws {
        try typed { try raw.setCheckpoint(height: height, header: header) }
    }
    /// Keep following the tip after the first sync (default true).
    public func followTip(_ follow: Bool) { raw.setFollowTip(follow: follow) }

    /// Connect and per-request timeouts in seconds (positive, at most 32-bit milliseconds).
    /// Zero and negative values go to the library as 0, which its check refuses with the same
    /// message as from Rust and C; only a value too long for 32-bit milliseconds is refused here.
    public func timeouts(connect: TimeInterval, request: TimeInterval) throws {
        func millis(_ s: TimeInterval, _ what: String) throws -> UInt32 {
            let ms = (s * 1000).rounded()
            guard ms <= Double(UInt32.max) else {
                throw DashQRSyncError.invalidArgument("the \(what) timeout must fit 32-bit milliseconds, not \(s) s")
            }
            return ms >= 1 ? UInt32(ms) : 0
        }
        let c = try millis(connect, "connect")
        let r = try millis(request, "request")
        try typed { try raw.setTimeouts(connectMs: c, requestMs: r) }
    }
}

/// Builds a `ClientConfig`; failures are `DashQRSyncError`s with the library's message.
public func clientConfig(network: Network, _ configure: (ClientConfigBuilder) throws -> Void = { _ in }) throws -> ClientConfig {
    let raw = ClientConfig(network: network)
    try configure(ClientConfigBuilder(raw: raw))
    return raw
}

/// Wraps the app's store so that whatever it throws reaches the library as a `StoreFailure`
/// carrying the error's localized description.
public final class ReadableStore: HostStore, @unchecked Sendable {
    private let store: HostStore
    public init(_ store: HostStore) { self.store = store }

    private func guarded<T>(_ op: String, _ key: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as StoreFailure {
            throw e
        } catch {
            throw StoreFailure.Failed(reason: "\(op) \(key): \(error.localizedDescription)")
        }
    }

    public func load(key: String) throws -> Data? { try guarded("load", key) { try store.load(key: key) } }
    public func save(key: String, value: Data) throws { try guarded("save", key) { try store.save(key: key, value: value) } }
    public func remove(key: String) throws { try guarded("remove", key) { try store.remove(key: key) } }
}

#if canImport(os)
private let log = Logger(subsystem: "org.dash.qrsync", category: "sync")
#endif

/// The shared part between the client, its listener and its streams: subscribers, state and
/// waiters, all behind one lock. Callbacks come from the library's single `dqs-events` thread.
private final class EventHub: @unchecked Sendable {
    final class Subscriber {
        let continuation: AsyncStream<QrSyncEvent>.Continuation
        // Only touched on the events thread (and in `finishAll`, after the client stopped).
        var pendingDrops = 0
        init(_ c: AsyncStream<QrSyncEvent>.Continuation) { continuation = c }

        /// False when the event was dropped because this subscriber's buffer is full.
        func offer(_ event: QrSyncEvent) -> Bool {
            if pendingDrops > 0 {
                switch continuation.yield(.eventsDropped(count: pendingDrops)) {
                case .enqueued: pendingDrops = 0
                case .dropped: pendingDrops += 1; return false
                case .terminated: return true
                @unknown default: return true
                }
            }
            switch continuation.yield(event) {
            case .enqueued, .terminated: return true
            case .dropped: pendingDrops += 1; return false
            @unknown default: return true
            }
        }
    }

    private let lock = NSLock()
    private var subscribers: [UUID: Subscriber] = [:]
    private var waiters: [UUID: CheckedContinuation<Void, Error>] = [:]
    private var currentState: SyncState = .idle
    private var currentProgress: Progress?
    private var dropped = 0
    private var closed = false

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    var state: SyncState { locked { currentState } }
    var progress: Progress? { locked { currentProgress } }
    var droppedEvents: Int { locked { dropped } }

    func subscribe(_ id: UUID, _ continuation: AsyncStream<QrSyncEvent>.Continuation) {
        let isClosed: Bool = locked {
            if !closed { subscribers[id] = Subscriber(continuation) }
            return closed
        }
        if isClosed { continuation.finish() }
    }

    func unsubscribe(_ id: UUID) { locked { _ = subscribers.removeValue(forKey: id) } }

    func publish(_ event: QrSyncEvent) {
        let subs = locked { Array(subscribers.values) }
        var lost = 0
        for s in subs where !s.offer(event) { lost += 1 }
        if lost > 0 { locked { dropped += lost } }
    }

    func setProgress(_ p: Progress) { locked { currentProgress = p } }

    func setState(_ s: SyncState) {
        let resume: [CheckedContinuation<Void, Error>] = locked {
            // Events still queued in the library when it was closed do not revive the state.
            if closed && s != .stopped { return [] }
            currentState = s
            guard s == .synced || s == .stopped || s == .updateRequired else { return [] }
            let w = Array(waiters.values)
            waiters.removeAll()
            return w
        }
        for c in resume {
            if s == .synced {
                c.resume()
            } else if s == .updateRequired {
                c.resume(throwing: DashQRSyncError.notRunning(
                    "the network speaks a newer protocol than this library reads: update DashQRSync"))
            } else {
                c.resume(throwing: DashQRSyncError.notRunning("the client stopped before it was synced"))
            }
        }
    }

    enum Wait { case synced, stopped, waiting }

    func addWaiter(_ id: UUID, _ c: CheckedContinuation<Void, Error>) -> Wait {
        locked {
            if currentState == .synced { return .synced }
            if currentState == .stopped || currentState == .updateRequired || closed { return .stopped }
            waiters[id] = c
            return .waiting
        }
    }

    func failWaiter(_ id: UUID, _ error: Error) {
        if let c = locked({ waiters.removeValue(forKey: id) }) { c.resume(throwing: error) }
    }

    /// Marks the hub closed and wakes every waiter; false if it already was.
    func markClosed() -> Bool {
        let wasClosed = locked { () -> Bool in
            let was = closed
            closed = true
            return was
        }
        if wasClosed { return false }
        setState(.stopped)
        return true
    }

    /// Ends every stream (after the client stopped: no more callbacks).
    func finishAll() {
        let subs: [Subscriber] = locked {
            let s = Array(subscribers.values)
            subscribers.removeAll()
            return s
        }
        for s in subs {
            if s.pendingDrops > 0 { _ = s.continuation.yield(.eventsDropped(count: s.pendingDrops)) }
            s.continuation.finish()
        }
    }
}

private final class HubListener: SyncListener, @unchecked Sendable {
    let hub: EventHub
    init(_ hub: EventHub) { self.hub = hub }

    func onProgress(progress: Progress) {
        hub.publish(.progress(progress))
        hub.setProgress(progress)
    }

    func onQuorum(quorum: Quorum) {
        #if canImport(os)
        log.info("quorum \(quorum.llmqType) \(quorum.quorumHash, privacy: .public) available")
        #endif
        hub.publish(.quorum(quorum))
    }

    func onChainLock(lock: ChainLock) { hub.publish(.chainLock(lock)) }

    func onState(state: SyncState) {
        // The event first: whoever sees the new state finds the event already buffered.
        hub.publish(.state(state))
        hub.setState(state)
    }

    func onError(error: ErrorEvent) {
        #if canImport(os)
        log.error("\(error.message, privacy: .public)")
        #endif
        hub.publish(.error(error))
    }
}

/// A client for Swift concurrency.
///
/// - Events: every call of `events()` makes a new `AsyncStream` subscribed at once, with its own
///   buffer of `eventBuffer` events; each subscriber receives every event reported after it
///   subscribed (no replay: `state` and `progress` hold the latest values). When a subscriber is
///   `eventBuffer` events behind, newer events are dropped for it only, counted in
///   `droppedEvents` and announced by one `.eventsDropped` when it has room again (or as its
///   last element at `close()`, if there is room then). The library's thread never waits.
///   `close()` finishes every stream after its buffered events.
/// - `synced(timeout:)` returns at once when synced, can be called any number of times, and
///   throws `DashQRSyncError.timeout` or `.notRunning` (stopped or closed first).
/// - `close()` and `deinit` never block: the library is stopped on a background queue.
public final class AsyncQrSyncClient: @unchecked Sendable {
    /// The generated client underneath (its calls block and throw `QrSyncError`).
    public let client: QrSyncClient
    /// Events buffered per subscriber.
    public let eventBuffer: Int
    private let hub: EventHub
    private static let stopQueue = DispatchQueue(label: "org.dash.qrsync.stop", qos: .utility, attributes: .concurrent)

    /// The default per-subscriber buffer: far more than a cold sync reports.
    public static let defaultEventBuffer = 4096

    public init(config: ClientConfig, store: HostStore?, eventBuffer: Int = AsyncQrSyncClient.defaultEventBuffer) throws {
        precondition(eventBuffer >= 1, "eventBuffer must be at least 1")
        let hub = EventHub()
        self.hub = hub
        self.eventBuffer = eventBuffer
        let wrapped: HostStore? = store.map { s -> HostStore in (s as? ReadableStore) ?? ReadableStore(s) }
        client = try typed { try QrSyncClient(config: config, store: wrapped, listener: HubListener(hub)) }
    }

    /// The latest sync state (`.stopped` once stopped or closed).
    public var state: SyncState { hub.state }
    /// The latest progress report, nil before the first.
    public var progress: Progress? { hub.progress }
    /// Events dropped so far, summed over all subscribers whose buffer was full.
    public var droppedEvents: Int { hub.droppedEvents }

    /// A new stream of this client's events (see the type's documentation).
    public func events() -> AsyncStream<QrSyncEvent> {
        let hub = self.hub
        let id = UUID()
        return AsyncStream(bufferingPolicy: .bufferingOldest(eventBuffer)) { continuation in
            continuation.onTermination = { _ in hub.unsubscribe(id) }
            hub.subscribe(id, continuation)
        }
    }

    /// Starts syncing in the background (returns at once).
    public func start() throws { try typed { try client.start() } }

    /// Returns at once when synced, else waits until synced; returns a status snapshot.
    public func synced(timeout: TimeInterval = 120) async throws -> Status {
        let hub = self.hub
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                switch hub.addWaiter(id, c) {
                case .synced:
                    c.resume()
                case .stopped:
                    c.resume(throwing: DashQRSyncError.notRunning("the client stopped before it was synced"))
                case .waiting:
                    if Task.isCancelled {
                        hub.failWaiter(id, CancellationError())
                        return
                    }
                    DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                        hub.failWaiter(id, DashQRSyncError.timeout("not synced after \(timeout) s (state \(hub.state))"))
                    }
                }
            }
        } onCancel: {
            hub.failWaiter(id, CancellationError())
        }
        return client.status()
    }

    /// A status snapshot.
    public func status() -> Status { client.status() }

    /// A validated quorum by LLMQ type and hash (display hex), or nil.
    public func quorum(llmqType: UInt8, quorumHash: String) throws -> Quorum? {
        try typed { try client.quorum(llmqType: llmqType, quorumHash: quorumHash) }
    }

    /// The validated quorums of one LLMQ type, newest first.
    public func quorums(llmqType: UInt8) -> [Quorum] { client.quorums(llmqType: llmqType) }

    /// Every validated quorum the client holds, by LLMQ type, newest first within a type.
    public func quorums() -> [Quorum] { (0...255).flatMap { client.quorums(llmqType: UInt8($0)) } }

    /// Verifies a serialized `clsig` payload.
    public func verifyClsig(_ payload: Data) throws -> LockResult { try typed { try client.verifyClsig(payload: payload) } }

    /// Verifies a serialized `isdlock` payload.
    public func verifyIslock(_ payload: Data) throws -> LockResult { try typed { try client.verifyIslock(payload: payload) } }

    /// The block hash (display hex) of the header chain at `height`, or nil beyond it.
    public func blockHash(height: UInt32) -> String? { client.blockHash(height: height) }

    /// Stops syncing (on a background queue; the library bounds it to a few seconds). Streams
    /// stay open until `close()`.
    public func stop() async {
        let client = self.client
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            AsyncQrSyncClient.stopQueue.async {
                client.stop()
                c.resume()
            }
        }
        hub.setState(.stopped)
    }

    /// Stops the client on a background queue and finishes every stream once the library has
    /// stopped; returns at once. Waiting `synced` calls throw `.notRunning`. Idempotent.
    public func close() {
        AsyncQrSyncClient.shutDown(client: client, hub: hub)
    }

    private static func shutDown(client: QrSyncClient, hub: EventHub) {
        guard hub.markClosed() else { return }
        stopQueue.async {
            client.stop()
            hub.finishAll()
        }
    }

    deinit {
        AsyncQrSyncClient.shutDown(client: client, hub: hub)
    }
}
