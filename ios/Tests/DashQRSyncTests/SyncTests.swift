// Mirrors the Kotlin JVM tests (bindings/kotlin/src/test). Needs the xcframework built with
// --simnet (ios/scripts/build-xcframework.sh --simnet). NOT compiled or run on the project's
// Linux CI machine (no Swift toolchain there): run `swift test` in ios/ on a Mac.
import XCTest
@testable import DashQRSync

final class MapStore: HostStore, @unchecked Sendable {
    private var map: [String: Data] = [:]
    private let lock = NSLock()
    func load(key: String) throws -> Data? { lock.lock(); defer { lock.unlock() }; return map[key] }
    func save(key: String, value: Data) throws { lock.lock(); map[key] = value; lock.unlock() }
    func remove(key: String) throws { lock.lock(); map[key] = nil; lock.unlock() }
    var isEmpty: Bool { lock.lock(); defer { lock.unlock() }; return map.isEmpty }
}

struct DiskFull: LocalizedError {
    var errorDescription: String? { "disk full" }
}

final class FailingStore: HostStore, @unchecked Sendable {
    func load(key: String) throws -> Data? { nil }
    func save(key: String, value: Data) throws { throw DiskFull() }
    func remove(key: String) throws {}
}

final class NullListener: SyncListener, @unchecked Sendable {
    func onProgress(progress: DashQRSync.Progress) {}
    func onQuorum(quorum: Quorum) {}
    func onChainLock(lock: ChainLock) {}
    func onState(state: SyncState) {}
    func onError(error: ErrorEvent) {}
}

final class SyncTests: XCTestCase {
    var simnet: Simnet!

    override func setUpWithError() throws {
        simnet = try Simnet.start(seed: 7)
    }

    override func tearDown() {
        simnet.shutdown()
        simnet = nil
    }

    func config() throws -> ClientConfig {
        try clientConfig(network: .regtest) { c in
            try c.peer(simnet.address())
            try c.timeouts(connect: 3, request: 5)
        }
    }

    /// The Swift quick start of docs/BINDINGS.md exactly as written (the lines between the
    /// markers are compared with the document by bindings/kotlin/check-quickstart.sh).
    func quickStart(simnetAddress: String, store: HostStore) async throws -> (seen: [Quorum], status: Status, held: [Quorum]) {
        // quick-start:begin
        let config = try clientConfig(network: .regtest) { c in
            try c.peer(simnetAddress) // a real network: try c.peer("203.0.113.7:19999") or c.dnsSeeds(true)
            try c.timeouts(connect: 3, request: 5)
        }
        let client = try AsyncQrSyncClient(config: config, store: store) // store: the app's HostStore
        let events = client.events() // subscribed now, before start()
        let collector = Task {
            var seen: [Quorum] = []
            for await event in events {
                if case let .quorum(q) = event { seen.append(q) }
            }
            return seen
        }
        try client.start()
        let status = try await client.synced(timeout: 120) // at once if already synced
        let held = client.quorums() // every validated quorum the client holds
        client.close() // returns at once; the stream ends after its last buffered event
        let seen = await collector.value
        // quick-start:end
        return (seen, status, held)
    }

    func testQuickStartAsDocumentedSeesEveryQuorumEvent20Times() async throws {
        for run in 1...20 {
            let store = MapStore()
            let out = try await quickStart(simnetAddress: simnet.address(), store: store)
            let key = { (q: Quorum) in "\(q.llmqType)/\(q.quorumHash)" }
            XCTAssertEqual(out.status.state, .synced, "run \(run)")
            XCTAssertGreaterThan(out.status.quorumsValidated, 0)
            XCTAssertEqual(Int(out.status.quorumsValidated), out.seen.count, "run \(run)")
            XCTAssertEqual(Set(out.seen.map(key)).count, out.seen.count, "a quorum event was delivered twice")
            XCTAssertEqual(Set(out.held.map(key)), Set(out.seen.map(key)))
            XCTAssertFalse(store.isEmpty)
        }
    }

    func testSyncedReturnsAtOnceWhenSyncedAndAgain() async throws {
        let client = try AsyncQrSyncClient(config: try config(), store: MapStore())
        defer { client.close() }
        try client.start()
        _ = try await client.synced(timeout: 120)
        XCTAssertEqual(client.state, .synced)
        for _ in 0..<5 {
            // A 1 ms budget is only met by an immediate return.
            let s = try await client.synced(timeout: 0.001)
            XCTAssertEqual(s.state, .synced)
        }
        XCTAssertNotNil(client.progress)
    }

    func testSyncedTimesOut() async throws {
        // Nothing listens on port 1 of the loopback address.
        let c = try clientConfig(network: .regtest) { c in
            try c.peer("127.0.0.1:1")
            try c.timeouts(connect: 0.2, request: 0.2)
        }
        let client = try AsyncQrSyncClient(config: c, store: nil)
        defer { client.close() }
        try client.start()
        do {
            _ = try await client.synced(timeout: 0.3)
            XCTFail("synced without a peer")
        } catch let e as DashQRSyncError {
            guard case .timeout = e else { return XCTFail("\(e)") }
            XCTAssertTrue(e.description.hasPrefix("not synced after 0.3 s"), e.description)
        }
    }

