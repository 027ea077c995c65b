import AirlockCatalog
public import AirlockConfig
import AirlockCore
import AirlockSync
public import Hummingbird
import Logging
import Prometheus

/// The daemon's own HTTP port: `/healthz` (the process answers), `/readyz` (every configured
/// ecosystem has a published snapshot), `/metrics` (Prometheus text). It serves no packages.
public enum DaemonEndpoint {
    public static func application(
        configuration: ConfigurationBox, metrics: DaemonMetrics, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let config = configuration.current
            let missing = try await Self.unready(config)
            let body = missing.isEmpty ? "ready\n" : "not ready: no snapshot yet for \(missing.joined(separator: ", "))\n"
            return Response(
                status: missing.isEmpty ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        let daemon = configuration.current.daemon
        return Application(
            router: router, configuration: .init(address: .hostname(daemon.host, port: daemon.port), serverName: "airlock-daemon"),
            onServerRunning: { await onListening($0.localAddress?.port ?? daemon.port) }, logger: logger)
    }

    /// The configured ecosystems without a published snapshot.
    static func unready(_ config: Configuration) async throws -> [String] {
        let wanted = [config.pypi != nil ? Ecosystem.pypi : nil, config.cran != nil ? .cran : nil].compactMap { $0 }
        let catalog = try await config.directory().open().catalog
        var unready: [String] = []
        for ecosystem in wanted where try await catalog.snapshot(ecosystem, .latest) == nil { unready.append(ecosystem.rawValue) }
        return unready
    }
}
