import AirlockServer
import ArgumentParser
import Foundation
import Hummingbird
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the approved snapshots over HTTP (pip, uv, R), the review API and the web UI.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 8080

    @Flag(help: "Require a token (role reader or above) to install; anonymous installs are allowed otherwise.")
    var requireAuth = false

    @Flag(help: "Browsers reach this server over HTTPS (a TLS-terminating proxy in front): session cookies get Secure and responses HSTS.")
    var https = false

    func run() async throws {
        try await reportingErrors {
            let logger = common.logger("airlock.serve")
            let (catalog, store) = try common.open()
            let host = host
            let app = Endpoint(catalog: catalog, store: store, logger: logger, options: EndpointOptions(requireAuth: requireAuth, dataDirectory: common.data, https: https)).application(host: host, port: port) { port in
                let line = "airlock serving http://\(host):\(port)/ (pip index: http://\(host):\(port)/simple/)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
            let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}
