import AirlockCore
import AirlockPublish
import AirlockTestSupport
import Foundation
import Testing

@Suite struct RetentionRuleTests {
    let now = Timestamp.parse("2026-12-03T12:00:00Z")!

    func snapshot(_ id: Int64, daysAgo: Double, _ e: Ecosystem = .pypi) -> Snapshot {
        Snapshot(id: id, ecosystem: e, publishedAt: now.addingTimeInterval(-daysAgo * 86_400), policyDigest: "p", distributionCount: 1)
    }

    @Test func keepsRecentThenOnePerWeekPinnedAndTheNewest() {
        // Daily snapshots for 40 days: ids 1 (40 days ago) … 40 (1 day ago).
        let daily = (1...40).map { snapshot(Int64($0), daysAgo: Double(41 - $0)) }
        let weekly = RetentionRule(keepDays: 14, then: .weekly, pinned: [3]).expired(daily, now: now)
        #expect(weekly.allSatisfy { $0.publishedAt < now.addingTimeInterval(-14 * 86_400) }, "nothing from the last 14 days")
        #expect(!weekly.contains { $0.id == 3 }, "pinned")
        let keptOld = daily.filter { $0.publishedAt < now.addingTimeInterval(-14 * 86_400) && !weekly.map(\.id).contains($0.id) && $0.id != 3 }
        #expect(keptOld.count >= 3 && keptOld.count <= 5, "one per ISO week of the older 26 days: \(keptOld.map(\.id))")
        let none = RetentionRule(keepDays: 14, then: .none).expired(daily, now: now)
        #expect(none.count == 26)
        let monthly = RetentionRule(keepDays: 0, then: .monthly).expired(daily, now: now)
        #expect(!monthly.contains { $0.id == 40 }, "the newest is never expired")
    }

    @Test func theNewestOfEachEcosystemStaysHoweverOld() {
        let old = [snapshot(1, daysAgo: 400), snapshot(2, daysAgo: 300, .cran), snapshot(3, daysAgo: 200)]
        #expect(RetentionRule(keepDays: 1, then: .none).expired(old, now: now).map(\.id) == [1])
    }
}

/// `airlock gc` on a real data directory: snapshots past retention are expired (no selector finds
/// them), their blobs that nothing retained needs are deleted, the rest is served as before.
@Suite(.timeLimit(.minutes(10))) struct GarbageCollectionTests {
    @Test func expiresOldSnapshotsAndFreesOnlyTheirBlobs() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0", payloadKiB: 64)])
        try mirror.syncOK(["alpha"], extra: ["--versions", "1"])
        try mirror.add([PackageSpec("alpha", "1.1")])
        try mirror.syncOK(["alpha"], extra: ["--versions", "1"])
        #expect(try mirror.snapshotIDs() == [1, 2])
        let r = try CatalogSQL.run("UPDATE snapshot SET published_at='2026-01-01T00:00:00.000Z' WHERE id=1", dataDirectory: mirror.data)
        #expect(r.succeeded, "\(r.output)")
        let old = try mirror.digest(of: "alpha-1.0-py3-none-any.whl")
        let new = try mirror.digest(of: "alpha-1.1-py3-none-any.whl")
        let config = mirror.dir.path + "/airlock.toml"
        try "data = \"\(mirror.data)\"\n\n[retention]\nkeep_days = 30\nthen = \"none\"\n".write(toFile: config, atomically: true, encoding: .utf8)

        let dry = try AirlockCommand.run(["gc", "--config", config, "--dry-run"])
        #expect(
            dry.succeeded && dry.stdout.contains("would expire 1 snapshot(s) (1)") && dry.stdout.contains("would remove 2 blob(s)"),
            "the wheel and its metadata: \(dry.output)")
        let unchanged = try mirror.snapshotIDs()
        #expect(mirror.blobExists(old) && unchanged == [1, 2], "a dry run changes nothing")

        let server = try mirror.serve()
        #expect(try httpGet(server.base + "/pypi/1/simple/alpha/").status == 200)
        let gc = try AirlockCommand.run(["gc", "--config", config])
        #expect(gc.succeeded && gc.stdout.contains("expired 1 snapshot(s) (1)"), "\(gc.output)")
        #expect(!mirror.blobExists(old) && mirror.blobExists(new))
        #expect(try mirror.snapshotIDs() == [2])
        Thread.sleep(forTimeInterval: 1.2)  // selectors are re-resolved at most once a second
        #expect(try httpGet(server.base + "/pypi/1/simple/alpha/").status == 404, "an expired snapshot is found by no selector")
        #expect(try httpGet(server.base + "/files/sha256/\(old.hex)/alpha-1.0-py3-none-any.whl").status == 404)
        let (pip, _) = try PythonClients.pipInstall(["alpha"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")

        let again = try AirlockCommand.run(["gc", "--config", config])
        #expect(again.stdout.contains("expired 0 snapshot(s)") && again.stdout.contains("removed 0 blob(s)"), "\(again.output)")
        let audit = try AirlockCommand.run(["audit", "list", "--data", mirror.data])
        #expect(audit.stdout.contains("snapshot.expire") && audit.stdout.contains("gc.sweep"), "\(audit.output)")
        #expect(try AirlockCommand.run(["audit", "verify", "--data", mirror.data]).succeeded)
    }
}
