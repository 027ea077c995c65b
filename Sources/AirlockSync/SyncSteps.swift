import AirlockCatalog
import AirlockCore
import AirlockPolicy
import Foundation
import Logging

/// A release as the maintainer signals see it, whatever its ecosystem.
struct MaintainedRelease<Version: Comparable> {
    let project: String
    let version: Version
    /// The e-mails the release's own metadata names.
    let emails: Set<String>
    /// Every e-mail naming the project (its metadata and the upstream's project record).
    let projectEmails: Set<String>
}

/// The steps every ecosystem's sync shares once it knows its releases: maintainer signals, parallel
/// fetching, and recording + publishing one snapshot with its manifest.
enum SyncSteps {
    /// For each project's newest mirrored release: e-mails its metadata names that no older mirrored
    /// release of the project does (a takeover signal on a mature project). Keyed `project==version`.
    static func newMaintainerEmails<V>(_ releases: [MaintainedRelease<V>]) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for (_, versions) in Dictionary(grouping: releases, by: \.project) where versions.count > 1 {
            let sorted = versions.sorted { $0.version < $1.version }
            let newest = sorted.last!
            let earlier = sorted.dropLast().reduce(into: Set<String>()) { $0.formUnion($1.emails) }
            let fresh = newest.emails.subtracting(earlier)
            if !fresh.isEmpty { out["\(newest.project)==\(newest.version)"] = fresh.sorted() }
        }
        return out
    }

    /// E-mail → projects naming it, over this sync's releases and every project recorded before.
    static func projectsByEmail<V>(_ releases: [MaintainedRelease<V>], recorded: [(project: String, people: ProjectPeople)]) -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for (project, people) in recorded { for e in PolicyEngine.emails(people) { out[e, default: []].insert(project) } }
        for r in releases { for e in r.projectEmails { out[e, default: []].insert(r.project) } }
        return out
    }

    /// Runs `fetch` over every item, `parallel` at once; reports every failure, not just the first.
    static func fetchEach<Item: Sendable, Result: Sendable>(
        _ items: [Item], parallel: Int, progress: SyncProgress, logger: Logger, key: @escaping @Sendable (Item) -> String,
        fetch: @escaping @Sendable (Item) async throws -> Result
    ) async throws -> [String: Result] {
        var done: [String: Result] = [:]
        var failures: [String] = []
        try await withThrowingTaskGroup(of: (String, Swift.Result<Result, AirlockError>).self) { group in
            var pending = items[...]
            func startNext() {
                guard let item = pending.popFirst() else { return }
                group.addTask {
                    do {
                        return (key(item), .success(try await fetch(item)))
                    } catch let e as AirlockError {
                        return (key(item), .failure(e))
                    }
                }
            }
            for _ in 0..<max(parallel, 1) { startNext() }
            while let (url, result) = try await group.next() {
                progress.fileDone()
                switch result {
                case .success(let s): done[url] = s
                case .failure(let e):
                    failures.append(e.message)
                    logger.error("file rejected", metadata: ["url": "\(url)", "error": "\(e.message)"])
                }
                startNext()
            }
        }
        if !failures.isEmpty {
            throw AirlockError(.network, "sync failed; nothing was published. \(failures.count) file(s) could not be mirrored:\n  " + failures.joined(separator: "\n  "))
        }
        return done
    }

    /// Records the releases with their decisions and publishes one snapshot serving the approved files
    /// (and those the policy serves as yanked), writing its manifest inside the same transaction.
    static func publish(
        _ ecosystem: Ecosystem, _ records: [ReleaseRecord], catalog: SQLiteCatalog, evaluator: any ReleaseEvaluator, dataDirectory: String, at now: Date
    ) throws -> (snapshot: Snapshot, manifest: String) {
        let ids = try catalog.record(ecosystem, records, at: now)
        var served = Set<Int64>()
        var yanking: [Int64: String] = [:]
        var decisions: [String: Decision] = [:]
        for (record, fileIDs) in zip(records, ids) {
            decisions["\(record.project.normalized)==\(record.version)"] = record.decision
            if record.decision.verdict == .approve { served.formUnion(fileIDs) }
            if let reason = record.decision.serveYanked {
                served.formUnion(fileIDs)
                for id in fileIDs { yanking[id] = reason }
            }
        }
        let writer = ManifestWriter(directory: dataDirectory + "/snapshots")
        var manifestPath = ""
        let policyFile = (evaluator as? PolicyEngine).map { (path: $0.loaded.path, text: $0.loaded.text) }
        let snapshot = try catalog.publishSnapshot(
            ecosystem, serving: served, yanking: yanking, policyDigest: evaluator.policyDigest, at: now, activating: policyFile) { snapshot, files, overridden in
            manifestPath = try writer.write(snapshot, files: files, decisions: decisions.merging(overridden.mapValues(\.decision)) { $1 })
        }
        return (snapshot, manifestPath)
    }
}
