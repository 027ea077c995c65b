import AirlockCore
import AirlockPolicy
import AirlockUpstream

/// Every fuzz target: a parser of untrusted input (from upstream, from clients, from an operator's
/// files) fed arbitrary bytes. Parsers may refuse input with an error; they must not crash, hang or
/// break the property each target checks (a parsed value prints as text that parses to the same value).
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "version": version,
        "specifier": specifier,
        "requirement": requirement,
        "marker": marker,
        "filename": filename,
        "simple-json": { simpleIndex($0, contentType: "application/vnd.pypi.simple.v1+json") },
        "simple-html": { simpleIndex($0, contentType: "text/html") },
        "core-metadata": coreMetadata,
        "dcf": dcf,
        "osv": osv,
        "popularity": popularity,
        "policy": policy,
        "accept": accept,
        "snapshot-selector": snapshotSelector,
    ]

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func version(_ bytes: [UInt8]) {
        guard let v = PythonVersion(text(bytes)) else { return }
        guard let again = PythonVersion(v.description) else { fatalError("'\(v)' (from '\(text(bytes))') does not parse again") }
        precondition(again == v && !(again < v) && !(v < again), "'\(v)' parses to a different version")
    }

    static func specifier(_ bytes: [UInt8]) {
        guard let set = VersionSpecifierSet(text(bytes)) else { return }
        guard let again = VersionSpecifierSet(set.description) else { fatalError("'\(set)' (from '\(text(bytes))') does not parse again") }
        precondition(again.description == set.description, "'\(set)' prints differently after a round trip: '\(again)'")
        for probe in ["0", "1.0", "1.0rc1", "2!3.4.post5.dev6+local.7"] {
            let v = PythonVersion(probe)!
            precondition(set.contains(v) == again.contains(v), "'\(set)' and its round trip disagree on \(probe)")
        }
    }

    static func requirement(_ bytes: [UInt8]) {
        guard let r = try? Requirement(parsing: text(bytes)) else { return }
        guard let again = try? Requirement(parsing: r.description) else { fatalError("'\(r)' (from '\(text(bytes))') does not parse again") }
        precondition(again.description == r.description, "'\(r)' prints differently after a round trip: '\(again)'")
    }

    static let environment = (try! TargetEnvironment(python: "3.11", platform: "manylinux_2_28_x86_64")).markerEnvironment

    static func marker(_ bytes: [UInt8]) {
        guard let m = try? Marker.parse(text(bytes)) else { return }
        guard let again = try? Marker.parse(m.description) else { fatalError("'\(m)' (from '\(text(bytes))') does not parse again") }
        precondition(again.evaluate(environment) == m.evaluate(environment), "'\(m)' and its round trip evaluate differently")
    }

    static func filename(_ bytes: [UInt8]) {
        guard let f = DistributionFilename(text(bytes)) else { return }
        precondition(!f.project.normalized.isEmpty, "a filename parsed to an empty project name")
    }

    static func simpleIndex(_ bytes: [UInt8], contentType: String) {
        _ = try? SimpleIndexParser.parse(bytes, contentType: contentType, url: "https://upstream.test/simple/fuzz/", project: ProjectName("fuzz"))
    }

    static func coreMetadata(_ bytes: [UInt8]) {
        _ = try? CoreMetadata(parsing: text(bytes), source: "fuzz")
    }

    static func dcf(_ bytes: [UInt8]) {
        guard let records = try? DCF.parse(bytes, source: "PACKAGES") else { return }
        for record in records {
            for field in ["Depends", "Imports", "LinkingTo", "Suggests"] {
                if let value = record[field] { _ = try? RDependency.parseField(value, source: "fuzz") }
            }
            if let version = record["Version"], let v = RVersion(version) { precondition(RVersion(v.description) == v, "R version '\(v)' does not parse again") }
        }
    }

    static func osv(_ bytes: [UInt8]) {
        _ = try? FeedParsers.osv(bytes, source: "fuzz.json", ecosystem: .pypi)
    }

    static func popularity(_ bytes: [UInt8]) {
        _ = try? FeedParsers.popularity(bytes, source: "fuzz.csv")
    }

    static func policy(_ bytes: [UInt8]) {
        _ = try? PolicyFile.parse(text(bytes), path: "fuzz.toml")
    }

    static func accept(_ bytes: [UInt8]) {
        _ = SimpleFormat.negotiate(text(bytes))
    }

    static func snapshotSelector(_ bytes: [UInt8]) {
        _ = SnapshotSelector(text(bytes))
    }
}
