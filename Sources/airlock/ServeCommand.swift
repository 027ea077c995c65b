import AirlockConfig
import AirlockServer
import ArgumentParser
import Foundation
import Hummingbird
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the approved snapshots over HTTP (pip, uv, R), the review API and the web UI.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (0 picks a free one and prints it; default 8080).")
    var port: Int?

    @Flag(help: "Require a token (role reader or above) to install; anonymous installs are allowed otherwise.")
    var requireAuth = false

    @Flag(help: "Browsers reach this server over HTTPS (a TLS-terminating proxy in front): session cookies get Secure and responses HSTS.")
    var https = false

    @Flag(name: .customLong("no-request-metrics"), help: "Do not count requests in /metrics (to measure what counting costs).")
    var noRequestMetrics = false

    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS with this PEM certificate chain (needs --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("tls-client-ca"), help: "Require client certificates signed by this PEM CA (mutual TLS; needs --tls-cert).")
    var tlsClientCA: String?

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsClientCA != nil && tlsCert == nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
    }

    func run() async throws {
        try await reportingErrors {
            let logger = common.logger("airlock.serve")
            let file = try common.configuration()?.server
            var options = EndpointOptions(
                requireAuth: requireAuth || file?.requireAuth == true, dataDirectory: try common.dataDirectory(), https: https)
            options.requestMetrics = !noRequestMetrics
            options.tls = tlsCert.map { TLSFiles(certificate: $0, privateKey: tlsKey ?? "", clientCA: tlsClientCA) }
            _ = try options.tls?.configuration()  // names a bad certificate or key before anything else
            let (catalog, store) = try await common.open()
            let host = host ?? file?.host ?? "127.0.0.1"
            let scheme = options.tls == nil ? "http" : "https"
            let app = try Endpoint(catalog: catalog, store: store, logger: logger, options: options).application(
                host: host, port: port ?? file?.port ?? 8080
            ) { port in
                let line = "airlock serving \(scheme)://\(host):\(port)/ (pip index: \(scheme)://\(host):\(port)/simple/)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
            let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}
