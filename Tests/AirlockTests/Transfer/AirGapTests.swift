import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Two data directories: A (connected) syncs and exports signed bundles; B (air-gapped) imports
/// them and serves. Everything through the real `airlock` binary.
final class AirGap: @unchecked Sendable {
    let dir: TemporaryDirectory
    let a: String
    let b: String
    let keys: String

    init(_ dir: TemporaryDirectory, a: String) throws {
        self.dir = dir
        self.a = a
        b = dir.path + "/replica"
        keys = dir.path + "/keys"
        let made = try AirlockCommand.run(["keys", "generate", "--out", keys])
        #expect(made.succeeded, "\(made.output)")
    }

    /// `airlock export` on A; returns its JSON report.
    @discardableResult
    func export(_ name: String, _ extra: [String] = [], key: String? = nil) throws -> [String: Any] {
        let r = try AirlockCommand.run(["export", "--data", a, "--key", key ?? keys + "/airlock.key", "--out", path(name), "--json"] + extra)
        #expect(r.succeeded, "export failed:\n\(r.output)")
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func importing(_ names: [String], into data: String? = nil) throws -> ProcessResult {
        try AirlockCommand.run(["import", "--data", data ?? b, "--trust", keys + "/airlock.pub", "--json"] + names.map(path))
    }

    @discardableResult
    func importOK(_ name: String) throws -> [String: Any] {
        let r = try importing([name])
        #expect(r.succeeded, "import failed:\n\(r.output)")
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func path(_ name: String) -> String { name.hasPrefix("/") ? name : dir.path + "/" + name }

    func snapshotIDs(_ data: String) throws -> [Int] {
        let r = try AirlockCommand.run(["snapshot", "list", "--data", data, "--json"])
        guard r.succeeded, let list = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] else { return [] }
        return list.compactMap { $0["id"] as? Int }
    }

    /// Everything a refusal must leave as it was: every catalog row, every blob, every manifest, by content.
    func fingerprint(_ data: String) throws -> String {
        let r = try Subprocess.run(
            FixtureScripts.python,
            [
                "-c",
                """
                import hashlib, os, sys
                d = sys.argv[1]
                for root in ("blobs/sha256", "snapshots"):
                    for base, _, files in sorted(os.walk(os.path.join(d, root))):
                        for f in sorted(files):
                            print(os.path.relpath(os.path.join(base, f), d), hashlib.sha256(open(os.path.join(base, f), "rb").read()).hexdigest())
                print("staging", sorted(os.listdir(os.path.join(d, "blobs/staging"))))
                """, data,
            ])
        #expect(r.succeeded, "\(r.output)")
        return Digest.of(Array(try CatalogSQL.dump(dataDirectory: data).utf8)).hex + "\n" + r.stdout
    }

    /// The members of a bundle (uncompressed tar): name → (offset of its data, size).
    func members(_ name: String) throws -> [String: (offset: Int, size: Int)] {
        let r = try Subprocess.run(
            FixtureScripts.python,
            ["-c", "import tarfile, sys\nfor m in tarfile.open(sys.argv[1]): print(m.name, m.offset_data, m.size)", path(name)])
        #expect(r.succeeded, "\(r.output)")
        var out: [String: (Int, Int)] = [:]
        for line in r.stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            out[String(f[0])] = (Int(f[1])!, Int(f[2])!)
        }
        return out
    }

    /// A copy of a bundle with one byte flipped at `offset`.
    func flipped(_ name: String, at offset: Int, to copy: String) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
        bytes[offset] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path(copy)))
        return copy
    }
}

