import AirlockConfig
import AirlockCore
import AirlockDaemon
import AirlockSync
import AirlockTestSupport
import Foundation
import Logging
import Testing

/// `airlock daemon` as an operator runs it: one configuration file, a schedule of seconds, a test
/// upstream. Snapshots appear by themselves, an outage shows in /metrics and changes nothing served,
/// SIGTERM during a download exits promptly without a partial blob, and the next start resumes.
@Suite(.timeLimit(.minutes(10))) struct DaemonTests {
    func writeConfig(_ mirror: MirrorHarness, every: String = "2s") throws -> String {
        let path = mirror.dir.path + "/airlock.toml"
        try """
        # written by DaemonTests
        data = "\(mirror.data)"

        [pypi]
        upstream = "\(mirror.upstream.simpleURL)"
        python = ["\(MirrorHarness.python)"]
        requirements = ["app"]
        policy = "none"

        [schedule]
        every = "\(every)"
        retry_after = "1s"

        [daemon]
        port = 0
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startDaemon(_ config: String, _ mirror: MirrorHarness, _ label: String) throws -> (RunningProcess, String) {
        let p = try RunningProcess(AirlockCommand.binary, ["daemon", "--config", config], logPath: mirror.dir.path + "/daemon-\(label).log")
        let port = try p.waitForLine(matching: #"health and metrics on http://127\.0\.0\.1:(\d+)/"#)
        return (p, "http://127.0.0.1:\(port)")
    }

    func waitFor(_ what: String, timeout: Double = 40, _ log: () -> String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            guard Date() < deadline else { throw TestSupportError("timed out waiting for \(what); daemon log:\n\(log())") }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    @Test func schedulesSyncsSurvivesAnOutageAndStopsCleanly() throws {
        let mirror = try MirrorHarness([PackageSpec("app", "1.0", requires: ["dep"]), PackageSpec("dep", "1.0")])
        let config = try writeConfig(mirror)
        let check = try AirlockCommand.run(["config", "check", "--config", config])
        #expect(check.succeeded && check.stdout.contains("every = \"2s\"") && check.stdout.contains("policy = \"none\""), "\(check.output)")

        var (daemon, base) = try startDaemon(config, mirror, "1")
        #expect(try httpGet(base + "/healthz").status == 200)
        try waitFor("snapshot 1", { daemon.log }) { try mirror.snapshotIDs().count >= 1 }
        try waitFor("/readyz", { daemon.log }) { try httpGet(base + "/readyz").status == 200 }

        // An upstream release: a new snapshot, with nobody typing anything.
        try mirror.add([PackageSpec("app", "1.1", requires: ["dep"])])
        try waitFor("a snapshot serving app 1.1", { daemon.log }) {
            try mirror.snapshotIDs().count >= 2
                && String(
                    decoding: try Data(contentsOf: URL(fileURLWithPath: "\(mirror.data)/snapshots/pypi-\(try mirror.snapshotIDs().max()!).json")),
                    as: UTF8.self
                ).contains("app-1.1")
        }
        let before = try prometheusSamples(base + "/metrics")
        #expect((before[#"airlock_sync_runs_total{ecosystem="pypi",result="success"}"#] ?? 0) >= 2, "\(before)")

        // An outage: failures counted with their cause, nothing published, the last snapshot still the latest.
        let served = try mirror.snapshotIDs()
        try mirror.upstream.setFaults(#"{"down": true}"#)
        try waitFor("a failure in /metrics", { daemon.log }) {
            (try prometheusSamples(base + "/metrics")[#"airlock_sync_runs_total{ecosystem="pypi",result="failure"}"#] ?? 0) >= 2
        }
        let during = try prometheusSamples(base + "/metrics")
        #expect((during[#"airlock_sync_last_failure_timestamp_seconds{ecosystem="pypi"}"#] ?? 0) > 0)
        #expect(during.keys.contains { $0.hasPrefix("airlock_sync_failures_total{cause=") }, "failures by cause: \(during)")
        #expect(try mirror.snapshotIDs() == served, "a failed sync publishes nothing")
        #expect(try httpGet(base + "/readyz").status == 200, "still ready: the last good snapshot is there")

        // SIGTERM in the middle of a download.
        try mirror.add([PackageSpec("big", "1.0", payloadKiB: 4096), PackageSpec("app", "1.2", requires: ["dep", "big"])])
        try mirror.upstream.setFaults(#"{"throttle": {"big-1.0-py3-none-any.whl": 200000}}"#)
        let big = try mirror.digest(of: "big-1.0-py3-none-any.whl")
        try waitFor("the big download to start", { daemon.log }) { !mirror.stagingFiles().isEmpty }
        let seconds = daemon.terminate(timeout: 10)
        #expect(seconds != nil, "the daemon exits within 10 s of SIGTERM:\n\(daemon.log)")
        #expect(!mirror.blobExists(big), "no partial blob under its final name")

        // The next start resumes and finishes.
        try mirror.upstream.setFaults("{}")
        (daemon, base) = try startDaemon(config, mirror, "2")
        try waitFor("big stored after the restart", { daemon.log }) { mirror.blobExists(big) }
        try waitFor("staging emptied", { daemon.log }) { mirror.stagingFiles().isEmpty }
        _ = daemon.terminate(timeout: 10)
    }

    @Test func sighupReloadsAndABadConfigurationIsRefusedWithItsLine() throws {
        let mirror = try MirrorHarness([PackageSpec("app", "1.0"), PackageSpec("other", "1.0")])
        let config = try writeConfig(mirror, every: "1s")
        let (daemon, _) = try startDaemon(config, mirror, "hup")
        try waitFor("snapshot 1", { daemon.log }) { try mirror.snapshotIDs().count >= 1 }

        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.replacingOccurrences(of: #"requirements = ["app"]"#, with: #"requirements = ["app", "other"]"#).write(
            toFile: config, atomically: true, encoding: .utf8)
        daemon.hangUp()
        try waitFor("other served after SIGHUP", { daemon.log }) {
            let ids = try mirror.snapshotIDs()
            guard let last = ids.max() else { return false }
            return String(
                decoding: (try? Data(contentsOf: URL(fileURLWithPath: "\(mirror.data)/snapshots/pypi-\(last).json"))) ?? Data(), as: UTF8.self
            ).contains("other-1.0")
        }
        try text.replacingOccurrences(of: #"every = "1s""#, with: #"every = "soon""#).write(toFile: config, atomically: true, encoding: .utf8)
        daemon.hangUp()
        try waitFor("the refusal in the log", { daemon.log }) { daemon.log.contains("configuration not reloaded") }
        #expect(daemon.log.contains("airlock.toml:11: field 'schedule.every' must be a duration"), "\(daemon.log)")
        let check = try AirlockCommand.run(["config", "check", "--config", config])
        #expect(!check.succeeded && check.stderr.contains("airlock.toml:11: field 'schedule.every'"), "\(check.output)")
        #expect(daemon.terminate(timeout: 10) != nil)
    }

    @Test func aSyncJobReimportsItsFeedsFirst() async throws {
        let mirror = try MirrorHarness([PackageSpec("app", "1.0")])
        let feed = mirror.dir.path + "/popularity.csv"
        try "project,downloads\napp,123456\nnumpy,999999\n".write(toFile: feed, atomically: true, encoding: .utf8)
        let text = try String(contentsOfFile: try writeConfig(mirror), encoding: .utf8)
            .replacingOccurrences(of: "policy = \"none\"", with: "popularity_feed = \"popularity.csv\"")
        var config = try Configuration.parse(text, path: mirror.dir.path + "/airlock.toml")
        #expect(config.pypi?.feeds.popularity == feed && config.pypi?.policy == .shipped)
        config.catalog = try TestCatalog.url(forDataDirectory: mirror.data)  // the job runs here, on the backend under test
        let report = try await SyncJob.run(.pypi, config, logger: Logger(label: "test"))
        #expect(report.releases == 1)
        let check = try AirlockCommand.run(["policy", "check", "--data", mirror.data, "app"])
        #expect(check.stdout.contains("123456"), "the policy decided with the imported counts: \(check.output)")
    }
}
