import AirlockConfig
import AirlockCore
import AirlockDaemon
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

struct Daemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sync on a schedule, unattended, as airlock.toml says; /healthz, /readyz and /metrics on its own port.",
        discussion: """
            One sync loop per configured ecosystem (never two syncs of the data directory at once), retried with
            jittered exponential backoff after a failure. SIGHUP reloads the configuration; SIGTERM or SIGINT
            stop it (an in-flight sync is abandoned safely and resumed by the next start). `serve` is a separate
            process: it never reaches upstream.
            """)

    @Option(help: "Configuration file (airlock.toml).")
    var config: String

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessInfo.processInfo.environment["AIRLOCK_LOG_LEVEL"] ?? "info"

    func run() async throws {
        try await reportingErrors {
            LoggingBootstrap.once(level: Logger.Level(rawValue: logLevel) ?? .info)
            let logger = Logger(label: "airlock.daemon")
            let box = ConfigurationBox(try Configuration.load(config))
            let metrics = DaemonMetrics()
            let scheduler = SyncScheduler(configuration: box, metrics: metrics, logger: logger)
            let http = DaemonEndpoint.application(configuration: box, metrics: metrics, logger: logger) { port in
                FileHandle.standardOutput.write(Data("airlock daemon: health and metrics on http://\(box.current.daemon.host):\(port)/\n".utf8))
            }
            let path = config
            let reloads = Task {
                for await _ in await UnixSignalsSequence(trapping: .sighup) {
                    do {
                        let next = try Configuration.load(path)
                        if next.data != box.current.data || next.daemon != box.current.daemon {
                            logger.warning("data directory and daemon port changes take effect at the next start")
                        }
                        box.replace(next)
                        logger.notice("configuration reloaded", metadata: ["config": "\(path)"])
                    } catch {
                        logger.error(
                            "configuration not reloaded; the previous one stays in force", metadata: ["config": "\(path)", "error": "\(error)"])
                    }
                }
            }
            defer { reloads.cancel() }
            let group = ServiceGroup(
                configuration: .init(services: [http, scheduler], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Check a configuration file.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate airlock.toml and print the settings in effect (defaults filled in).")

        @Option(help: "Configuration file.")
        var config = "airlock.toml"

        func run() async throws {
            try await reportingErrors {
                let c = try Configuration.load(config)
                print(try ConfigurationSummary.text(c))
            }
        }
    }
}
