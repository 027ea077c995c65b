import AirlockCatalog
import AirlockConfig
import AirlockCore
import AirlockPolicy
import AirlockStore
import AirlockSync
import ArgumentParser
import Foundation
import Logging

/// Options every command shares: where the data lives and how to talk.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (airlock.toml); flags given here win over it.")
    var config: String?

    @Option(
        name: .long,
        help: "Data directory: catalog, blob store and snapshot manifests (default: the configuration's, else \(DataDirectory.defaultPath)).")
    var data: String?

    @Option(
        name: .long,
        help:
            "Catalog: postgresql://USER@HOST:PORT/DATABASE[?sslmode=…&passwordfile=…] or sqlite:PATH (default: the configuration's, else $AIRLOCK_CATALOG, else catalog.sqlite in the data directory)."
    )
    var catalog: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessInfo.processInfo.environment["AIRLOCK_LOG_LEVEL"] ?? "info"

    func logger(_ label: String) -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingBootstrap.once(level: level)
        return Logger(label: label)
    }

    /// The catalog and blob store under `--data`, created on first use.
    func open() async throws -> (catalog: any Catalog, store: any BlobStore) {
        try await directory().open()
    }

    /// What a sync needs, the sync lock taken first.
    func openForSync(ecosystem: Ecosystem, policy: String?, logger: Logger) async throws -> SyncContext {
        try await SyncContext.open(try directory(), ecosystem: ecosystem, policy: policy, logger: logger)
    }

    /// The data directory: `--data`, else the configuration's, else the default.
    func directory() throws -> DataDirectory {
        if let configuration = try configuration() { return try configuration.directory(data: data, catalog: catalog) }
        return try DataDirectory(data, catalog: catalog)
    }

    /// The data directory's path.
    func dataDirectory() throws -> String { try directory().path }

    /// The configuration file named by `--config`, if any.
    func configuration() throws -> Configuration? {
        try config.map(Configuration.load)
    }
}

/// Options of the read commands: the data, which ecosystem, and whether to print JSON.
struct EcosystemOptions: ParsableArguments {
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("ecosystem"), help: "Ecosystem: pypi or cran (default: pypi; for snapshots, the only one that has any).")
    var chosenEcosystem: Ecosystem?
    /// The ecosystem named, else PyPI.
    var ecosystem: Ecosystem { chosenEcosystem ?? .pypi }
    @Flag(help: "Print JSON.")
    var json = false
}

enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false

    static func once(level: Logger.Level) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { StructuredLogHandler(label: $0, level: level) }
    }
}

/// Prints a value as JSON to standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, enc in
        var c = enc.singleValueContainer()
        try c.encode(Timestamp.format(date))
    }
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Turns airlock errors into a one-line message and a failing exit status.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as AirlockError {
        FileHandle.standardError.write(Data("error: \(e.message)\n".utf8))
        throw ExitCode(1)
    }
}
