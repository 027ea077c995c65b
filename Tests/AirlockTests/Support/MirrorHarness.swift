import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// One test's world: packages it builds, an upstream index serving them on 127.0.0.1, a data
/// directory, and the real `airlock` binary to sync and serve.
final class MirrorHarness: @unchecked Sendable {
    let dir: TemporaryDirectory
    let packages: String
    let data: String
    private(set) var upstream: UpstreamIndex!

    static let python: String = {
        let r = try? Subprocess.run(FixtureScripts.python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        return r?.stdout.trimmingWhitespace() ?? "3.11"
    }()

    init(_ specs: [PackageSpec], kind: UpstreamIndex.Kind = .json) throws {
        dir = try TemporaryDirectory("airlock-it")
        packages = dir.sub("upstream")
        data = dir.path + "/data"
        try FixtureScripts.build(specs, into: packages)
        upstream = try UpstreamIndex(serving: packages, kind: kind, logDirectory: dir.path)
    }

    /// The standard dependency chain: alpha → beta → delta[fast] → epsilon; unrelated stands alone.
    static let chain: [PackageSpec] = [
        PackageSpec("alpha", "1.0", requires: ["beta>=1.0"], kinds: ["wheel", "sdist"]),
        PackageSpec(
            "alpha", "1.1", requires: ["beta>=1.0", "gamma; python_version < '3.0'"], kinds: ["wheel", "sdist"],
            code: "import beta\ndef hello():\n    return 'alpha 1.1 + ' + beta.hello()\n"),
        PackageSpec("Beta", "1.2", requires: ["delta[fast]>=0.9"], code: "import delta\ndef hello():\n    return 'beta 1.2 + ' + delta.hello()\n"),
        PackageSpec("delta", "0.9", extras: ["fast": ["epsilon"]], kinds: ["wheel", "sdist"]),
        PackageSpec("epsilon", "2.0"),
        PackageSpec("unrelated", "1.0"),
    ]

    func add(_ specs: [PackageSpec]) throws { try FixtureScripts.build(specs, into: packages) }

    /// Makes the upstream report every file (but those starting with `except`) as uploaded `days` ago.
    func backdate(days: Double, except: String? = nil) throws {
        let then = Date().addingTimeInterval(-days * 86_400)
        for file in try FileManager.default.contentsOfDirectory(atPath: packages) where except.map({ !file.hasPrefix($0) }) ?? true {
            try FileManager.default.setAttributes([.modificationDate: then], ofItemAtPath: packages + "/" + file)
        }
    }

    /// Syncs; without a `--policy` in `extra`, with `--policy none` (these tests are about mirroring,
    /// not deciding; the built-in default policy would hold packages just built for review).
    func sync(_ requirements: [String], extra: [String] = []) throws -> ProcessResult {
        let policy = extra.contains("--policy") ? [] : ["--policy", "none"]
        return try AirlockCommand.run(
            ["sync", "pypi", "--upstream", upstream.simpleURL, "--data", data, "--python", Self.python] + policy + extra + requirements)
    }

    /// Syncs and fails the test unless the sync succeeded; returns the JSON report.
    @discardableResult
    func syncOK(_ requirements: [String], extra: [String] = []) throws -> [String: Any] {
        let r = try sync(requirements, extra: extra + ["--json"])
        #expect(r.succeeded, "sync failed:\n\(r.output)")
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// The shipped policy with its thresholds and cooldown opened (packages just built are new and
    /// unknown), and `changes` (text → replacement) applied; returns its path.
    func openPolicy(_ changes: [(String, String)] = []) throws -> String {
        let path = dir.path + "/policy-\(UUID().uuidString.prefix(8)).toml"
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies/default.toml").path
        var text = try String(contentsOfFile: shipped, encoding: .utf8)
        for (from, to) in [("approve_at = 70", "approve_at = 0"), ("deny_below = 30", "deny_below = 0"), ("cooldown_days = 7", "cooldown_days = 0")]
            + changes
        {
            guard text.contains(from) else { throw TestSupportError("the shipped policy has no '\(from)' to change") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func serve() throws -> AirlockCommand.Server {
        try AirlockCommand.serve(data: data, logDirectory: dir.path)
    }

    /// The SHA-256 of a file the upstream serves.
    func digest(of filename: String) throws -> Digest {
        Digest.of([UInt8](try Data(contentsOf: URL(fileURLWithPath: packages + "/" + filename))))
    }

    func blobExists(_ digest: Digest) -> Bool {
        FileManager.default.fileExists(atPath: "\(data)/blobs/sha256/\(digest.hex.prefix(2))/\(digest.hex)")
    }

    func stagingFiles() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: data + "/blobs/staging")) ?? []
    }

    func snapshotIDs() throws -> [Int] {
        let r = try AirlockCommand.run(["snapshot", "list", "--data", data, "--json"])
        guard r.succeeded, let list = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] else { return [] }
        return list.compactMap { $0["id"] as? Int }
    }
}
