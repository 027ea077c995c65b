import ArgumentParser
import Foundation

/// The airlock command line: sync upstream indexes, serve approved snapshots, inspect snapshots.
@main
struct Airlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airlock",
        abstract: "An offline package mirror that serves only what was approved.",
        subcommands: [
            Sync.self, Serve.self, Daemon.self, ConfigCommand.self, GC.self, SnapshotCommand.self, PolicyCommand.self, FeedsCommand.self, Review.self,
            Audit.self,
            Token.self, Keys.self, Export.self, Import.self, MissesCommand.self, Migrate.self, CheckCommand.self, Build.self,
        ])
}
