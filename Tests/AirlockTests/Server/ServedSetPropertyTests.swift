import AirlockCatalog
import AirlockCore
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import AirlockServer

/// The child-proof room as a property: in random worlds (releases with random verdicts and
/// dependencies, synced in random batches, with approvals, denials and revocations made through the
/// API in between), crawling every URL the endpoint produces for every snapshot (by id, date and
/// `latest`) and guessing every file URL of every release never yields a byte of a release that was
/// neither approved by the policy nor by a reviewer, or that was revoked.
@Suite(.timeLimit(.minutes(10))) struct ServedSetPropertyTests {
    struct File: Hashable {
        let release: String
        let filename: String
        let digest: Digest
    }

    /// What a world did, read and written by the router test client's closures one at a time.
    final class World: @unchecked Sendable {
        var rng: SeededGenerator
        var pending: [ReleaseRecord] = []
        var files: [File] = []
        var policyApproved: Set<String> = []
        var recorded: [String] = []
        var approvedProjects: Set<String> = []
        var revoked: Set<String> = []
        var log: [String] = []

        init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

        func allowed(_ f: File) -> Bool {
            (policyApproved.contains(f.release) || approvedProjects.contains(String(f.release.prefix { $0 != "=" }))) && !revoked.contains(f.release)
        }
    }

    @Test(arguments: 0..<8) func noUnapprovedOrRevokedByteIsEverServed(world: Int) async throws {
        let seed = 0xA1_2026 + UInt64(world)
        let w = World(seed: seed)
        let fixture = try await CatalogFixture(onDisk: true)
        let store = try FileSystemBlobStore(root: fixture.directory.path + "/blobs")
        let endpoint = Endpoint(
            catalog: fixture.catalog, store: store, logger: Logger(label: "property"), options: EndpointOptions(dataDirectory: fixture.directory.path)
        )
        let reviewer = try await fixture.catalog.createToken(name: "r", role: .reviewer, expiresAt: nil, actor: "test", at: Date()).secret

        let projects = (0..<6).map { "p\($0)" }
        for project in projects {
            for version in ["1.0", "1.1", "2.0"].prefix(Int.random(in: 1...3, using: &w.rng)) {
                let bytes =
                    Array("\(project) \(version) \(w.rng.next())".utf8)
                    + (0..<Int.random(in: 1...64, using: &w.rng)).map { _ in UInt8.random(in: 0...255, using: &w.rng) }
                let digest = try store.put(bytes)
                let filename = "\(project)-\(version)-py3-none-any.whl"
                let verdict = [Verdict.approve, .approve, .review, .deny].randomElement(using: &w.rng)!
                let requires = Bool.random(using: &w.rng) ? [projects.randomElement(using: &w.rng)!] : []
                var record = CatalogFixture.release(project, version, verdict: verdict, requires: requires.filter { $0 != project })
                record.files = [
                    (
                        Distribution(
                            ecosystem: .pypi, project: ProjectName(project), version: version, filename: filename, kind: .wheel, digest: digest,
                            size: Int64(bytes.count)), "http://127.0.0.1/\(filename)"
                    )
                ]
                w.pending.append(record)
                w.files.append(File(release: "\(project)==\(version)", filename: filename, digest: digest))
                if verdict == .approve { w.policyApproved.insert("\(project)==\(version)") }
            }
        }
        w.pending.shuffle(using: &w.rng)

        try await endpoint.application(host: "127.0.0.1", port: 0).testApart(.router) { client in
            for _ in 0..<10 {
                let roll = Int.random(in: 0..<4, using: &w.rng)
                if roll == 0 || w.recorded.isEmpty, !w.pending.isEmpty {
                    let batch = Array(w.pending.prefix(Int.random(in: 1...4, using: &w.rng)))
                    w.pending.removeFirst(batch.count)
                    try await fixture.sync(batch)
                    endpoint.views.invalidate()
                    w.recorded += batch.map { "\($0.project.normalized)==\($0.version)" }
                    w.log.append("sync \(batch.map { "\($0.project.normalized)==\($0.version)" })")
                    continue
                }
                guard let target = w.recorded.randomElement(using: &w.rng) else { continue }
                let parts = target.components(separatedBy: "==")
                let body: String
                let path: String
                let again = w.revoked.contains(target)
                switch roll {
                case 1:
                    (path, body) = ("overrides", #"{"ecosystem":"pypi","project":"\#(parts[0])","action":"approve","reason":"property"}"#)
                    w.approvedProjects.insert(parts[0])
                case 2: (path, body) = ("overrides", #"{"ecosystem":"pypi","project":"\#(parts[0])","action":"deny","reason":"property"}"#)
                default:
                    (path, body) = ("revocations", #"{"ecosystem":"pypi","project":"\#(parts[0])","version":"\#(parts[1])","reason":"property"}"#)
                    w.revoked.insert(target)
                }
                let r = try await client.execute(
                    uri: "/api/v1/" + path, method: .post, headers: EndpointFixture.bearer(reviewer), body: ByteBuffer(string: body))
                // Revoking a release twice is refused; everything else is done.
                #expect(r.status == (roll == 3 && again ? .badRequest : .ok), "seed \(seed): \(path) \(body) → \(r.status) \(String(buffer: r.body))")
                w.log.append("\(path) \(body)")
            }
        }

        let byDigest = Dictionary(w.files.map { ($0.digest, $0) }, uniquingKeysWith: { a, _ in a })
        let context = "seed \(seed), acts:\n" + w.log.joined(separator: "\n")

        try await endpoint.application(host: "127.0.0.1", port: 0).testApart(.router) { client in
            let json: HTTPFields = [.accept: "application/vnd.pypi.simple.v1+json"]
            var selectors = ["latest"]
            for s in try await fixture.catalog.snapshots(.pypi) {
                selectors += [String(s.id), String(Timestamp.format(s.publishedAt).prefix(10))]
            }
            var crawled = 0
            for selector in selectors {
                let index = try await client.execute(uri: "/pypi/\(selector)/simple/", method: .get, headers: json)
                guard index.status == .ok else { continue }
                let names =
                    ((try JSONSerialization.jsonObject(with: Data(Array(buffer: index.body))) as? [String: Any])?["projects"] as? [[String: Any]]
                    ?? []).compactMap { $0["name"] as? String }
                for name in names {
                    for accept in [json, [.accept: "text/html"]] {
                        let page = try await client.execute(uri: "/pypi/\(selector)/simple/\(name)/", method: .get, headers: accept)
                        #expect(page.status == .ok)
                        let text = String(buffer: page.body)
                        for match in text.matches(of: /\/files\/sha256\/[0-9a-f]{64}\/[^"#<]+/) {
                            let file = try await client.execute(uri: String(match.output), method: .get)
                            #expect(file.status == .ok, "\(match.output) is linked but not served")
                            let got = Digest.of(Array(buffer: file.body))
                            let known = try #require(byDigest[got], "served bytes of no known file: \(context)")
                            #expect(w.allowed(known), "\(known.release) served at \(match.output) through \(selector): \(context)")
                            crawled += 1
                        }
                    }
                }
            }
            // Guessing: every file of every release, approved or not, by its exact URL.
            for f in w.files where !w.allowed(f) {
                let r = try await client.execute(uri: "/files/sha256/\(f.digest.hex)/\(f.filename)", method: .get)
                #expect(r.status == .notFound, "\(f.release) (not approved or revoked) answered \(r.status): \(context)")
            }
            // Some worlds serve nothing; across the worlds something must have been crawled.
            if world == 0 { #expect(crawled > 0 || w.policyApproved.isEmpty, "the crawl reached no file: \(context)") }
        }
    }
}
