import AirlockCatalog
import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

@Suite struct SQLiteCatalogTests {
    private func release(_ name: String, _ version: String, digestSeed: String) -> ReleaseRecord {
        let d = Distribution(
            ecosystem: .pypi, project: ProjectName(name), version: version, filename: "\(name)-\(version)-py3-none-any.whl", kind: .wheel,
            digest: Digest.of(Array(digestSeed.utf8)), size: 10)
        return ReleaseRecord(
            project: ProjectName(name), people: nil, version: version, requiresDist: [], files: [(d, "http://127.0.0.1/\(d.filename)")],
            decision: Decision(verdict: .approve, score: 100, factors: [], policyDigest: "test"),
            facts: DecisionFacts(firstUpload: nil, lastUpload: nil, releaseCount: 1, licenseExpression: "MIT", licenseDeclared: "MIT", selectedBy: "test"))
    }

    private func publish(_ catalog: SQLiteCatalog, _ releases: [ReleaseRecord], at date: Date) throws -> Snapshot {
        let ids = try catalog.record(.pypi, releases, at: date)
        return try catalog.publishSnapshot(.pypi, serving: Set(ids.joined()), policyDigest: "test", at: date) { _, _, _ in }
    }

    @Test func snapshotsAreImmutableRanges() throws {
        let dir = try TemporaryDirectory()
        let catalog = try SQLiteCatalog(path: dir.path + "/c.sqlite")
        let day1 = Timestamp.parse("2026-11-20T10:00:00Z")!, day2 = Timestamp.parse("2026-11-22T09:00:00Z")!
        let s1 = try publish(catalog, [release("a", "1.0", digestSeed: "a1"), release("b", "1.0", digestSeed: "b1")], at: day1)
        let s2 = try publish(catalog, [release("a", "2.0", digestSeed: "a2"), release("b", "1.0", digestSeed: "b1")], at: day2)
        #expect(try catalog.servedFiles(in: s1).map(\.filename) == ["a-1.0-py3-none-any.whl", "b-1.0-py3-none-any.whl"])
        #expect(try catalog.servedFiles(in: s2).map(\.filename) == ["a-2.0-py3-none-any.whl", "b-1.0-py3-none-any.whl"])
        #expect(try catalog.snapshot(.pypi, .latest)?.id == s2.id)
        #expect(try catalog.snapshot(.pypi, SnapshotSelector("2026-11-21")!)?.id == s1.id)
        #expect(try catalog.snapshot(.pypi, SnapshotSelector("2026-11-22")!)?.id == s2.id)
        #expect(try catalog.snapshot(.pypi, SnapshotSelector("2026-11-19")!) == nil)
        #expect(try catalog.snapshot(.pypi, .id(s1.id))?.publishedAt == day1)
        #expect(try catalog.snapshot(.cran, .latest) == nil)
        // a-1.0 is still served by snapshot 1, so its file URL stays valid for pinned clients.
        let a1 = Digest.of(Array("a1".utf8))
        #expect(try catalog.servedFile(digest: a1, filename: "a-1.0-py3-none-any.whl") != nil)
        #expect(try catalog.servedFile(digest: a1, filename: "other.whl") == nil)
    }

    @Test func unchangedSnapshotsCostNoMembershipRows() throws {
        let dir = try TemporaryDirectory()
        let catalog = try SQLiteCatalog(path: dir.path + "/c.sqlite")
        let releases = (0..<50).map { release("p\($0)", "1.0", digestSeed: "p\($0)") }
        var last: Snapshot?
        for i in 0..<20 { last = try publish(catalog, releases, at: Date(timeIntervalSince1970: 1_800_000_000 + Double(i))) }
        #expect(try catalog.membershipRowCount() == 50, "20 snapshots of an unchanged set share one range per file")
        #expect(try catalog.servedFiles(in: last!).count == 50)
    }

    @Test func failedManifestPublishesNothing() throws {
        let dir = try TemporaryDirectory()
        let catalog = try SQLiteCatalog(path: dir.path + "/c.sqlite")
        let ids = try catalog.record(.pypi, [release("a", "1.0", digestSeed: "a")], at: Date())
        #expect(throws: AirlockError.self) {
            try catalog.publishSnapshot(.pypi, serving: Set(ids.joined()), policyDigest: "t", at: Date()) { _, _, _ in
                throw AirlockError(.storage, "disk full")
            }
        }
        #expect(try catalog.snapshots(.pypi).isEmpty)
        #expect(try catalog.membershipRowCount() == 0)
    }
}
