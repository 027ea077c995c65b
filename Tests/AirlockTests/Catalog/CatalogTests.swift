import AirlockCatalog
import AirlockCore
import AirlockPublish
import AirlockTestSupport
import Foundation
import Testing

/// The catalog's meaning, on the backend under test (`TestCatalog`: SQLite, or PostgreSQL).
@Suite struct CatalogTests {
    @Test func theRunTestsTheBackendItNames() async throws {
        let f = try await CatalogFixture(onDisk: true)
        #expect((f.catalog is PostgresCatalog) == (TestCatalog.backend == .postgresql))
        #expect((f.catalog is SQLiteCatalog) == (TestCatalog.backend == .sqlite))
    }

    @Test func snapshotsAreImmutableRanges() async throws {
        let f = try await CatalogFixture()
        let day1 = Timestamp.parse("2026-11-20T10:00:00Z")!
        let day2 = Timestamp.parse("2026-11-22T09:00:00Z")!
        let s1 = try await f.sync([CatalogFixture.release("a", "1.0"), CatalogFixture.release("b", "1.0")], at: day1)
        let s2 = try await f.sync([CatalogFixture.release("a", "2.0"), CatalogFixture.release("b", "1.0")], at: day2)
        #expect(try await f.catalog.servedFiles(in: s1).map(\.filename) == ["a-1.0-py3-none-any.whl", "b-1.0-py3-none-any.whl"])
        #expect(try await f.catalog.servedFiles(in: s2).map(\.filename) == ["a-2.0-py3-none-any.whl", "b-1.0-py3-none-any.whl"])
        #expect(try await f.catalog.snapshot(.pypi, .latest)?.id == s2.id)
        #expect(try await f.catalog.snapshot(.pypi, SnapshotSelector("2026-11-21")!)?.id == s1.id)
        #expect(try await f.catalog.snapshot(.pypi, SnapshotSelector("2026-11-22")!)?.id == s2.id)
        #expect(try await f.catalog.snapshot(.pypi, SnapshotSelector("2026-11-19")!) == nil)
        #expect(try await f.catalog.snapshot(.pypi, .id(s1.id))?.publishedAt == day1)
        #expect(try await f.catalog.snapshot(.cran, .latest) == nil)
        // a-1.0 is still served by snapshot 1, so its file URL stays valid for pinned clients.
        let a1 = Digest.of(Array("a-1.0".utf8))
        #expect(try await f.catalog.servedFile(digest: a1, filename: "a-1.0-py3-none-any.whl") != nil)
        #expect(try await f.catalog.servedFile(digest: a1, filename: "other.whl") == nil)
    }

    @Test func unchangedSnapshotsCostNoMembershipRows() async throws {
        let f = try await CatalogFixture(onDisk: true)
        let releases = (0..<50).map { CatalogFixture.release("p\($0)", "1.0") }
        var last: Snapshot?
        for i in 0..<20 { last = try await f.sync(releases, at: Date(timeIntervalSince1970: 1_800_000_000 + Double(i))) }
        #expect(try f.sql("SELECT count(*) FROM membership") == "50", "an unchanged set costs one range per file")
        #expect(try await f.catalog.servedFiles(in: last!).count == 50)
        #expect(try await f.catalog.snapshots(.pypi).count == 1, "syncs that change nothing publish nothing")
        #expect(try await f.catalog.lastChecked(.pypi) == Date(timeIntervalSince1970: 1_800_000_019), "but the check is recorded")
    }

