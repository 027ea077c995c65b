import AirlockCatalog
import AirlockCore
import AirlockPublish
import AirlockTestSupport
import Foundation
import Synchronization
import Testing

@Suite struct SnapshotPublisherTests {
    @Test func overridesAndRevocationsAmendThePolicy() async throws {
        let f = try await CatalogFixture()
        try await f.sync([release("ok", "1.0", .approve, []), release("held", "1.0", .review, []), release("held", "2.0", .review, [])])
        let desk = ReviewDesk(catalog: f.catalog, dataDirectory: f.directory.path)
        var (_, s) = try await desk.approve(
            .pypi, project: "held", versions: ">=1", reason: "read it", expiresAt: nil, withDependencies: false, actor: "t")
        #expect(try await f.served(s) == ["held==1.0", "held==2.0", "ok==1.0"])
        (_, s) = try await desk.deny(.pypi, project: "held", versions: "2.0", reason: "bad build", expiresAt: nil, actor: "t")
        #expect(try await f.served(s) == ["held==1.0", "ok==1.0"], "a deny wins over an approve")
        (_, s) = try await desk.revoke(.pypi, project: "ok", version: "1.0", reason: "malware", actor: "t")
        #expect(try await f.served(s) == ["held==1.0"])
        #expect(try await f.served(try f.catalog.snapshot(.pypi, .id(1))!) == [], "a revocation reaches back into every snapshot")
        // A sync after the review keeps the reviewers' word.
        s = try await f.sync([release("ok", "1.0", .approve, []), release("held", "1.0", .review, []), release("held", "2.0", .review, [])])
        #expect(try await f.served(s) == ["held==1.0"])
    }

    @Test func anExpiredApprovalNoLongerApplies() async throws {
        let f = try await CatalogFixture()
        try await f.sync([release("held", "1.0", .review, [])])
        let now = Date()
        _ = try await f.catalog.addOverrides(
            .pypi,
            [
                OverrideRequest(
                    project: "held", versions: try VersionRange("", ecosystem: .pypi), action: .approve, reason: "for now", expiresAt: now + 60)
            ],
            actor: "t", at: now)
        #expect(try await f.served(try f.publisher.republish(.pypi, actor: "t", at: now + 1)) == ["held==1.0"])
        #expect(try await f.served(try f.publisher.republish(.pypi, actor: "expiry", at: now + 61)) == [])
    }

    @Test func theReviewClosureEvaluatesMarkersLikeTheResolver() async throws {
        let f = try await CatalogFixture()
        try await f.sync([
            release(
                "app", "1.0", .review, ["dep>=1", "winonly>=1; sys_platform == 'win32'", "extraonly; extra == 'docs'", "old; python_version < '3.0'"]),
            release("dep", "1.2", .review, []), release("winonly", "1.0", .review, []), release("extraonly", "1.0", .review, []),
            release("old", "1.0", .review, []),
        ])
        let closure = try await ReviewQueue(catalog: f.catalog).closure(.pypi, project: "app", version: "1.0")
        #expect(closure.map(\.project) == ["dep"], "only what the synced targets install: \(closure.map(\.project))")
    }