@Suite(.timeLimit(.minutes(6))) struct AirGapTests {
    /// Sync on A, export full, import on B, install with pip from B inside a network namespace with
    /// only loopback; then a new upstream release crosses as an incremental bundle holding only new blobs.
    @Test func pipInstallsFromAReplicaFedByFullThenIncrementalBundles() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha"])
        let gap = try AirGap(mirror.dir, a: mirror.data)
        let full = try gap.export("full.tar.zst")
        #expect(full["sequence"] as? Int == 1 && full["snapshots"] as? [Int] == [1], "\(full)")
        let imported = try gap.importOK("full.tar.zst")
        #expect(imported["snapshots"] as? [Int] == [1], "\(imported)")
        #expect(try gap.snapshotIDs(gap.b) == [1])
        #expect(try gap.fingerprint(gap.b).contains("snapshots/pypi-1.json"))

        let offline = try OfflineInstall.pip(data: gap.b, packages: ["alpha"], check: "import alpha; print(alpha.hello())", in: mirror.dir.path)
        #expect(offline.output.contains("RESULT alpha 1.1 + beta 1.2 + delta 0.9"), "\(offline.output)")

        try mirror.add([PackageSpec("alpha", "1.2", requires: ["beta>=1.0"])])
        try mirror.syncOK([])
        let incremental = try gap.export("since-1.tar", ["--since", "1"])
        #expect(incremental["snapshots"] as? [Int] == [2] && incremental["base"] as? Int == 1, "\(incremental)")
        let members = try gap.members("since-1.tar")
        let blobs = members.filter { $0.key.hasPrefix("blobs/") }
        let wheel = try mirror.digest(of: "alpha-1.2-py3-none-any.whl")
        let wheelSize = try FileManager.default.attributesOfItem(atPath: mirror.packages + "/alpha-1.2-py3-none-any.whl")[.size] as! Int
        #expect(blobs["blobs/\(wheel.hex)"]?.size == wheelSize, "the new wheel crosses: \(members.keys.sorted())")
        #expect(blobs.count == 2, "only the new wheel and its core metadata cross: \(blobs.keys.sorted())")
        #expect(incremental["blobBytes"] as? Int == blobs.values.map(\.size).reduce(0, +))
        // The same, split into parts for media with a file-size limit: the parts together import.
        let split = try gap.export("since-1-split.tar.zst", ["--since", "1", "--split", "2K"])
        let parts = try #require(split["parts"] as? [String])
        #expect(parts.count > 1 && parts[0].hasSuffix(".part1-of-\(parts.count)"), "\(parts)")
        try gap.importOK(parts[0])
        #expect(try gap.snapshotIDs(gap.b) == [1, 2])

        let server = try AirlockCommand.serve(data: gap.b, logDirectory: mirror.dir.path)
        let (pip, python) = try PythonClients.pipInstall(["alpha"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import alpha; print(alpha.__version__)").stdout.trimmingWhitespace() == "1.2")
        let (old, oldPython) = try PythonClients.pipInstall(["alpha"], index: server.base + "/pypi/1/simple/", in: mirror.dir.path)
        #expect(old.succeeded, "\(old.output)")
        #expect(
            try PythonClients.python(oldPython, "import alpha; print(alpha.__version__)").stdout.trimmingWhitespace() == "1.1",
            "snapshot 1 still serves 1.1")
    }

    /// R installs from a replica's CRAN repository.
    @Test func rInstallsFromAReplica() throws {
        let cran = try CRANHarness()
        try cran.syncOK(["cranapp"])
        let gap = try AirGap(cran.dir, a: cran.data)
        try gap.export("cran.tar", ["--ecosystem", "cran"])
        try gap.importOK("cran.tar")
        let server = try AirlockCommand.serve(data: gap.b, logDirectory: cran.dir.path)
        let installed = try RClient.install(
            ["cranapp"], repos: server.base + "/cran/latest", lib: cran.dir.path + "/lib", check: "library(cranapp); cat('RESULT:', app_run(), '\\n')"
        )
        #expect(installed.output.contains("RESULT: hello app from cranbase 1.1 42 cranapp 1.0 2"), "\(installed.output)")
    }

    /// Every refusal names what was wrong and leaves B exactly as it was.
    @Test func refusalsLeaveTheReplicaAsItWas() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha"])
        let gap = try AirGap(mirror.dir, a: mirror.data)
        try gap.export("full.tar")
        try gap.importOK("full.tar")
        try mirror.add([PackageSpec("alpha", "1.2", requires: ["beta>=1.0"])])
        try mirror.syncOK([])
        let before = try gap.fingerprint(gap.b)

        func refused(_ names: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try gap.importing(names)
            #expect(!r.succeeded, "\(names) was accepted", sourceLocation: sourceLocation)
            #expect(r.stderr.contains("import refused, nothing changed") && r.stderr.contains(message), "\(r.stderr)", sourceLocation: sourceLocation)
            let after = try gap.fingerprint(gap.b)
            #expect(
                after == before,
                "\(names) changed the replica: \(Set(after.split(separator: "\n")).symmetricDifference(before.split(separator: "\n")))",
                sourceLocation: sourceLocation)
        }

        let stranger = mirror.dir.path + "/stranger"
        #expect(try AirlockCommand.run(["keys", "generate", "--out", stranger]).succeeded)
        try gap.export("stranger.tar", ["--since", "1"], key: stranger + "/airlock.key")
        try refused(["stranger.tar"], "which is not trusted here")

        try gap.export("good.tar", ["--since", "1"])
        let members = try gap.members("good.tar")
        let blob = try #require(members.first { $0.key.hasPrefix("blobs/") })
        try refused(
            [try gap.flipped("good.tar", at: blob.value.offset + blob.value.size / 2, to: "blob-flip.tar")], "does not match its signed SHA-256")
        let manifest = try #require(members["bundle.json"])
        try refused([try gap.flipped("good.tar", at: manifest.offset + 40, to: "manifest-flip.tar")], "signature does not verify")
        let whole = try Data(contentsOf: URL(fileURLWithPath: gap.path("good.tar")))
        try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: gap.path("truncated.tar")))
        try refused(["truncated.tar"], "truncated")

        let split = try gap.export("split.tar", ["--since", "1", "--split", "4K"])
        let parts = try #require(split["parts"] as? [String])
        #expect(parts.count >= 3, "\(parts)")
        try FileManager.default.removeItem(atPath: parts[1])
        try refused([parts[0]], "part 2 of \(parts.count) of the bundle is missing")

        let soon = try gap.export("soon.tar", ["--since", "1", "--expires-in", "1s"])
        #expect(soon["sequence"] != nil)
        Thread.sleep(forTimeInterval: 1.5)
        try refused(["soon.tar"], "the bundle expired at")

        try mirror.add([PackageSpec("alpha", "1.3", requires: ["beta>=1.0"])])
        try mirror.syncOK([])
        try gap.export("since-2.tar", ["--since", "2"])
        try refused(["since-2.tar"], "incremental on snapshot 2, which this replica does not hold")

        try refused(["full.tar"], "is not newer than the last one imported here (1): a replayed or rolled-back bundle")

        // The good bundle still goes in afterwards, and a replayed copy of it is refused.
        try gap.importOK("good.tar")
        #expect(try gap.snapshotIDs(gap.b) == [1, 2])
        let replay = try gap.importing(["good.tar"])
        #expect(!replay.succeeded && replay.stderr.contains("a replayed or rolled-back bundle"), "\(replay.output)")
    }

    /// A revocations-only bundle pulls a release from every snapshot on B at once; a replica refuses
    /// approvals and syncs; a miss on B reaches A's review queue.
    @Test func revocationsCrossFastAndMissesComeBack() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha", "unrelated"])
        let gap = try AirGap(mirror.dir, a: mirror.data)
        let denied = try AirlockCommand.run(["review", "deny", "--data", gap.a, "unrelated", "--reason", "not needed here"])
        #expect(denied.succeeded, "\(denied.output)")
        try gap.export("full.tar")
        try gap.importOK("full.tar")
        let served = try #require(try gap.snapshotIDs(gap.b).first)

        let revoked = try AirlockCommand.run(["review", "revoke", "--data", gap.a, "alpha", "1.1", "--reason", "malware: steals tokens"])
        #expect(revoked.succeeded, "\(revoked.output)")
        let bundle = try gap.export("revocations.tar", ["--revocations-only"])
        #expect(bundle["revocations"] as? Int == 1, "\(bundle)")
        let size = try FileManager.default.attributesOfItem(atPath: gap.path("revocations.tar"))[.size] as! Int
        #expect(size < 16_384, "a revocations bundle is kilobytes: \(size)")
        let snapshotsBefore = try gap.snapshotIDs(gap.b)
        // The replica's airlock.toml names the trusted key: no --trust needed.
        let config = mirror.dir.path + "/replica.toml"
        try "data = \"\(gap.b)\"\n\n[transfer]\ntrust = [\"keys/airlock.pub\"]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let configured = try AirlockCommand.run(["import", "--config", config, "--json", gap.path("revocations.tar")])
        #expect(configured.succeeded, "\(configured.output)")
        let r = (try? JSONSerialization.jsonObject(with: Data(configured.stdout.utf8)) as? [String: Any]) ?? [:]
        #expect(r["revocationsAdded"] as? Int == 1, "\(r)")
        #expect(try gap.snapshotIDs(gap.b) == snapshotsBefore, "no new snapshot: the revocation applies to every snapshot as it is")

        let server = try AirlockCommand.serve(data: gap.b, logDirectory: mirror.dir.path)
        for path in ["/simple/alpha/", "/pypi/\(served)/simple/alpha/"] {
            let page = try httpGet(server.base + path).body
            #expect(!page.contains("alpha-1.1-py3-none-any.whl") && page.contains("alpha-1.0-py3-none-any.whl"), "\(path): \(page)")
        }
        let wheel = try mirror.digest(of: "alpha-1.1-py3-none-any.whl")
        let file = try httpGet(server.base + "/files/sha256/\(wheel.hex)/alpha-1.1-py3-none-any.whl")
        #expect(file.status == 404 && file.body.contains("malware: steals tokens"), "\(file.status) \(file.body)")
        let (pip, _) = try PythonClients.pipInstall(["alpha==1.1"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(!pip.succeeded)

        let approve = try AirlockCommand.run(["review", "approve", "--data", gap.b, "alpha", "--reason", "x"])
        #expect(!approve.succeeded && approve.stderr.contains("air-gapped replica of"), "\(approve.output)")
        let secret = try AirlockCommand.run(["token", "create", "--data", gap.b, "--name", "reviewer", "--role", "reviewer"]).stdout
            .trimmingWhitespace()
        let api = try Subprocess.run(
            "/usr/bin/curl",
            [
                "-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(secret)", "-H", "Content-Type: application/json",
                "-d", #"{"ecosystem": "pypi", "project": "alpha", "action": "approve", "reason": "x"}"#, server.base + "/api/v1/overrides",
            ])
        #expect(api.stdout.hasSuffix("\n403") && api.stdout.contains("air-gapped replica of"), "the API refuses too: \(api.output)")
        let sync = try AirlockCommand.run(["sync", "pypi", "--data", gap.b, "--upstream", mirror.upstream.simpleURL, "--policy", "none", "alpha"])
        #expect(!sync.succeeded && sync.stderr.contains("it has no upstream"), "\(sync.output)")
        let audit = try AirlockCommand.run(["audit", "list", "--data", gap.b])
        #expect(audit.stdout.contains("bundle.imported"), "\(audit.output)")

        #expect(try httpGet(server.base + "/simple/unrelated/").status == 404)
        Thread.sleep(forTimeInterval: 6)  // misses are flushed every 5 s
        let out = mirror.dir.path + "/misses.json"
        let exported = try AirlockCommand.run(["misses", "export", "--data", gap.b, "--out", out])
        #expect(exported.succeeded, "\(exported.output)")
        let imported = try AirlockCommand.run(["misses", "import", "--data", gap.a, out])
        #expect(imported.succeeded, "\(imported.output)")
        let queue = try AirlockCommand.run(["review", "list", "--data", gap.a])
        #expect(
            queue.stdout.contains("pypi unrelated 1.0") && queue.stdout.contains("1 request(s)"),
            "B's demand for what A denied reaches A's queue: \(queue.output)")
    }
}

