import AirlockCatalog
import AirlockCore
import AirlockPublish
import AirlockTestSupport
import Foundation

/// Releases recorded straight into a catalog and published through the publisher, as a sync would.
struct CatalogFixture {
    let catalog: any Catalog
    let directory: TemporaryDirectory
    var publisher: SnapshotPublisher { SnapshotPublisher(catalog: catalog, dataDirectory: directory.path) }

    /// A catalog on the backend the run tests (`TestCatalog`): on SQLite in memory, or with
    /// `onDisk` in a data directory's file (for tests that need several connections).
    init(onDisk: Bool = false) async throws {
        directory = try TemporaryDirectory("airlock-catalog")
        catalog = try await Self.open(directory.path, inMemory: !onDisk)
    }

    /// The catalog of a data directory on the backend under test.
    static func open(_ dataDirectory: String, inMemory: Bool = false) async throws -> any Catalog {
        if inMemory, TestCatalog.backend == .sqlite { return try SQLiteCatalog.inMemory() }
        return try await DataDirectory(dataDirectory, catalog: TestCatalog.url(forDataDirectory: dataDirectory)).catalog.open()
    }

    static func release(_ name: String, _ version: String, verdict: Verdict = .approve, requires: [String] = []) -> ReleaseRecord {
        let d = Distribution(
            ecosystem: .pypi, project: ProjectName(name), version: version, filename: "\(name)-\(version)-py3-none-any.whl", kind: .wheel,
            digest: Digest.of(Array("\(name)-\(version)".utf8)), size: 10)
        return ReleaseRecord(
            project: ProjectName(name), people: nil, version: version, requiresDist: requires, files: [(d, "http://127.0.0.1/\(d.filename)")],
            decision: Decision(verdict: verdict, score: verdict == .approve ? 100 : 50, factors: [], policyDigest: "test"),
            facts: DecisionFacts(
                firstUpload: nil, lastUpload: nil, releaseCount: 1, licenseExpression: "MIT", licenseDeclared: "MIT", selectedBy: "test"))
    }

    /// Records `releases` and publishes them as one sync's candidates.
    @discardableResult
    func sync(_ releases: [ReleaseRecord], at date: Date = Date()) async throws -> Snapshot {
        let recorded = try await catalog.record(.pypi, releases, at: date)
        return try await publisher.publish(
            PublishRequest(
                ecosystem: .pypi, actor: "sync", at: date,
                sync: .init(candidates: recorded.map(\.releaseID), policyDigest: "test", policy: nil, targets: []))
        ).snapshot
    }

    /// Runs SQL on the catalog behind its back (an on-disk fixture's); a SELECT's output, trimmed.
    func sql(_ sql: String) throws -> String {
        let r = try CatalogSQL.run(sql, dataDirectory: directory.path)
        guard r.succeeded else { throw TestSupportError("\(sql): \(r.output)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func served(_ snapshot: Snapshot) async throws -> [String] {
        try await catalog.servedFiles(in: snapshot).map { "\($0.project.normalized)==\($0.version)" }
    }
}
