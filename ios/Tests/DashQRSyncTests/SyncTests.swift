// Mirrors bindings/kotlin/src/test/kotlin/org/dash/qrsync/SyncTest.kt. Needs the xcframework
// built with --simnet (scripts/build-xcframework.sh --simnet). Not run on the Linux CI machine.
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

final class SyncTests: XCTestCase {
    func config(_ simnet: Simnet) throws -> ClientConfig {
        let c = ClientConfig(network: .regtest)
        try c.addPeer(address: simnet.address())
        try c.setTimeouts(connectMs: 3000, requestMs: 5000)
        return c
    }

    func testFullSyncWithASwiftStoreThenRestart() async throws {
        let simnet = try Simnet.start(seed: 7)
        defer { simnet.shutdown() }
        let store = MapStore()
        let client = try AsyncQrSyncClient(config: try config(simnet), store: store)
        try client.start()
        await client.synced()
        let status = client.client.status()
        XCTAssertEqual(status.state, .synced)
        XCTAssertGreaterThan(status.quorumsValidated, 0)
        let quorums = client.client.quorums(llmqType: 100)
        XCTAssertFalse(quorums.isEmpty)
        client.client.stop()
        XCTAssertFalse(store.isEmpty)

        let again = try AsyncQrSyncClient(config: try config(simnet), store: store)
        try again.start()
        await again.synced()
    }

    func testErrorsAreTyped() throws {
        let c = ClientConfig(network: .regtest)
        XCTAssertThrowsError(try c.addPeer(address: "not an address"))
        XCTAssertThrowsError(try QrSyncClient(config: c, store: nil, listener: NullListener()))
    }
}

final class NullListener: SyncListener, @unchecked Sendable {
    func onProgress(progress: Progress) {}
    func onQuorum(quorum: Quorum) {}
    func onChainLock(lock: ChainLock) {}
    func onState(state: SyncState) {}
    func onError(error: ErrorEvent) {}
}