/// Serves a data directory and installs from it inside a network namespace that has only loopback,
/// so neither the server nor the client can reach anything else.
enum OfflineInstall {
    static func pip(data: String, packages: [String], check: String, in directory: String) throws -> ProcessResult {
        let venv = directory + "/offline-venv"
        let made = try Subprocess.run(FixtureScripts.python, ["-m", "venv", "--without-pip", venv])
        #expect(made.succeeded, "\(made.output)")
        let script = """
            set -e
            ip link set lo up
            "$AIRLOCK" serve --data "$DATA" --port 18080 > "$DIR/offline-serve.log" 2>&1 < /dev/null &
            pid=$!
            trap 'kill $pid' EXIT
            for i in $(seq 1 100); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
            "$PYTHON" -m pip --python "$VENV/bin/python" install --no-input --index-url http://127.0.0.1:18080/simple/ \(packages.joined(separator: " "))
            printf 'RESULT '; "$VENV/bin/python" -c "$CHECK"
            """
        // Inside the namespace only the PostgreSQL server's Unix socket is reachable, as on an air-gapped machine with a local server.
        let catalog = try TestCatalog.url(forDataDirectory: data, overSocket: true).map { ["AIRLOCK_CATALOG": $0] } ?? [:]
        let environment = Subprocess.cleanEnvironment().merging(
            [
                "AIRLOCK": AirlockCommand.binary, "DATA": data, "DIR": directory, "PYTHON": FixtureScripts.python, "VENV": venv, "CHECK": check,
            ].merging(catalog) { $1 }
        ) { $1 }
        if try Subprocess.run("/usr/bin/unshare", ["--net", "true"]).succeeded {
            return try Subprocess.run("/usr/bin/unshare", ["--net", "/bin/sh", "-c", script], environment: environment)
        }
        // No namespaces here (an unprivileged container): say so, and install over plain loopback.
        print("note: network namespaces cannot be created here; the offline install runs on the host's loopback")
        return try Subprocess.run("/bin/sh", ["-c", script.replacingOccurrences(of: "ip link set lo up", with: ":")], environment: environment)
    }
}
