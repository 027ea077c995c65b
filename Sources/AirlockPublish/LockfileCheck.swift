public import AirlockCatalog
public import AirlockCore
public import AirlockLockfile
import Foundation

/// Answers, for each pin of a lockfile, whether a snapshot serves it: what CI asks before it installs.
public struct LockfileCheck: Sendable {
    let catalog: any SnapshotCatalog & ReviewCatalog

    public init(catalog: any SnapshotCatalog & ReviewCatalog) { self.catalog = catalog }

    /// What a snapshot does with one pin.
    public enum Status: String, Codable, Sendable {
        /// Served, and (when the lockfile has hashes) one of its files has a pinned hash.
        case served
        /// Served, but none of its files has any hash the lockfile pins.
        case hashMismatch = "hash_mismatch"
        /// Recorded and held for review.
        case held
        /// Recorded and denied.
        case denied
        /// Revoked from every snapshot.
        case revoked
        /// Served by other snapshots, not this one.
        case otherSnapshot = "other_snapshot"
        /// Never recorded: no sync reached it.
        case neverMirrored = "never_mirrored"
    }

    public struct Answer: Codable, Sendable {
        public let project: String
        public let version: String
        public let status: Status
        /// Why, in a sentence: the decision's rules, the revocation's reason, the snapshots that serve it.
        public let detail: String
        public let source: String
    }

    public struct Report: Codable, Sendable {
        public let ecosystem: Ecosystem
        public let snapshot: Int64
        public let answers: [Answer]
        public var allServed: Bool { answers.allSatisfy { $0.status == .served } }
        /// `7 of 9 pins served by pypi snapshot 12; 1 held, 1 never mirrored`.
        public var summary: String {
            let served = answers.filter { $0.status == .served }.count
            var counts: [String: Int] = [:]
            for a in answers where a.status != .served { counts[a.status.rawValue.replacingOccurrences(of: "_", with: " "), default: 0] += 1 }
            let rest = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
            return "\(served) of \(answers.count) pins served by \(ecosystem.rawValue) snapshot \(snapshot)"
                + (rest.isEmpty ? "" : "; " + rest.joined(separator: ", "))
        }
    }

    /// Checks lockfiles (name and bytes; the name decides the format), one report per ecosystem they pin.
    public func check(_ files: [(name: String, bytes: [UInt8])], snapshot selector: SnapshotSelector) async throws -> [Report] {
        let pins = try files.flatMap { try Lockfile.parse($0.bytes, path: $0.name) }
        var reports: [Report] = []
        for ecosystem in Ecosystem.allCases where pins.contains(where: { $0.ecosystem == ecosystem }) {
            reports.append(try await check(pins, ecosystem: ecosystem, snapshot: selector))
        }
        return reports
    }

    public func check(_ pins: [LockedPin], ecosystem: Ecosystem, snapshot selector: SnapshotSelector) async throws -> Report {
        guard let snapshot = try await catalog.snapshot(ecosystem, selector) else {
            throw AirlockError(.notFound, "no \(ecosystem.rawValue) snapshot matches '\(selector)'")
        }
        let served = Self.byRelease(try await catalog.servedFiles(in: snapshot), ecosystem)
        var others: [(Snapshot, [ReleaseKey: [Distribution]])]?
        var answers: [Answer] = []
        for pin in pins where pin.ecosystem == ecosystem {
            let key = ReleaseKey(pin.project, Self.canonical(pin.version, ecosystem))
            func answer(_ status: Status, _ detail: String) {
                answers.append(Answer(project: pin.project, version: pin.version, status: status, detail: detail, source: pin.source))
            }
            if let files = served[key] {
                if pin.hashes.isEmpty || files.contains(where: { pin.hashes.contains($0.digest) }) {
                    answer(.served, files.map(\.filename).joined(separator: ", "))
                } else {
                    answer(
                        .hashMismatch,
                        "served with sha256 \(files.map { $0.digest.hex.prefix(12) + "…" }.joined(separator: ", ")); the lockfile pins \(pin.hashes.map { $0.hex.prefix(12) + "…" }.sorted().joined(separator: ", "))"
                    )
                }
                continue
            }
            let review = try await catalog.releaseReviews(ecosystem, project: pin.project).first {
                Self.canonical($0.version, ecosystem) == key.version
            }
            if let revocation = review?.revocation {
                answer(.revoked, "revoked by \(revocation.actor) on \(Timestamp.format(revocation.createdAt)): \(revocation.reason)")
                continue
            }
            if others == nil {
                var loaded: [(Snapshot, [ReleaseKey: [Distribution]])] = []
                for s in try await catalog.snapshots(ecosystem).reversed() where s.id != snapshot.id {
                    loaded.append((s, Self.byRelease(try await catalog.servedFiles(in: s), ecosystem)))
                }
                others = loaded
            }
            let servedElsewhere = (others ?? []).filter { $0.1[key] != nil }.map { String($0.0.id) }
            if !servedElsewhere.isEmpty {
                answer(.otherSnapshot, "served by snapshot \(servedElsewhere.prefix(5).joined(separator: ", ")), not by \(snapshot.id)")
            } else if let decision = review?.decision, decision.verdict != .approve {
                answer(decision.verdict == .deny ? .denied : .held, decision.heldBecause)
            } else if let review {
                answer(
                    .held,
                    review.decision == nil ? "recorded but not decided" : "approved, but the publish rule holds it back (a dependency is not served)")
            } else {
                answer(
                    .neverMirrored,
                    "no sync has recorded \(pin.project) \(pin.version); add it to the selection (airlock sync \(ecosystem.rawValue) \(pin.project)==\(pin.version))"
                )
            }
        }
        return Report(ecosystem: ecosystem, snapshot: snapshot.id, answers: answers)
    }

    private static func byRelease(_ files: [Distribution], _ ecosystem: Ecosystem) -> [ReleaseKey: [Distribution]] {
        Dictionary(grouping: files) { ReleaseKey($0.project.normalized, canonical($0.version, ecosystem)) }
    }

    /// PEP 440 spellings of one version (`1.0.post0`, `1.0-post0`) compare as one.
    static func canonical(_ version: String, _ ecosystem: Ecosystem) -> String {
        ecosystem == .pypi ? (PythonVersion(version)?.description ?? version) : version
    }
}

extension Decision {
    /// Why the policy did not approve: its rules' signals, else the score.
    var heldBecause: String {
        let rules = factors.filter { $0.name.hasPrefix("rule:") }.map { "\($0.name.dropFirst(5)): \($0.signal)" }
        return rules.isEmpty ? "score \(Int(score)) under the policy" : rules.joined(separator: "; ")
    }
}
