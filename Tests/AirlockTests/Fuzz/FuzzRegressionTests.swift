import AirlockTestSupport
import Foundation
import Testing

/// Every fuzz target replays its seeds and every input a fuzzing run once crashed on
/// (`fuzz/regressions/TARGET/`), through the same code as `fuzz/run`, without libFuzzer.
@Suite struct FuzzRegressionTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz").path

    @Test func seedsAndPastFindingsReplayCleanly() throws {
        let replay = URL(fileURLWithPath: AirlockCommand.binary).deletingLastPathComponent().appendingPathComponent("AirlockFuzz").path
        let targets = try Subprocess.run(replay, ["--list"]).stdout.split(separator: "\n").map(String.init)
        #expect(targets.count >= 14)
        let seeded = try FileManager.default.contentsOfDirectory(atPath: Self.fuzzDirectory + "/seeds").sorted()
        #expect(seeded == targets.sorted(), "every target has seeds, and every seed directory a target")
        for target in targets {
            let r = try Subprocess.run(replay, [target, Self.fuzzDirectory + "/seeds/" + target, Self.fuzzDirectory + "/regressions/" + target])
            #expect(r.succeeded, "\(target):\n\(r.output)")
        }
    }
}