    @Test func failedManifestPublishesNothing() async throws {
        let f = try await CatalogFixture(onDisk: true)
        let ids = try await f.catalog.record(.pypi, [CatalogFixture.release("a", "1.0")], at: Date())
        let request = PublishRequest(
            ecosystem: .pypi, actor: "sync", at: Date(), sync: .init(candidates: ids.map(\.releaseID), policyDigest: "t", policy: nil, targets: []))
        await #expect(throws: AirlockError.self) {
            try await f.catalog.publish(request, rule: { try PublishRule.plan($0, at: Date()) }) { _, _, _, _ in
                throw AirlockError(.storage, "disk full")
            }
        }
        #expect(try await f.catalog.snapshots(.pypi).isEmpty)
        #expect(try f.sql("SELECT count(*) FROM membership") == "0")
    }

    @Test func corruptRowsAreErrorsNamingTheRowNotEmptyLists() async throws {
        let f = try await CatalogFixture(onDisk: true)
        try await f.sync([CatalogFixture.release("a", "1.0", requires: ["b>=1"])])
        _ = try f.sql("UPDATE release SET requires_dist = '[not json'")
        let error = try await #require(throws: AirlockError.self) { try await f.catalog.releaseReviews(.pypi, project: "a") }
        #expect(error.message.contains("release row"), "\(error.message)")
    }

    /// A stored override range or dependency that no longer reads back stops the publication with an
    /// error naming it; it is never dropped (a dropped deny would serve what a reviewer refused).
    @Test func damagedStoredValuesStopPublishingNamingThem() async throws {
        for (sql, named) in [
            ("UPDATE override SET versions = '>=>=1'", "override 1 (deny held '>=>=1')"),
            ("UPDATE release SET requires_dist = '[\"held >=\"]'", "stored dependency 'held >='"),
        ] {
            let f = try await CatalogFixture(onDisk: true)
            try await f.sync([CatalogFixture.release("ok", "1.0", requires: ["held"]), CatalogFixture.release("held", "1.0")])
            let desk = ReviewDesk(catalog: f.catalog, dataDirectory: f.directory.path)
            _ = try await desk.deny(.pypi, project: "held", versions: "1.0", reason: "bad build", expiresAt: nil, actor: "t")
            _ = try f.sql(sql)
            let error = try await #require(throws: AirlockError.self) {
                try await SnapshotPublisher(catalog: f.catalog, dataDirectory: f.directory.path).republish(.pypi, actor: "t")
            }
            #expect(error.message.contains(named), "\(error.message)")
            #expect(try await f.catalog.snapshots(.pypi).count == 2, "nothing was published")
        }
    }

    @Test func anUnknownEcosystemIsAnErrorNotPyPI() async throws {
        let f = try await CatalogFixture(onDisk: true)
        try await f.sync([CatalogFixture.release("a", "1.0")])
        _ = try f.sql("UPDATE snapshot SET ecosystem = 'npm'")
        await #expect(throws: (any Error).self) { try await f.catalog.retainedSnapshots() }
        #expect(try await f.catalog.snapshot(.pypi, .latest) == nil, "a row of another ecosystem is never read as PyPI")
    }
}

/// The review role's meaning, straight on the catalog, on the backend under test.
@Suite struct ReviewCatalogTests {
    @Test func tokensOverridesRevocationsAndTheAuditChain() async throws {
        let f = try await CatalogFixture(onDisk: true)
        try await f.sync([CatalogFixture.release("a", "1.0"), CatalogFixture.release("a", "2.0"), CatalogFixture.release("b", "1.0")])
        let now = Date()
        let (token, secret) = try await f.catalog.createToken(name: "ci", role: .reader, expiresAt: nil, actor: "t", at: now)
        #expect(try await f.catalog.token(secret: secret)?.id == token.id)
        #expect(try await f.catalog.token(secret: secret + "x") == nil)
        await #expect(throws: AirlockError.self) { try await f.catalog.createToken(name: " ", role: .reader, expiresAt: nil, actor: "t", at: now) }
        try await f.catalog.revokeToken(id: token.id, actor: "t", at: now)
        #expect(try await f.catalog.token(secret: secret)?.isValid(at: now) == false)
        let again = try await #require(throws: AirlockError.self) { try await f.catalog.revokeToken(id: token.id, actor: "t", at: now) }
        #expect(again.message.contains("no active token"))

        let deny = OverrideRequest(
            project: "a", versions: try VersionRange(">=2", ecosystem: .pypi), action: .deny, reason: "  bad  ", expiresAt: nil)
        let added = try await f.catalog.addOverrides(.pypi, [deny], actor: "t", at: now)
        #expect(added.first?.reason == "bad" && added.first?.versions == ">=2")
        let unknown = OverrideRequest(
            project: "never", versions: try VersionRange("", ecosystem: .pypi), action: .approve, reason: "x", expiresAt: nil)
        let refused = try await #require(throws: AirlockError.self) { try await f.catalog.addOverrides(.pypi, [deny, unknown], actor: "t", at: now) }
        #expect(refused.message.contains("never been synced"))
        #expect(try await f.catalog.overrides(.pypi, project: nil).count == 1, "all of a batch or none of it")

        let revocation = try await f.catalog.revoke(.pypi, project: "b", version: "1.0", reason: "malware", actor: "t", at: now)
        #expect(try await f.catalog.revocation(ofFile: Digest.of(Array("b-1.0".utf8)))?.id == revocation.id)
        let twice = try await #require(throws: AirlockError.self) {
            try await f.catalog.revoke(.pypi, project: "b", version: "1.0", reason: "x", actor: "t", at: now)
        }
        #expect(twice.message.contains("already revoked"))
        await #expect(throws: AirlockError.self) { try await f.catalog.revoke(.pypi, project: "b", version: "9", reason: "x", actor: "t", at: now) }
        #expect(try await f.catalog.withdrawalStamp() > 0)
        let latest = try #require(try await f.catalog.snapshot(.pypi, .latest))
        #expect(try await f.served(latest) == ["a==1.0", "a==2.0"], "a revocation applies to every snapshot as it is read")

