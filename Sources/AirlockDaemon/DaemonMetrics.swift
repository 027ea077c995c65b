import AirlockCore
import AirlockSync
import Foundation
public import Prometheus

/// What the daemon measures per ecosystem, for `/metrics`: syncs by result, their duration, files
/// downloaded and reused, index pages answered 304, releases set aside, failures by cause, and the
/// times of the last success and the last failure; R binaries mirrored and refused, and `[build]` runs
/// and the binaries they built, failed or skipped.
public final class DaemonMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        registry.makeCounter(
            descriptor: .init(namespace: "airlock", subsystem: "sync", metricName: name, unitName: "total", helpText: help), labels: labels)
    }

    private func gauge(_ name: String, _ help: String, _ e: Ecosystem) -> Gauge {
        registry.makeGauge(
            descriptor: .init(namespace: "airlock", subsystem: "sync", metricName: name, unitName: "timestamp_seconds", helpText: help),
            labels: [("ecosystem", e.rawValue)])
    }

    public init() {
        for e in Ecosystem.allCases {
            for result in ["success", "failure"] {
                _ = counter("runs", "Syncs finished, by result", [("ecosystem", e.rawValue), ("result", result)])
            }
            _ = gauge("last_success", "When the last sync succeeded (Unix time; 0: never)", e)
            _ = gauge("last_failure", "When the last sync failed (Unix time; 0: never)", e)
        }
    }

    func succeeded(_ e: Ecosystem, _ report: SyncReport, seconds: Double) {
        let eco = ("ecosystem", e.rawValue)
        counter("runs", "Syncs finished, by result", [eco, ("result", "success")]).increment()
        counter("files_downloaded", "Files fetched from upstream", [eco]).increment(by: Int64(report.downloaded))
        counter("files_reused", "Files already stored", [eco]).increment(by: Int64(report.reused))
        counter("index_not_modified", "Index pages the upstream answered 304 Not Modified", [eco]).increment(by: Int64(report.indexNotModified))
        counter("set_aside", "Releases set aside (a check failed)", [eco]).increment(by: Int64(report.setAside.count))
        counter("published", "Syncs that published a snapshot", [eco]).increment(by: Int64(report.published ? 1 : 0))
        if let binaries = report.binaries {
            counter("binaries_mirrored", "R binaries fetched from the binary upstream", [eco]).increment(by: Int64(binaries.mirrored.count))
            counter("binaries_refused", "R binaries refused (not what they claim to be)", [eco]).increment(by: Int64(binaries.refused.count))
        }
        duration(e).record(Duration.milliseconds(Int64(seconds * 1000)))
        gauge("last_success", "When the last sync succeeded (Unix time; 0: never)", e).set(Date().timeIntervalSince1970)
    }

    func failed(_ e: Ecosystem, cause: String, seconds: Double) {
        let eco = ("ecosystem", e.rawValue)
        counter("runs", "Syncs finished, by result", [eco, ("result", "failure")]).increment()
        counter("failures", "Failed syncs, by cause", [eco, ("cause", cause)]).increment()
        duration(e).record(Duration.milliseconds(Int64(seconds * 1000)))
        gauge("last_failure", "When the last sync failed (Unix time; 0: never)", e).set(Date().timeIntervalSince1970)
    }

    /// A `[build]` run that ran: its binaries by outcome.
    func built(_ report: BuildReport) {
        buildCounter("runs", "Build runs after a CRAN sync, by result", [("result", "success")]).increment()
        for (outcome, count) in [("built", report.built.count), ("failed", report.failed.count), ("skipped", report.skipped.count)] {
            buildCounter("binaries", "R binaries by build outcome", [("outcome", outcome)]).increment(by: Int64(count))
        }
    }

    /// A `[build]` run that could not run at all (no R, no sandbox, the wrong distribution).
    func buildFailed() {
        buildCounter("runs", "Build runs after a CRAN sync, by result", [("result", "failure")]).increment()
    }

    private func buildCounter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        registry.makeCounter(
            descriptor: .init(namespace: "airlock", subsystem: "build", metricName: name, unitName: "total", helpText: help), labels: labels)
    }

    private func duration(_ e: Ecosystem) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "airlock", subsystem: "sync", metricName: "duration", unitName: "seconds", helpText: "Wall time of a sync"),
            labels: [("ecosystem", e.rawValue)], buckets: [.seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(1800), .seconds(7200)])
    }
}
