import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// What two processes on one data directory, and leftovers of killed ones, must never do.
@Suite(.timeLimit(.minutes(10))) struct DataDirectoryTests {
    @Test func twoFirstSyncsAtOnceNeverShowRawDatabaseErrors() throws {
        for round in 0..<5 {
            let mirror = try MirrorHarness([PackageSpec("alpha", "1.0")], kind: .html)
            let args = ["sync", "pypi", "--upstream", mirror.upstream.simpleURL, "--data", mirror.data, "--python", MirrorHarness.python, "--policy", "none", "alpha"]
            let runs = (0..<2).map { i in
                try? RunningProcess(AirlockCommand.binary, args, logPath: mirror.dir.path + "/sync-\(round)-\(i).log")
            }
            for run in runs.compactMap({ $0 }) {
                run.process.waitUntilExit()
                let log = run.log
                #expect(!log.contains("duplicate column") && !log.contains("database is locked") && !log.contains("SQLite error"), "\(log)")
                if run.process.terminationStatus != 0 { #expect(log.contains("another sync is running"), "\(log)") }
            }
            #expect(runs.contains { $0?.process.terminationStatus == 0 }, "one of the two syncs publishes")
        }
    }

    @Test func anyStagingLeftoverIsRemovedByTheNextSync() throws {
        let mirror = try MirrorHarness([PackageSpec("alpha", "1.0")], kind: .html)
        try mirror.syncOK(["alpha"])
        for leftover in ["a.part", ".tmp.nosync1234", "4F2C.tmp"] {
            FileManager.default.createFile(atPath: mirror.data + "/blobs/staging/" + leftover, contents: Data("x".utf8))
        }
        try mirror.syncOK(["alpha"])
        #expect(mirror.stagingFiles().isEmpty, "\(mirror.stagingFiles())")
    }

    @Test func aTokenCannotBeCreatedAlreadyExpired() throws {
        let dir = try TemporaryDirectory()
        let r = try AirlockCommand.run(["token", "create", "--data", dir.path, "--name", "old", "--role", "reader", "--expires", "2020-01-01"])
        #expect(!r.succeeded && r.stderr.contains("already past"), "\(r.output)")
    }
}
