import AirlockCatalog
import AirlockCore
import AirlockPolicy
import AirlockSync
import ArgumentParser
import Foundation

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "See how a policy decides recorded releases, without syncing or publishing.",
        subcommands: [Check.self, Test.self, Eval.self])

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
                    return try printJSON(
                        results.map { Checked(project: $0.release.project.normalized, version: $0.release.version, decision: $0.decision) })
                }
                for (release, d) in results {
                    print(
                        "\(release.project.normalized) \(release.version): \(d.verdict.rawValue.uppercased()) (score \(d.score)) under \(engine.loaded.path)"
                    )
                    // Names are padded to the longest, never cut: a rule's name says what fired.
                    let width = max(18, d.factors.map(\.name.count).max() ?? 0)
                    for f in d.factors {
                        print("  \(f.name.padding(toLength: width, withPad: " ", startingAt: 0)) \(String(format: "%5.1f", f.points))  \(f.signal)")
                    }
                }
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List exactly the recorded releases whose verdict a new policy would change (a dry run).")
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

    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure a policy on labelled sets of project names or archives, decided as if a release had just been offered.",
            discussion: """
                Each --label NAME=PATH is a file of project names (one a line) or a directory of archives (wheels, sdists,
                R tarballs; scanned for content signals, statically). Prints per label the approve/review/deny counts,
                what decided them, and every non-approve verdict on a label named legitimate or popular, with its explanation.
                Example:
                  airlock policy eval --popularity top.csv --facts fresh --label malicious=names.txt --label popular=top.txt
                """)
        @Option(help: "Policy file (default: the built-in policies/default.toml).")
        var policy: String?
        @Option(help: "Download counts (JSON rows or CSV project,downloads), as for feeds import (default: the feed imported into --data, if given).")
        var popularity: String?
        @Option(help: "The facts names and archives are decided under: fresh (first release today) or mature (five years old).")
        var facts: String = "fresh"
        @Option(
            help:
                "Data directory whose catalog gives the real facts (people, history, licence, content) of the projects it knows, and whose imported feeds are used."
        )
        var data: String?
        @Option(name: .customLong("label"), help: "NAME=PATH: a file of project names or a directory of archives (repeatable).")
        var labels: [String] = []
        @Flag(help: "Print {\"labels\": {NAME: {total, approve, review, deny, by_rule}}} as JSON.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                guard let facts = PolicyEvaluation.Facts(rawValue: facts) else {
                    throw AirlockError(.invalidArgument, "--facts takes fresh or mature, not '\(facts)'")
                }
                guard !labels.isEmpty else { throw AirlockError(.invalidArgument, "give at least one --label NAME=PATH") }
                let loaded = try policy.map(PolicyFile.load) ?? PolicyFile.shipped()
                var feeds = Feeds(downloads: nil, advisories: [:])
                var known: [Ecosystem: [String: ReleaseFacts]] = [:]
                if let data {
                    // The catalog as every command finds it ($AIRLOCK_CATALOG, else the directory's SQLite file),
                    // never created here: an evaluation reads what a sync wrote.
                    let directory = try DataDirectory(data)
                    if case .sqlite(let file) = directory.catalog, !FileManager.default.fileExists(atPath: file) {
                        throw AirlockError(.notFound, "--data \(data) holds no airlock catalog (\(file)); name the data directory a sync wrote")
                    }
                    let (catalog, _) = try await directory.open()
                    for ecosystem in Ecosystem.allCases {
                        known[ecosystem] = try await PolicyReview(catalog: catalog, ecosystem: ecosystem).newestFacts()
                    }
                    feeds = try await FeedImporter.load(from: catalog, ecosystem: .pypi)
                }
                if let popularity {
                    guard let bytes = FileManager.default.contents(atPath: popularity) else {
                        throw AirlockError(.notFound, "--popularity names \(popularity), which cannot be read")
                    }
                    feeds.downloads = try FeedParsers.popularity(Array(bytes), source: popularity)
                }
                let evaluation = PolicyEvaluation(engine: PolicyEngine(loaded, feeds: feeds), facts: facts, known: known)
                var results: [(String, PolicyEvaluation.Result)] = []
                for label in labels {
                    guard let eq = label.firstIndex(of: "="), eq != label.startIndex else {
                        throw AirlockError(.invalidArgument, "--label takes NAME=PATH, not '\(label)'")
                    }
                    let name = String(label[..<eq])
                    let path = String(label[label.index(after: eq)...])
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                        throw AirlockError(.notFound, "--label \(name): \(path) does not exist")
                    }
                    if isDirectory.boolValue {
                        let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted().filter { !$0.hasPrefix(".") }.map {
                            path + "/" + $0
                        }
                        results.append((name, evaluation.archives(files)))
                    } else {
                        let names = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).map {
                            $0.trimmingWhitespace()
                        }
                        results.append((name, evaluation.names(names.filter { !$0.isEmpty && !$0.hasPrefix("#") })))
                    }
                }
                if json {
                    struct Counts: Encodable {
                        let total, approve, review, deny: Int
                        let by_rule, fired: [String: Int]
                    }
                    let labels = Dictionary(
                        results.map {
                            (
                                $0.0,
                                Counts(
                                    total: $0.1.total, approve: $0.1.approve, review: $0.1.review, deny: $0.1.deny, by_rule: $0.1.by_rule,
                                    fired: $0.1.fired)
                            )
                        },
                        uniquingKeysWith: { a, _ in a })
                    return try printJSON(["labels": labels])
                }
                for (name, r) in results {
                    let share = { (n: Int) in r.total == 0 ? "0" : String(format: "%.2f", 100 * Double(n) / Double(r.total)) }
                    print(
                        "\(name): \(r.total) total, \(r.approve) approve (\(share(r.approve)) %), \(r.review) review (\(share(r.review)) %), \(r.deny) deny (\(share(r.deny)) %)"
                    )
                    for (rule, n) in r.by_rule.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
                        print("  \(rule): \(n)")
                    }
                    let fired = r.fired.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map {
                        "\($0.key) \($0.value) (\(share($0.value)) %)"
                    }
                    if !fired.isEmpty { print("  rules that fired: " + fired.joined(separator: ", ")) }
                    if name == "legitimate" || name == "popular" {
                        for f in r.flagged {
                            print("  \(f.verdict.rawValue): \(f.item) (\(f.decidedBy))")
                            for line in f.explanation { print("      \(line)") }
                        }
                    }
                }
            }
        }
    }
}