        let verification = try await f.catalog.verifyAudit(anchors: [])
        let events = try await f.catalog.auditEvents(limit: 100)
        #expect(verification.intact && verification.events == events.count)
        #expect(try await f.catalog.auditEvents(limit: 100).map(\.action).contains("release.revoked"))
    }

    @Test func missesAreCountedSaturatedAndBounded() async throws {
        let f = try await CatalogFixture(onDisk: true)
        try await f.sync([CatalogFixture.release("a", "1.0")])
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        try await f.catalog.recordMisses([
            Miss(ecosystem: .pypi, project: "a", version: "9", count: 2, firstSeen: t, lastSeen: t, lastClient: "10.0.0.1"),
            Miss(ecosystem: .cran, project: "x", version: "", count: 1, firstSeen: t, lastSeen: t, lastClient: nil),
        ])
        try await f.catalog.recordMisses([
            Miss(
                ecosystem: .pypi, project: "a", version: "9", count: 3, firstSeen: t.addingTimeInterval(-5), lastSeen: t.addingTimeInterval(5),
                lastClient: nil)
        ])
        let misses = try await f.catalog.misses(.pypi)
        #expect(misses.count == 1 && misses[0].count == 5 && misses[0].firstSeen == t.addingTimeInterval(-5) && misses[0].lastClient == "10.0.0.1")
        #expect(try await f.catalog.misses(nil).count == 2)
        #expect(try await f.catalog.projectsToReview(.pypi) == ["a"], "asked for and recorded")
    }

    @Test func retentionKeepsWhatRetainedSnapshotsAndCandidatesNeed() async throws {
        let f = try await CatalogFixture(onDisk: true)
        let s1 = try await f.sync([CatalogFixture.release("a", "1.0")], at: Date(timeIntervalSince1970: 1_800_000_000))
        let s2 = try await f.sync([CatalogFixture.release("a", "2.0")], at: Date(timeIntervalSince1970: 1_800_000_100))
        let a1 = Digest.of(Array("a-1.0".utf8)).hex
        let a2 = Digest.of(Array("a-2.0".utf8)).hex
        #expect(try await f.catalog.referencedBlobs(expiring: []) == [a1, a2])
        #expect(try await f.catalog.referencedBlobs(expiring: [s1.id]) == [a2])
        try await f.catalog.expire([s1.id], actor: "t", at: Date())
        #expect(try await f.catalog.retainedSnapshots().map(\.id) == [s2.id])
        #expect(try await f.catalog.snapshot(.pypi, .id(s1.id)) == nil, "an expired snapshot is found by no selector")
        #expect(try await f.catalog.servedFile(digest: Digest.of(Array("a-1.0".utf8)), filename: "a-1.0-py3-none-any.whl") == nil)
    }
}