    func testSyncedAfterCloseSaysNotRunningAndStreamsEnd() async throws {
        let client = try AsyncQrSyncClient(config: try config(), store: nil)
        client.close()
        XCTAssertEqual(client.state, .stopped)
        do {
            _ = try await client.synced(timeout: 5)
            XCTFail("synced after close")
        } catch let e as DashQRSyncError {
            XCTAssertEqual(e, .notRunning("the client stopped before it was synced"))
        }
        for await _ in client.events() {}
    }

    func testTwoSubscribersEachSeeTheWholeSync() async throws {
        let client = try AsyncQrSyncClient(config: try config(), store: MapStore())
        let a = client.events()
        let b = client.events()
        func count(_ s: AsyncStream<QrSyncEvent>) -> Task<(quorums: Int, total: Int), Never> {
            Task {
                var q = 0, n = 0
                for await e in s {
                    n += 1
                    if case .quorum = e { q += 1 }
                }
                return (q, n)
            }
        }
        let ta = count(a), tb = count(b)
        try client.start()
        let status = try await client.synced()
        client.close()
        let ra = await ta.value, rb = await tb.value
        XCTAssertEqual(ra.quorums, Int(status.quorumsValidated))
        XCTAssertEqual(ra.total, rb.total)
        XCTAssertEqual(ra.quorums, rb.quorums)
        XCTAssertEqual(client.droppedEvents, 0)
    }

    /// The simulated network's own ChainLock and InstantSend lock verify as valid; a flipped
    /// byte does not.
    func testTheSimulatorsLocksVerifyAndAFlippedByteDoesNot() async throws {
        let client = try AsyncQrSyncClient(config: try config(), store: nil)
        defer { client.close() }
        try client.start()
        let status = try await client.synced(timeout: 120)
        XCTAssertEqual(status.headerHeight, simnet.tipHeight())
        XCTAssertGreaterThan(status.dependentRoundTrips, 0)
        let tip = status.headerHeight
        let clsig = try XCTUnwrap(simnet.clsig(height: tip))
        XCTAssertEqual(clsig.count, 132)
        let lockedBlock = clsig.subdata(in: 4..<36).reversed().map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(client.blockHash(height: tip), lockedBlock)
        guard case let .valid(llmqType, _) = try client.verifyClsig(clsig) else { return XCTFail("clsig not valid") }
        XCTAssertEqual(llmqType, 100)
        var flipped = clsig
        flipped[flipped.count - 20] ^= 1
        guard case .invalid = try client.verifyClsig(flipped) else { return XCTFail("flipped clsig not invalid") }
        let islock = try XCTUnwrap(simnet.latestIslock())
        guard case let .valid(isType, _) = try client.verifyIslock(islock) else { return XCTFail("islock not valid") }
        XCTAssertEqual(isType, 103)
        var badVersion = islock
        badVersion[0] ^= 1
        guard case .invalid = try client.verifyIslock(badVersion) else { return XCTFail("version 0 islock not invalid") }
    }

    func testErrorsAreTypedAndReadable() throws {
        XCTAssertThrowsError(try clientConfig(network: .regtest) { try $0.peer("not an address") }) { error in
            XCTAssertEqual(error as? DashQRSyncError, .invalidArgument("\"not an address\" is not an IP:port address"))
            XCTAssertEqual("\(error)", "\"not an address\" is not an IP:port address")
            XCTAssertEqual(error.localizedDescription, "\"not an address\" is not an IP:port address")
        }
        // The raw generated API: its error's description is the library's sentence too.
        XCTAssertThrowsError(try ClientConfig(network: .regtest).addPeer(address: "not an address")) { error in
            XCTAssertEqual(error.localizedDescription, "\"not an address\" is not an IP:port address")
        }
        XCTAssertThrowsError(try AsyncQrSyncClient(config: ClientConfig(network: .regtest), store: nil)) { error in
            guard case .invalidConfig = error as? DashQRSyncError else { return XCTFail("\(error)") }
        }
        // Configuration values are checked by the library: the same message as from Rust and C.
        XCTAssertThrowsError(try clientConfig(network: .regtest) { try $0.maxPeers(0) }) { error in
            XCTAssertEqual(error as? DashQRSyncError, .invalidConfig("max_peers must be between 1 and 16"))
        }
        // The generated API still throws its own type.
        XCTAssertThrowsError(try QrSyncClient(config: ClientConfig(network: .regtest), store: nil, listener: NullListener()))
    }

    func testAFailingStoreIsReportedWithItsMessage() async throws {
        let client = try AsyncQrSyncClient(config: try config(), store: FailingStore())
        let events = client.events()
        let collector = Task { () -> [ErrorEvent] in
            var errors: [ErrorEvent] = []
            for await e in events { if case let .error(err) = e { errors.append(err) } }
            return errors
        }
        try client.start()
        _ = try await client.synced()
        client.close()
        let storeErrors = await collector.value.filter { $0.kind == .store }
        XCTAssertFalse(storeErrors.isEmpty)
        for e in storeErrors { XCTAssertTrue(e.message.contains("disk full"), e.message) }
    }
}
