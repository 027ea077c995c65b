import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Snapshots that always install: what the policy holds back takes its dependents with it (the newest
/// installable version is served instead), one bad file never stops the rest, and CRLF metadata reads.
@Suite(.timeLimit(.minutes(10))) struct InstallabilityTests {
    @Test func aDependencyHeldByThePolicyHoldsItsDependentAndAnOlderOneIsServed() throws {
        let mirror = try MirrorHarness([
            PackageSpec("app", "1.0", requires: ["lib>=1"]), PackageSpec("app", "2.0", requires: ["lib>=2"]),
            PackageSpec("lib", "1.0"), PackageSpec("lib", "2.0"),
        ])
        // lib 2.0 was released just now: the default policy's cooldown holds it for review.
        try mirror.backdate(days: 400, except: "lib-2.0")
        let r = try mirror.sync(["app"], extra: ["--policy", PolicySyncTests.defaultPolicy, "--versions", "1"])
        #expect(r.succeeded, "\(r.output)")
        #expect(r.stdout.contains("held: app==2.0: its dependency lib>=2 is held for review (lib 2.0)"), "\(r.stdout)")

        let server = try mirror.serve()
        let app = try httpGet(server.base + "/simple/app/").body
        #expect(app.contains("app-1.0-py3-none-any.whl") && !app.contains("app-2.0"), "the newest installable app is served instead: \(app)")
        let (pip, python) = try PythonClients.pipInstall(["app"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import app, lib; print(app.__version__, lib.__version__)").stdout.trimmingWhitespace() == "1.0 1.0")

        // The queue shows lib with the release it holds back: one approval unblocks the chain.
        let queue = try AirlockCommand.run(["review", "list", "--data", mirror.data, "--json"])
        #expect(queue.stdout.contains(#""project" : "lib""#) && queue.stdout.contains("app==2.0"), "\(queue.stdout)")
        let approved = try AirlockCommand.run(["review", "approve", "--data", mirror.data, "lib", "--versions", "2.0", "--reason", "read the diff"])
        #expect(approved.succeeded, "\(approved.output)")
        try eventually("app 2.0 is served once lib 2.0 is approved") { try httpGet(server.base + "/simple/app/").body.contains("app-2.0") }
    }

    @Test func aCorruptAndAnUnreadableReleaseAreSetAsideAndTheRestIsPublished() throws {
        let mirror = try MirrorHarness(
            [
                PackageSpec("app", "1.0", requires: ["good"]), PackageSpec("good", "1.0"), PackageSpec("corrupt", "1.0"),
                PackageSpec("broken", "1.0", hostile: "no-metadata"), PackageSpec("crlf", "1.0", requires: ["good"], lineEndings: "crlf"),
            ], kind: .html)
        try mirror.upstream.setFaults(#"{"wrong_hash": ["corrupt-1.0-py3-none-any.whl"]}"#)
        let r = try mirror.sync(["app", "corrupt", "broken", "crlf"])
        #expect(r.status == 3, "set-aside releases make the sync exit 3: \(r.output)")
        #expect(r.stdout.contains("set aside: corrupt 1.0 (corrupt-1.0-py3-none-any.whl): hash-mismatch: sha256 mismatch"), "\(r.stdout)")
        #expect(r.stdout.contains("set aside: broken 1.0 (broken-1.0-py3-none-any.whl): malformed-metadata"), "\(r.stdout)")
        #expect(!mirror.blobExists(try mirror.digest(of: "corrupt-1.0-py3-none-any.whl")), "a hash mismatch is never stored")

        let server = try mirror.serve()
        #expect(try httpGet(server.base + "/simple/corrupt/").status == 404)
        let (pip, python) = try PythonClients.pipInstall(["app", "crlf"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import app, good, crlf; print(crlf.__version__)").stdout.trimmingWhitespace() == "1.0")

        let queue = try AirlockCommand.run(["review", "list", "--data", mirror.data, "--json"])
        #expect(queue.stdout.contains(#""reason" : "set-aside""#) && queue.stdout.contains("hash-mismatch"), "reviewers see it: \(queue.stdout)")
    }

    @Test func everyTargetGetsAVersionItCanInstall() throws {
        // lib 2.0 ships a wheel for CPython 3.13 only: the 3.11 target needs lib 1.0 as well.
        let mirror = try MirrorHarness([
            PackageSpec("app", "1.0", requires: ["lib"]), PackageSpec("lib", "1.0"),
            PackageSpec("lib", "2.0", tag: "cp313-cp313-manylinux_2_28_x86_64"),
        ])
        let report = try mirror.syncOK(["app"], extra: ["--python", "3.13"])
        #expect(report["releases"] as? Int == 3, "\(report)")
        let server = try mirror.serve()
        let lib = try httpGet(server.base + "/simple/lib/").body
        #expect(lib.contains("lib-1.0-py3-none-any.whl") && lib.contains("lib-2.0-cp313"), "\(lib)")
        let (pip, python) = try PythonClients.pipInstall(["app"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import lib; print(lib.__version__)").stdout.trimmingWhitespace() == "1.0")
    }

    /// Installability is judged on each target on its own, not on their union: app 2.0 needs lib>=2,
    /// whose only files are CPython 3.12 wheels, so on 3.11 it would not install; it is held, naming the
    /// target, and pip on 3.11 gets app 1.0 with lib 1.0.
    @Test func aDependencyServedForAnotherTargetOnlyHoldsItsDependent() throws {
        let mirror = try MirrorHarness([
            PackageSpec("app", "1.0", requires: ["lib>=1"]), PackageSpec("app", "2.0", requires: ["lib>=2"]),
            PackageSpec("lib", "1.0"), PackageSpec("lib", "2.0", tag: "cp312-cp312-manylinux_2_28_x86_64"),
        ])
        #expect(MirrorHarness.python == "3.11", "the test's interpreter is the 3.11 target")
        let r = try mirror.sync(["app"], extra: ["--python", "3.12", "--versions", "2"])
        #expect(r.succeeded, "\(r.output)")
        #expect(
            r.stdout.contains(
                "held: app==2.0: on cp311 on manylinux_2_28_x86_64, its dependency lib>=2 has no served version installable there (lib 2.0 has files only for other targets)"
            ),
            "\(r.stdout)")
        let server = try mirror.serve()
        let app = try httpGet(server.base + "/simple/app/").body
        #expect(app.contains("app-1.0-py3-none-any.whl") && !app.contains("app-2.0"), "\(app)")
        #expect(try httpGet(server.base + "/simple/lib/").body.contains("lib-2.0-cp312"), "lib 2.0 itself is served, for 3.12")
        let (pip, python) = try PythonClients.pipInstall(["app"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import app, lib; print(app.__version__, lib.__version__)").stdout.trimmingWhitespace() == "1.0 1.0")
    }
}