    /// Syncs and review acts publish concurrently against one data directory. Every publication must
    /// contain what its own act added, and the last snapshot must be the publish rule applied to the
    /// final state: no addition of a sync lost to a review act's publication, nor the other way round.
    @Test(arguments: 0..<3) func concurrentSyncsAndReviewsLoseNothing(round: Int) async throws {
        let f = try await CatalogFixture(onDisk: true)
        let iterations = 25
        let held = (0..<iterations).map { release("held\($0)", "1.0", .review, []) }
        try await f.sync(held)
        let candidates = Candidates(try await f.catalog.record(.pypi, held, at: Date()).map(\.releaseID))
        let path = f.directory.path
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // The sync: every round adds one approved release to the candidates.
                let catalog = try await CatalogFixture.open(path)
                let publisher = SnapshotPublisher(catalog: catalog, dataDirectory: path)
                for i in 0..<iterations {
                    let added = try await catalog.record(.pypi, [release("synced\(i)", "1.0", .approve, [])], at: Date())
                    let ids = candidates.adding(added.map(\.releaseID))
                    let s = try await publisher.publish(
                        PublishRequest(
                            ecosystem: .pypi, actor: "sync", at: Date(), sync: .init(candidates: ids, policyDigest: "test", policy: nil, targets: []))
                    )
                    let served = Set(try await catalog.servedFiles(in: s.snapshot).map(\.project.normalized))
                    let revoked = Set(try await catalog.revocations(.pypi).map(\.project))
                    #expect(
                        (0...i).allSatisfy { served.contains("synced\($0)") || revoked.contains("synced\($0)") },
                        "sync round \(i) lost a synced release")
                }
            }
            group.addTask {
                // The reviewer: approves one held release a round and revokes an earlier synced one.
                let catalog = try await CatalogFixture.open(path)
                let desk = ReviewDesk(catalog: catalog, dataDirectory: path)
                for i in 0..<iterations {
                    let (_, s) = try await desk.approve(
                        .pypi, project: "held\(i)", versions: "", reason: "ok", expiresAt: nil, withDependencies: false, actor: "r")
                    let served = Set(try await catalog.servedFiles(in: s).map(\.project.normalized))
                    #expect((0...i).allSatisfy { served.contains("held\($0)") }, "review round \(i) lost an approval")
                    if i % 5 == 4, try await !catalog.releaseReviews(.pypi, project: "synced\(i / 2)").isEmpty {
                        _ = try await desk.revoke(.pypi, project: "synced\(i / 2)", version: "1.0", reason: "bad", actor: "r")
                    }
                }
            }
            try await group.waitForAll()
        }
        let latest = try #require(try await f.catalog.snapshot(.pypi, .latest))
        let revoked = Set(try await f.catalog.revocations(.pypi).map(\.project))
        let expected = Set((0..<iterations).map { "held\($0)" } + (0..<iterations).map { "synced\($0)" }).subtracting(revoked)
        await #expect(Set(try f.served(latest).map { String($0.split(separator: "=")[0]) }) == expected)
    }
}

/// A release with a verdict and dependencies, recorded as a sync would.
private func release(_ name: String, _ version: String, _ verdict: Verdict, _ requires: [String]) -> ReleaseRecord {
    CatalogFixture.release(name, version, verdict: verdict, requires: requires)
}

/// The candidate set the concurrent test's sync grows.
private final class Candidates: Sendable {
    private let ids: Mutex<[Int64]>
    init(_ ids: [Int64]) { self.ids = Mutex(ids) }
    func adding(_ more: [Int64]) -> [Int64] {
        ids.withLock {
            $0 += more
            return $0
        }
    }
}

@Suite struct PublishOnChangeTests {
    @Test func onlyAChangeInUpstreamVerdictsOrReviewsPublishesTheNextSnapshot() async throws {
        let f = try await CatalogFixture()
        let releases = [CatalogFixture.release("a", "1.0"), CatalogFixture.release("b", "1.0", verdict: .review)]
        try await f.sync(releases)
        try await f.sync(releases)
        #expect(try await f.catalog.snapshots(.pypi).count == 1, "a resync with no change publishes nothing")
        try await f.sync(releases + [CatalogFixture.release("c", "1.0")])
        #expect(try await f.catalog.snapshots(.pypi).count == 2, "an upstream release does")
        try await f.sync([CatalogFixture.release("a", "1.0"), CatalogFixture.release("b", "1.0"), CatalogFixture.release("c", "1.0")])
        #expect(try await f.catalog.snapshots(.pypi).count == 3, "a verdict change does")
        let desk = ReviewDesk(catalog: f.catalog, dataDirectory: f.directory.path)
        _ = try await desk.deny(.pypi, project: "c", versions: "", reason: "no", expiresAt: nil, actor: "t")
        #expect(try await f.catalog.snapshots(.pypi).count == 4, "a review does")
        _ = try await desk.deny(.pypi, project: "c", versions: "1.0", reason: "still no", expiresAt: nil, actor: "t")
        #expect(try await f.catalog.snapshots(.pypi).count == 4, "a review that changes nothing served does not")
    }
}
