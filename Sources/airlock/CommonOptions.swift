import AirlockCatalog
import AirlockCore
import AirlockPolicy
import AirlockStore
import AirlockSync
import ArgumentParser
import Foundation
import Logging

/// Options every command shares: where the data lives and how to talk.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory: catalog, blob store and snapshot manifests.")
    var data: String = "./airlock-data"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessInfo.processInfo.environment["AIRLOCK_LOG_LEVEL"] ?? "info"

    func logger(_ label: String) -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingBootstrap.once(level: level)
        return Logger(label: label)
    }

    /// The catalog and blob store under `--data`, created on first use. The catalog is opened (and
    /// migrated) under the data directory's publish lock, so two first commands never migrate at once.
    func open() throws -> (catalog: SQLiteCatalog, store: FileSystemBlobStore) {
        try createDataDirectory()
        let lock = try DataDirectoryLock(.publish, dataDirectory: data)
        defer { withExtendedLifetime(lock) {} }
        return (try SQLiteCatalog(path: data + "/catalog.sqlite"), try FileSystemBlobStore(root: data + "/blobs"))
    }

    /// What a sync needs, the sync lock first: a second sync is refused before it touches the catalog.
    func openForSync(ecosystem: Ecosystem, policy: String?, logger: Logger) throws -> SyncContext {
        try createDataDirectory()
        let lock = try DataDirectoryLock(.sync, dataDirectory: data)
        let (catalog, store) = try open()
        let evaluator: any ReleaseEvaluator =
            try policy.map { PolicyEngine(try PolicyFile.load($0), feeds: try FeedImporter.load(from: catalog, ecosystem: ecosystem)) } ?? SelectionPolicy()
        return SyncContext(lock: lock, dataDirectory: data, catalog: catalog, store: store, evaluator: evaluator, logger: logger)
    }

    private func createDataDirectory() throws {
        do {
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        } catch {
            throw AirlockError(.storage, "cannot create data directory \(data): \(error.localizedDescription)")
        }
    }
}

/// Options of the read commands: the data, which ecosystem, and whether to print JSON.
struct EcosystemOptions: ParsableArguments {
    @OptionGroup var common: CommonOptions
    @Option(help: "Ecosystem: pypi or cran.")
    var ecosystem: Ecosystem = .pypi
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
