import AirlockCatalog
import AirlockCore
import AirlockPublish
import AirlockTestSupport
import Foundation

/// Releases recorded straight into a catalog and published through the publisher, as a sync would.
struct CatalogFixture {
    let catalog: SQLiteCatalog
    let directory: TemporaryDirectory
    var publisher: SnapshotPublisher { SnapshotPublisher(catalog: catalog, dataDirectory: directory.path) }

    /// An in-memory catalog (the publisher's lock and manifests go to a temporary directory).
    init() throws {
        directory = try TemporaryDirectory("airlock-catalog")
        catalog = try SQLiteCatalog.inMemory()
    }

    /// A catalog file in a data directory, for tests that need several connections.
    init(onDisk: Bool) throws {
        directory = try TemporaryDirectory("airlock-catalog")
        catalog = try SQLiteCatalog(path: directory.path + "/catalog.sqlite")
    }

    static func release(_ name: String, _ version: String, verdict: Verdict = .approve, requires: [String] = []) -> ReleaseRecord {
        let d = Distribution(
            ecosystem: .pypi, project: ProjectName(name), version: version, filename: "\(name)-\(version)-py3-none-any.whl", kind: .wheel,
            digest: Digest.of(Array("\(name)-\(version)".utf8)), size: 10)
        return ReleaseRecord(
            project: ProjectName(name), people: nil, version: version, requiresDist: requires, files: [(d, "http://127.0.0.1/\(d.filename)")],
            decision: Decision(verdict: verdict, score: verdict == .approve ? 100 : 50, factors: [], policyDigest: "test"),
            facts: DecisionFacts(firstUpload: nil, lastUpload: nil, releaseCount: 1, licenseExpression: "MIT", licenseDeclared: "MIT", selectedBy: "test"))
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

    func served(_ snapshot: Snapshot) async throws -> [String] {
        try await catalog.servedFiles(in: snapshot).map { "\($0.project.normalized)==\($0.version)" }
    }
}
