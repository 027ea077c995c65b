import AirlockCatalog
import AirlockCore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AirlockServer

/// What anonymous clients can make the endpoint keep is bounded: misses, snapshot selectors, cached
/// pages; and the smaller holes of the attack test: dates at the end of time, sign-out, cross-site forms.
@Suite struct AnonymousStateTests {
    private static func directorySize(_ path: String) -> Int {
        let files = FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []
        return files.reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: path + "/" + file)[.size] as? Int) ?? 0)
        }
    }

    @Test func longAnonymousMissesGrowTheDataDirectoryByLittle() async throws {
        let e = try await EndpointFixture { EndpointOptions(dataDirectory: $0, demandFlushInterval: .milliseconds(200)) }
        let before = Self.directorySize(e.fixture.directory.path)
        try await e.test { client in
            for i in 0..<3000 {
                let name = "x\(i)-" + String(repeating: "a", count: 3000)
                _ = try await client.execute(uri: "/simple/\(name)/", method: .get)
                _ = try await client.execute(uri: "/files/sha256/\(String(repeating: "0", count: 64))/\(name).whl", method: .get)
            }
        }
        await e.endpoint.demand.flush()
        let grown = Self.directorySize(e.fixture.directory.path) - before
        #expect(grown < 5 << 20, "the data directory grew by \(grown) bytes")
        #expect(try await e.fixture.catalog.misses(nil).allSatisfy { $0.project.utf8.count <= Miss.maxNameLength })
    }

    @Test func theCatalogKeepsTheMostRecentMissesOnly() async throws {
        let fixture = try await CatalogFixture()
        let start = Date()
        let misses = (0..<(Miss.maxStored + 500)).map { i in
            Miss(
                ecosystem: .pypi, project: "p\(i)", version: "", count: 1, firstSeen: start.addingTimeInterval(Double(i)),
                lastSeen: start.addingTimeInterval(Double(i)), lastClient: nil)
        }
        try await fixture.catalog.recordMisses(misses)
        let kept = try await fixture.catalog.misses(nil)
        #expect(kept.count == Miss.maxStored)
        #expect(!kept.contains { $0.project == "p0" } && kept.contains { $0.project == "p\(Miss.maxStored + 499)" }, "the oldest went")
        try await fixture.catalog.recordMisses([
            Miss(
                ecosystem: .pypi, project: "p\(Miss.maxStored + 499)", version: "", count: Int.max, firstSeen: start,
                lastSeen: start.addingTimeInterval(1e6), lastClient: nil)
        ])
        #expect(try await fixture.catalog.misses(nil).first?.count == Miss.maxCount, "counts saturate")
    }

    @Test(arguments: [
        (Miss(ecosystem: .pypi, project: "requests", version: "2.0", count: 3, firstSeen: .now, lastSeen: .now, lastClient: nil), true),
        (Miss(ecosystem: .cran, project: "data.table", version: "1.15.0", count: 1, firstSeen: .now, lastSeen: .now, lastClient: nil), true),
        (Miss(ecosystem: .pypi, project: "requests", version: "", count: -1, firstSeen: .now, lastSeen: .now, lastClient: nil), false),
        (Miss(ecosystem: .pypi, project: "a b", version: "", count: 1, firstSeen: .now, lastSeen: .now, lastClient: nil), false),
        (Miss(ecosystem: .cran, project: "1abc", version: "", count: 1, firstSeen: .now, lastSeen: .now, lastClient: nil), false),
        (
            Miss(
                ecosystem: .pypi, project: String(repeating: "a", count: 200), version: "", count: 1, firstSeen: .now, lastSeen: .now, lastClient: nil
            ), false
        ),
        (Miss(ecosystem: .pypi, project: "ok", version: "1.0<script>", count: 1, firstSeen: .now, lastSeen: .now, lastClient: nil), false),
    ])
    func missesNameWhatCouldBeAProject(_ miss: Miss, _ plausible: Bool) {
        #expect((miss.problem == nil) == plausible, "\(miss.project) \(miss.version) \(miss.count): \(miss.problem ?? "fine")")
    }

    @Test func importedMissesWithImpossibleCountsAreRefused() throws {
        let dir = try TemporaryDirectory()
        for count in ["-5", "99999999999999999999"] {
            let file = dir.path + "/misses\(count.count).json"
            try """
            {"format": "airlock-misses/1", "exportedAt": "2026-12-01T00:00:00Z", "misses": [
              {"ecosystem": "pypi", "project": "requests", "version": "", "count": \(count), "firstSeen": "2026-12-01T00:00:00Z", "lastSeen": "2026-12-01T00:00:00Z"}]}
            """.write(toFile: file, atomically: true, encoding: .utf8)
            let r = try AirlockCommand.run(["misses", "import", "--data", dir.path + "/data", file])
            #expect(!r.succeeded, "count \(count): \(r.output)")
        }
        let r = try AirlockCommand.run(["misses", "export", "--data", dir.path + "/data", "--out", dir.path + "/out.json"])
        #expect(r.stdout.contains("wrote 0 miss"), "nothing was imported: \(r.output)")
    }

    @Test func selectorsHaveOneSpellingAndDatesReachTheEndOfTime() async throws {
        #expect(SnapshotSelector("0001") == nil && SnapshotSelector("+1") == nil && SnapshotSelector("1") == .id(1))
        #expect(SnapshotSelector("2026-02-31") == nil && SnapshotSelector("2026-2-01") == nil && SnapshotSelector("2024-02-29") != nil)
        let fixture = try await CatalogFixture()
        let snapshot = try await fixture.sync([CatalogFixture.release("ok", "1.0")])
        for day in ["9999-12-31", "9999-12-30", Timestamp.day(Date())] {
            #expect(try await fixture.catalog.snapshot(.pypi, SnapshotSelector(day)!)?.id == snapshot.id, "\(day)")
        }
        #expect(try await fixture.catalog.snapshot(.pypi, SnapshotSelector("2000-01-01")!) == nil)
    }

    @Test func paddedSelectorsDoNotGrowTheSelectorCache() async throws {
        let e = try await EndpointFixture()
        try await e.test { client in
            for i in 0..<2000 {
                let padded = String(repeating: "0", count: i % 50 + 1) + "1"
                let r = try await client.execute(uri: "/pypi/\(padded)/simple/", method: .get)
                #expect(r.status == .notFound)
            }
            #expect(try await client.execute(uri: "/pypi/1/simple/", method: .get).status == .ok)
        }
    }

    @Test func signOutWithoutItsCSRFTokenChangesNothing() async throws {
        let e = try await EndpointFixture()
        try await e.test { client in
            let session = try await EndpointRouterTests.signIn(client, token: e.reviewer)
            let forged = try await client.execute(
                uri: "/ui/logout", method: .post, headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=wrong"))
            #expect(forged.status == .forbidden && forged.headers[.setCookie] == nil, "\(forged.status)")
            let still = try await client.execute(uri: "/ui/", method: .get, headers: [.cookie: session.cookie])
            #expect(still.status == .ok, "the session is still valid, and the browser still has it")
        }
    }

    @Test func formsFromAnotherSiteAreRefused() async throws {
        let e = try await EndpointFixture()
        try await e.test { client in
            let session = try await EndpointRouterTests.signIn(client, token: e.reviewer)
            let body = "csrf=\(session.csrf)&ecosystem=pypi&project=held&action=approve&reason=x"
            for (name, value) in [("Origin", "http://127.0.0.2:8080"), ("Sec-Fetch-Site", "same-site"), ("Sec-Fetch-Site", "cross-site")] {
                var headers: HTTPFields = [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"]
                headers[HTTPField.Name(name)!] = value
                let r = try await client.execute(uri: "/ui/overrides", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(r.status == .forbidden, "\(name): \(value) → \(r.status)")
            }
            #expect(try await e.fixture.catalog.overrides(nil, project: nil).isEmpty, "nothing was approved")
        }
    }
}
