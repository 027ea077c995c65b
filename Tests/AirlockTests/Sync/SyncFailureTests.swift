import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Bad upstream input: each failure names what was wrong and where and stores nothing bad. A bad index
/// fails the sync (nothing is published); a bad file sets its release aside, the rest is published,
/// and the sync exits 3.
@Suite(.timeLimit(.minutes(10))) struct SyncFailureTests {
    @discardableResult
    private func expectSetAside(_ mirror: MirrorHarness, _ requirements: [String], mentions: [String]) throws -> ProcessResult {
        let r = try mirror.sync(requirements)
        #expect(r.status == 3, "a sync that set a release aside exits 3:\n\(r.output)")
        for m in mentions { #expect(r.stderr.contains(m), "stderr should mention '\(m)':\n\(r.stderr)") }
        #expect(r.stdout.contains("set aside:"), "the summary lists what was set aside:\n\(r.stdout)")
        let served = try AirlockCommand.run(["snapshot", "show", "latest", "--data", mirror.data, "--json"])
        #expect(served.succeeded && !served.stdout.contains(".whl"), "the set-aside release is not served:\n\(served.output)")
        #expect(mirror.stagingFiles().isEmpty, "no staging file is left behind")
        return r
    }

    private func expectFailure(_ mirror: MirrorHarness, _ requirements: [String], mentions: [String]) throws -> ProcessResult {
        let r = try mirror.sync(requirements)
        #expect(!r.succeeded, "sync should have failed:\n\(r.output)")
        for m in mentions { #expect(r.stderr.contains(m), "stderr should mention '\(m)':\n\(r.stderr)") }
        #expect(try mirror.snapshotIDs().isEmpty, "a failed sync publishes nothing")
        #expect(mirror.stagingFiles().isEmpty, "no staging file is left behind")
        return r
    }

    @Test func hashMismatchIsRejectedAndNotStored() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0", payloadKiB: 64)], kind: .html)
        try mirror.upstream.setFaults(#"{"wrong_hash": ["alpha-1.0-py3-none-any.whl"]}"#)
        let actual = try mirror.digest(of: "alpha-1.0-py3-none-any.whl")
        try expectSetAside(
            mirror, ["alpha"],
            mentions: ["sha256 mismatch for alpha-1.0-py3-none-any.whl", "expected \(String(repeating: "0", count: 64)), got \(actual.hex)"])
        #expect(!mirror.blobExists(actual))
    }

    @Test func truncatedDownloadIsRetriedThenRejected() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0", payloadKiB: 256)], kind: .html)
        try mirror.upstream.setFaults(#"{"truncate": ["alpha-1.0-py3-none-any.whl"]}"#)
        try expectSetAside(mirror, ["alpha"], mentions: ["truncated download of", "alpha-1.0-py3-none-any.whl"])
        #expect(try mirror.upstream.requestCounts()["/packages/alpha-1.0-py3-none-any.whl"] == 4, "four attempts before giving up")
        #expect(!mirror.blobExists(try mirror.digest(of: "alpha-1.0-py3-none-any.whl")))
    }

    @Test func serverErrorThenSuccessIsRetried() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0")], kind: .html)
        try mirror.upstream.setFaults(#"{"fail": {"alpha-1.0-py3-none-any.whl": 2}}"#)
        try mirror.syncOK(["alpha"])
        #expect(try mirror.upstream.requestCounts()["/packages/alpha-1.0-py3-none-any.whl"] == 3)
        #expect(mirror.blobExists(try mirror.digest(of: "alpha-1.0-py3-none-any.whl")))
    }

    @Test func malformedJSONIndex() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0")], kind: .json)
        try mirror.upstream.setFaults(#"{"malformed": {"alpha": "json"}}"#)
        try expectFailure(mirror, ["alpha"], mentions: ["malformed PEP 691 JSON at \(mirror.upstream.simpleURL)alpha/"])
    }

    @Test func malformedHTMLIndex() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0")], kind: .html)
        try mirror.upstream.setFaults(#"{"malformed": {"alpha": "html"}}"#)
        try expectFailure(mirror, ["alpha"], mentions: ["malformed HTML at \(mirror.upstream.simpleURL)alpha/"])
    }

    @Test func wheelWithoutMetadata() throws {
        let mirror = try MirrorHarness([PackageSpec("bare", "1.0", hostile: "no-metadata")], kind: .html)
        try expectSetAside(mirror, ["bare"], mentions: ["bare-1.0-py3-none-any.whl has no *.dist-info/METADATA"])
        #expect(!mirror.blobExists(try mirror.digest(of: "bare-1.0-py3-none-any.whl")))
    }

    @Test func zipBomb() throws {
        let mirror = try MirrorHarness([PackageSpec("bomb", "1.0", hostile: "zipbomb", bombMiB: 128)], kind: .html)
        try expectSetAside(mirror, ["bomb"], mentions: ["bomb-1.0-py3-none-any.whl expands", "decompression bomb"])
        #expect(!mirror.blobExists(try mirror.digest(of: "bomb-1.0-py3-none-any.whl")))
    }

    @Test func pathTraversalMember() throws {
        let mirror = try MirrorHarness([PackageSpec("evil", "1.0", hostile: "traversal")], kind: .html)
        try expectSetAside(mirror, ["evil"], mentions: ["evil-1.0-py3-none-any.whl has an unsafe member name '../../evil.py'"])
        #expect(!mirror.blobExists(try mirror.digest(of: "evil-1.0-py3-none-any.whl")))
    }

    @Test func oversizedFile() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0", payloadKiB: 512)], kind: .html)
        try expectSetAside(mirror, ["alpha", "--max-file-size", "100000"], mentions: ["larger than the 100000-byte limit"])
    }

    @Test func killedSyncResumesWithoutRefetchingFinishedBlobs() throws {
        let mirror = try MirrorHarness([
            PackageSpec("app", "1.0", requires: ["small-one", "small-two", "big"]),
            PackageSpec("small-one", "1.0"), PackageSpec("small-two", "1.0"), PackageSpec("big", "1.0", payloadKiB: 2048),
        ])
        try mirror.upstream.setFaults(#"{"throttle": {"big-1.0-py3-none-any.whl": 100000}}"#)
        let smalls = try ["small_one-1.0-py3-none-any.whl", "small_two-1.0-py3-none-any.whl", "app-1.0-py3-none-any.whl"].map(mirror.digest(of:))
        let big = try mirror.digest(of: "big-1.0-py3-none-any.whl")
        let sync = try RunningProcess(
            AirlockCommand.binary,
            [
                "sync", "pypi", "--upstream", mirror.upstream.simpleURL, "--data", mirror.data, "--python", MirrorHarness.python, "--policy", "none",
                "app",
            ],
            logPath: mirror.dir.path + "/killed-sync.log")
        let deadline = Date().addingTimeInterval(20)
        while !smalls.allSatisfy(mirror.blobExists) || mirror.stagingFiles().isEmpty {
            #expect(Date() < deadline, "the small blobs never landed:\n\(sync.log)")
            if Date() >= deadline { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        sync.kill()
        #expect(!mirror.blobExists(big), "a killed download never appears under its final name")
        #expect(try mirror.snapshotIDs().isEmpty)

        try mirror.upstream.setFaults("{}")
        let report = try mirror.syncOK(["app"])
        #expect(report["downloaded"] as? Int == 1, "only the interrupted file is fetched again: \(report)")
        #expect(mirror.blobExists(big))
        #expect(mirror.stagingFiles().isEmpty)
        let counts = try mirror.upstream.requestCounts()
        for name in ["small_one-1.0-py3-none-any.whl", "small_two-1.0-py3-none-any.whl"] {
            #expect(counts["/packages/\(name)"] == 1, "\(name) fetched once: \(counts)")
        }
        #expect(counts["/packages/big-1.0-py3-none-any.whl"] == 2)
    }

    @Test func twentyRandomKillsLeaveNoHalfWrittenBlobAndNoHalfPublishedSnapshot() throws {
        let mirror = try MirrorHarness([
            PackageSpec("app", "1.0", requires: ["small-one", "small-two", "big"]),
            PackageSpec("small-one", "1.0"), PackageSpec("small-two", "1.0"), PackageSpec("big", "1.0", payloadKiB: 1024),
        ])
        try mirror.upstream.setFaults(#"{"throttle": {"big-1.0-py3-none-any.whl": 2000000}}"#)
        var rng = SeededGenerator(seed: 20_261_203)
        var points: [Double] = []
        for i in 0..<20 {
            let sync = try RunningProcess(
                AirlockCommand.binary,
                [
                    "sync", "pypi", "--upstream", mirror.upstream.simpleURL, "--data", mirror.data, "--python", MirrorHarness.python, "--policy",
                    "none", "app",
                ],
                logPath: mirror.dir.path + "/kill-\(i).log")
            let after = Double.random(in: 0.02...1.2, using: &rng)
            points.append(after)
            Thread.sleep(forTimeInterval: after)
            sync.kill()
            try expectIntact(mirror, "after a kill at \(after) s (kill \(i + 1))")
        }
        try mirror.upstream.setFaults("{}")
        try mirror.syncOK(["app"])
        try expectIntact(mirror, "after the final sync")
        #expect(mirror.stagingFiles().isEmpty, "the next sync removed every leftover")
        let server = try mirror.serve()
        let page = try httpGet(server.base + "/simple/big/")
        #expect(page.body.contains("big-1.0-py3-none-any.whl"), "kill points \(points): \(page.body)")
    }

    /// Every stored blob holds the bytes its name says; every published snapshot has its whole
    /// manifest; the audit chain verifies.
    private func expectIntact(_ mirror: MirrorHarness, _ when: String) throws {
        let root = mirror.data + "/blobs/sha256"
        for prefix in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + prefix) {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: root + "/" + prefix + "/" + name)))
                #expect(Digest.of(bytes).hex == name, "\(when): blob \(name) holds other bytes (\(bytes.count) bytes)")
            }
        }
        guard FileManager.default.fileExists(atPath: mirror.data + "/publish.lock") else { return }  // killed before the catalog was opened
        for id in try mirror.snapshotIDs() {
            let manifest = mirror.data + "/snapshots/pypi-\(id).json"
            let data = try? Data(contentsOf: URL(fileURLWithPath: manifest))
            #expect(data.flatMap { try? JSONSerialization.jsonObject(with: $0) } != nil, "\(when): snapshot \(id) has no whole manifest")
        }
        let audit = try AirlockCommand.run(["audit", "verify", "--data", mirror.data])
        #expect(audit.succeeded, "\(when): \(audit.output)")
    }
}
