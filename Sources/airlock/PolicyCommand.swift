import AirlockCatalog
import AirlockCore
import AirlockPolicy
import AirlockSync
import ArgumentParser
import Foundation

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "See how a policy decides recorded releases, without syncing or publishing.",
        subcommands: [Check.self, Test.self])

    typealias Options = EcosystemOptions

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decide a project (or one version) and explain the decision factor by factor.")
        @OptionGroup var options: Options
        @Option(help: "Policy file; by default the one the latest snapshot was published under.")
        var policy: String?
        @Argument(help: "PROJECT or PROJECT==VERSION.")
        var release: String

        func run() async throws {
            try await reportingErrors {
                let (catalog, _) = try await options.common.open()
                let review = PolicyReview(catalog: catalog, ecosystem: options.ecosystem)
                // Out of the box: the policy of the latest snapshot, else the built-in default.
                let engine: PolicyEngine
                if let policy {
                    engine = try await review.engine(policyFile: policy)
                } else if let active = try await review.activeEngine() {
                    engine = active
                } else {
                    engine = try await review.engine(PolicyFile.shipped())
                }
                let parts = release.components(separatedBy: "==")
                let results = try await review.check(project: parts[0], version: parts.count > 1 ? parts[1] : nil, engine: engine, at: Date())
                if options.json {
                    struct Checked: Encodable {
                        let project: String
                        let version: String
                        let decision: Decision
                    }
                    return try printJSON(results.map { Checked(project: $0.release.project.normalized, version: $0.release.version, decision: $0.decision) })
                }
                for (release, d) in results {
                    print("\(release.project.normalized) \(release.version): \(d.verdict.rawValue.uppercased()) (score \(d.score)) under \(engine.loaded.path)")
                    for f in d.factors { print("  \(f.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(format: "%5.1f", f.points))  \(f.signal)") }
                }
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List exactly the recorded releases whose verdict a new policy would change (a dry run).")
        @OptionGroup var options: Options
        @Option(help: "The proposed policy file.")
        var policy: String

        func run() async throws {
            try await reportingErrors {
                let (catalog, _) = try await options.common.open()
                let review = PolicyReview(catalog: catalog, ecosystem: options.ecosystem)
                guard let current = try await review.activeEngine() else {
                    throw AirlockError(.invalidArgument, "no policy is active for \(options.ecosystem.rawValue) yet: sync once with --policy first")
                }
                let changes = try await review.changes(from: current, to: try review.engine(policyFile: policy), at: Date())
                if options.json { return try printJSON(changes) }
                if changes.isEmpty { print("no verdict changes") }
                for c in changes { print("\(c.project) \(c.version): \(c.from.rawValue) (\(c.fromScore)) → \(c.to.rawValue) (\(c.toScore))") }
            }
        }
    }
}
