import AirlockCore
import AirlockStore
import AirlockTestSupport
import Foundation
import Synchronization
import Testing

/// What two processes on one data directory, and leftovers of killed ones, must never do.
@Suite(.timeLimit(.minutes(10))) struct DataDirectoryTests {
    @Test func twoFirstSyncsAtOnceNeverShowRawDatabaseErrors() throws {
        for round in 0..<5 {
            let mirror = try MirrorHarness([PackageSpec("alpha", "1.0")], kind: .html)
            let args = [
                "sync", "pypi", "--upstream", mirror.upstream.simpleURL, "--data", mirror.data, "--python", MirrorHarness.python, "--policy", "none",
                "alpha",
            ]
            let runs = (0..<2).map { i in
                try? RunningProcess(AirlockCommand.binary, args, logPath: mirror.dir.path + "/sync-\(round)-\(i).log")
            }
            for run in runs.compactMap({ $0 }) {
                run.waitUntilExit()
                let log = run.log
                #expect(!log.contains("duplicate column") && !log.contains("database is locked") && !log.contains("SQLite error"), "\(log)")
                if run.waitUntilExit() != 0 { #expect(log.contains("another sync is running"), "\(log)") }
            }
            #expect(runs.contains { $0?.waitUntilExit() == 0 }, "one of the two syncs publishes")
        }
    }

    /// A refused lock attempt closes its own descriptor once: closing it twice would close whatever
    /// another thread opened under that number in between (a blob being served, a socket).
    @Test func aRefusedLockClosesNoOtherDescriptor() throws {
        let dir = try TemporaryDirectory()
        let held = try DataDirectoryLock(.publish, dataDirectory: dir.path)
        let victimPath = dir.path + "/victim"
        FileManager.default.createFile(atPath: victimPath, contents: Data("victim".utf8))
        let stop = Atomic<Bool>(false)
        let lost = Atomic<Int>(0)
        let victim = Thread {
            while !stop.load(ordering: .relaxed) {
                let fd = open(victimPath, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { continue }
                for _ in 0..<20 where fcntl(fd, F_GETFD) < 0 { lost.add(1, ordering: .relaxed) }
                close(fd)
            }
        }
        victim.start()
        for _ in 0..<20_000 {
            #expect(throws: AirlockError.self) { try DataDirectoryLock(.publish, dataDirectory: dir.path) }
        }
        stop.store(true, ordering: .relaxed)
        withExtendedLifetime(held) {}
        #expect(lost.load(ordering: .relaxed) == 0, "another thread's descriptor was closed under it")
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
