import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Two `airlock` processes writing one catalog at once — syncs that publish, and review acts in a
/// loop — lose nothing, and the audit chain stays one chain (on SQLite and on PostgreSQL).
@Suite(.timeLimit(.minutes(10))) struct ConcurrentWritersTests {
    @Test func syncsAndReviewActsAtOnceLoseNothing() throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha", "unrelated"])
        let environment = ProcessInfo.processInfo.environment.merging(try TestCatalog.environment(forAirlock: ["--data", mirror.data])) { $1 }
        let acts = 12
        let syncs = try RunningProcess(
            "/bin/sh",
            [
                "-c",
                #"for i in 1 2 3 4 5 6; do "$0" sync pypi --upstream "$1" --data "$2" --python "$3" --policy none alpha unrelated || exit 1; done"#,
                AirlockCommand.binary, mirror.upstream.simpleURL, mirror.data, MirrorHarness.python,
            ],
            environment: environment, logPath: mirror.dir.path + "/syncs.log")
        let reviews = try RunningProcess(
            "/bin/sh",
            [
                "-c",
                #"i=0; while [ $i -lt "$2" ]; do i=$((i+1)); "$0" token create --data "$1" --name "t$i" --role reader >/dev/null || exit 1; "$0" review deny --data "$1" unrelated --reason "act $i" >/dev/null || exit 1; done"#,
                AirlockCommand.binary, mirror.data, String(acts),
            ],
            environment: environment, logPath: mirror.dir.path + "/reviews.log")
        #expect(syncs.waitUntilExit() == 0, "\(syncs.log)")
        #expect(reviews.waitUntilExit() == 0, "\(reviews.log)")
        let verify = try AirlockCommand.run(["audit", "verify", "--data", mirror.data])
        #expect(verify.succeeded, "\(verify.output)")
        let events = try AirlockCommand.run(["audit", "list", "--data", mirror.data, "--limit", "1000", "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]])
        #expect(list.filter { $0["action"] as? String == "token.created" }.count == acts, "every token creation is in the log once")
        #expect(list.filter { $0["action"] as? String == "override.deny" }.count == acts, "every denial is in the log once")
        let tokens = try AirlockCommand.run(["token", "list", "--data", mirror.data, "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(tokens.stdout.utf8)) as? [Any])?.count == acts, "\(tokens.output)")
    }
}
