public import AirlockCore
import Foundation

/// How bad a known vulnerability is, as advisories grade it.
public enum Severity: Int, Sendable, Codable, Comparable, CaseIterable {
    case low = 1
    case moderate, high, critical

    public init?(name: String) {
        switch name.lowercased() {
        case "low": self = .low
        case "moderate", "medium": self = .moderate
        case "high": self = .high
        case "critical": self = .critical
        default: return nil
        }
    }

    public var name: String { ["low", "moderate", "high", "critical"][rawValue - 1] }
    public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }
}

/// One advisory about one project, from an OSV record: which versions it affects and how badly.
public struct Advisory: Sendable, Codable, Hashable {
    /// An OSV range event; exactly one field is set.
    public struct Event: Sendable, Codable, Hashable {
        public var introduced: String?
        public var fixed: String?
        public var lastAffected: String?

        public init(introduced: String? = nil, fixed: String? = nil, lastAffected: String? = nil) {
            self.introduced = introduced
            self.fixed = fixed
            self.lastAffected = lastAffected
        }
    }

    public var id: String
    public var project: String
    public var summary: String
    /// nil when the advisory gives no grade airlock can read.
    public var severity: Severity?
    /// Malware rather than a vulnerability (OSV `MAL-` records): never served, never merely yanked.
    public var malicious: Bool
    public var ranges: [[Event]]
    public var versions: [String]

    public init(id: String, project: String, summary: String, severity: Severity?, malicious: Bool, ranges: [[Event]], versions: [String]) {
        self.id = id
        self.project = project
        self.summary = summary
        self.severity = severity
        self.malicious = malicious
        self.ranges = ranges
        self.versions = versions
    }

    /// Whether `version` is affected: listed explicitly, or inside a range (OSV's evaluation: events in
    /// version order; `introduced` opens, `fixed` closes before, `last_affected` closes after).
    public func affects(_ version: String) -> Bool {
        if versions.contains(version) { return true }
        guard let v = PythonVersion(version) else { return false }
        if versions.compactMap({ PythonVersion($0) }).contains(v) { return true }
        for events in ranges {
            func key(_ e: Event) -> PythonVersion {
                let text = e.introduced ?? e.fixed ?? e.lastAffected ?? "0"
                return PythonVersion(text == "0" ? "0" : text) ?? PythonVersion("0")!
            }
            var affected = false
            for e in events.sorted(by: { key($0) < key($1) }) {
                if let i = e.introduced, i == "0" || (PythonVersion(i).map { v >= $0 } ?? false) {
                    affected = true
                } else if let f = e.fixed, let fv = PythonVersion(f), v >= fv {
                    affected = false
                } else if let l = e.lastAffected, let lv = PythonVersion(l), v > lv {
                    affected = false
                }
            }
            if affected { return true }
        }
        return false
    }

    /// The versions named as fixing this advisory.
    public var fixedIn: [String] { ranges.joined().compactMap(\.fixed) }
}

/// The imported offline feeds the policy reads: download counts and advisories, per project.
public struct Feeds: Sendable {
    /// Downloads per normalized project name; nil when no popularity feed was imported.
    public var downloads: [String: Int]?
    public var advisories: [String: [Advisory]]

    public init(downloads: [String: Int]?, advisories: [String: [Advisory]]) {
        self.downloads = downloads
        self.advisories = advisories
    }

    public static let none = Feeds(downloads: nil, advisories: [:])

    /// The most downloaded project names, most first.
    public func topProjects(_ count: Int) -> [String] {
        guard let downloads, count > 0 else { return [] }
        return downloads.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(count).map(\.key)
    }
}
