import AirlockCatalog
import AirlockCore
import Hummingbird
public import Prometheus
import Synchronization

/// What `serve` measures, exposed at `/metrics` in Prometheus text format: requests by route class
/// and status, latency per class, bytes sent, install misses, and at each scrape the snapshot served
/// per ecosystem and the revocations in force. Counters are made once per (class, status) and then
/// only incremented, so measuring costs a lock and an atomic add per request.
public final class EndpointMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Keyed by class index × 1000 + status: no allocation per request.
    private let requests = Mutex<[Int: Counter]>([:])
    private let latency: [RouteClass: DurationHistogram]
    private let bytes: [RouteClass: Counter]
    let misses: Counter
    private let snapshot: [Ecosystem: Gauge]
    private let revocations: Gauge

    /// Where a request went, as a label with few values.
    enum RouteClass: String, CaseIterable {
        case simple, files, cran, api, ui, other

        init(path: String) {
            if path.hasPrefix("/simple") || path.hasPrefix("/pypi/") {
                self = .simple
            } else if path.hasPrefix("/files/") {
                self = .files
            } else if path.hasPrefix("/cran/") {
                self = .cran
            } else if path.hasPrefix("/api/") {
                self = .api
            } else if path.hasPrefix("/ui") {
                self = .ui
            } else {
                self = .other
            }
        }
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let buckets: [Duration] = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500),
            .seconds(2), .seconds(10),
        ]
        latency = Dictionary(
            uniqueKeysWithValues: RouteClass.allCases.map { c in
                (
                    c,
                    registry.makeDurationHistogram(
                        descriptor: .init(
                            namespace: "airlock", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                            helpText: "Time from request head to response head"),
                        labels: [("class", c.rawValue)], buckets: buckets)
                )
            })
        bytes = Dictionary(
            uniqueKeysWithValues: RouteClass.allCases.map { c in
                (
                    c,
                    registry.makeCounter(
                        descriptor: .init(
                            namespace: "airlock", subsystem: "http", metricName: "response_body", unitName: "bytes_total",
                            helpText: "Response body bytes sent (by Content-Length)"),
                        labels: [("class", c.rawValue)])
                )
            })
        misses = registry.makeCounter(
            descriptor: .init(
                namespace: "airlock", metricName: "install_misses", unitName: "total", helpText: "Requests for projects or files no snapshot serves"),
            labels: [])
        snapshot = Dictionary(
            uniqueKeysWithValues: Ecosystem.allCases.map { e in
                (
                    e,
                    registry.makeGauge(
                        descriptor: .init(
                            namespace: "airlock", metricName: "snapshot_served", unitName: "id",
                            helpText: "The id of the latest snapshot served (0: none)"),
                        labels: [("ecosystem", e.rawValue)])
                )
            })
        revocations = registry.makeGauge(
            descriptor: .init(
                namespace: "airlock", metricName: "revocations_in_force", unitName: "count", helpText: "Releases revoked from every snapshot"),
            labels: [])
    }

    func record(path: String, status: Int, elapsed: Duration, bodyBytes: Int?) {
        record(route: RouteClass(path: path), status: status, elapsed: elapsed, bodyBytes: bodyBytes)
    }

    func record(route c: RouteClass, status: Int, elapsed: Duration, bodyBytes: Int?) {
        let key = (RouteClass.allCases.firstIndex(of: c) ?? 0) * 1000 + status
        let counter = requests.withLock { counters in
            if let hit = counters[key] { return hit }
            let made = registry.makeCounter(
                descriptor: .init(
                    namespace: "airlock", subsystem: "http", metricName: "requests", unitName: "total",
                    helpText: "Requests answered, by route class and status"),
                labels: [("class", c.rawValue), ("status", String(status))])
            counters[key] = made
            return made
        }
        counter.increment()
        latency[c]?.record(elapsed)
        if let bodyBytes { bytes[c]?.increment(by: Int64(bodyBytes)) }
    }

    /// The exposition, after reading the catalog gauges.
    func exposition(_ catalog: any SnapshotCatalog & ReviewCatalog) async -> [UInt8] {
        for e in Ecosystem.allCases {
            let latest = (try? await catalog.snapshot(e, .latest)) ?? nil
            snapshot[e]?.set(Double(latest?.id ?? 0))
        }
        if let r = try? await catalog.revocations(nil) { revocations.set(Double(r.count)) }
        return registry.emitToBuffer()
    }
}

/// Records every request in `EndpointMetrics`.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = AirlockRequestContext
    let metrics: EndpointMetrics

    func handle(_ req: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(req, context)
            metrics.record(
                path: req.uri.path, status: response.status.code, elapsed: .now - start,
                bodyBytes: response.headers[.contentLength].flatMap { Int($0) })
            return response
        } catch let e as any HTTPResponseError {
            metrics.record(path: req.uri.path, status: e.status.code, elapsed: .now - start, bodyBytes: nil)
            throw e
        }
    }
}
