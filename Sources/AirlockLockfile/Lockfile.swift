public import AirlockCore
import Foundation
import TOMLKit

/// One pinned package of a lockfile: exactly one version, and the SHA-256 digests its files may have
/// (none when the lockfile records no hashes, as `pip freeze` and renv do).
public struct LockedPin: Sendable, Hashable, Codable {
    public let ecosystem: Ecosystem
    /// PEP 503-normalized for PyPI; as written for R.
    public let project: String
    public let version: String
    public let hashes: Set<Digest>
    /// Where it was pinned (`requirements.txt:12`, `uv.lock: idna`), for messages.
    public let source: String

    public init(ecosystem: Ecosystem, project: String, version: String, hashes: Set<Digest>, source: String) {
        self.ecosystem = ecosystem
        self.project = ecosystem == .pypi ? ProjectName.normalize(project) : project
        self.version = version
        self.hashes = hashes
        self.source = source
    }
}

/// Reads the lockfiles CI jobs pin with: `requirements.txt` (pinned, hashes optional), `pylock.toml`
/// (PEP 751), `uv.lock`, `poetry.lock` and R's `renv.lock`, told apart by file name (anything else is
/// read as requirements). A line or entry that pins nothing exactly is an error naming it.
public enum Lockfile {
    public static func read(_ path: String) throws -> [LockedPin] {
        guard let data = FileManager.default.contents(atPath: path) else { throw AirlockError(.notFound, "cannot read lockfile \(path)") }
        return try parse([UInt8](data), path: path)
    }

    /// The pins of a lockfile's bytes; `path` (or just a file name) decides the format and names it in messages.
    public static func parse(_ bytes: [UInt8], path: String) throws -> [LockedPin] {
        let text = String(decoding: bytes, as: UTF8.self)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        switch name {
        case "uv.lock": return try uvLock(text, path: path)
        case "poetry.lock": return try poetryLock(text, path: path)
        case "renv.lock": return try renvLock(Data(bytes), path: path)
        case _ where name.hasPrefix("pylock.") && name.hasSuffix(".toml"): return try pylock(text, path: path)
        default: return try requirements(text, path: path)
        }
    }

    // MARK: requirements.txt

    /// `name==version` lines, with `--hash=sha256:…` options and `\` continuations; comments, blank
    /// lines and index options skipped; a requirement that is not pinned with `==` is an error.
    public static func requirements(_ text: String, path: String) throws -> [LockedPin] {
        var pins: [LockedPin] = []
        var logical = ""
        var startLine = 0
        let lines = text.textLines.map { String($0).trimmingCharacters(in: .whitespaces) }
        for (i, raw) in lines.enumerated() {
            var line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if logical.isEmpty { startLine = i + 1 }
            if let hash = line.range(of: " #") ?? (line.hasPrefix("#") ? line.startIndex..<line.startIndex : nil) {
                line = String(line[..<hash.lowerBound])
            }
            if line.hasSuffix("\\") {
                logical += String(line.dropLast()) + " "
                continue
            }
            logical += line
            defer { logical = "" }
            let entry = logical.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty, !entry.hasPrefix("-") else { continue }  // options: -r, -c, --index-url, -e …
            let place = "\(path):\(startLine)"
            let words = entry.split(separator: " ")
            var hashes = Set<Digest>()
            var specification: [Substring] = []
            for word in words {
                if word.hasPrefix("--hash=") {
                    let value = word.dropFirst("--hash=".count)
                    guard value.hasPrefix("sha256:"), let d = Digest(hex: String(value.dropFirst(7))) else {
                        throw AirlockError(.invalidArgument, "\(place): '\(word)' is not a sha256 hash")
                    }
                    hashes.insert(d)
                } else if !word.hasPrefix("--") {
                    specification.append(word)
                }
            }
            let requirement: Requirement
            do { requirement = try Requirement(parsing: specification.joined(separator: " ")) } catch {
                throw AirlockError(.invalidArgument, "\(place): \(error)")
            }
            guard let pin = requirement.specifier.clauses.first(where: { $0.op == .equal && !$0.wildcard }), requirement.specifier.clauses.count == 1
            else {
                throw AirlockError(.invalidArgument, "\(place): '\(requirement)' is not pinned to one version (name==version)")
            }
            pins.append(
                LockedPin(
                    ecosystem: .pypi, project: requirement.name.normalized, version: pin.version?.description ?? "", hashes: hashes, source: place))
        }
        return pins
    }

    // MARK: TOML lockfiles

    private static func table(_ text: String, path: String) throws -> TOMLTable {
        do { return try TOMLTable(string: text) } catch { throw AirlockError(.invalidArgument, "\(path) is not TOML: \(error)") }
    }

    /// `sha256:HEX` or a `{ sha256 = "HEX" }` table.
    private static func digest(_ value: (any TOMLValueConvertible)?) -> Digest? {
        if let s = value?.string { return s.hasPrefix("sha256:") ? Digest(hex: String(s.dropFirst(7))) : nil }
        return value?.table?["sha256"]?.string.flatMap(Digest.init(hex:))
    }

    private static func packages(_ table: TOMLTable, key: String, path: String) throws -> [TOMLTable] {
        guard let list = table[key]?.array else { throw AirlockError(.invalidArgument, "\(path) has no [[\(key)]] entries") }
        return list.compactMap(\.table)
    }

    /// `uv.lock`: registry packages with their sdist and wheels (the project itself, virtual or editable, is skipped).
    static func uvLock(_ text: String, path: String) throws -> [LockedPin] {
        try packages(try table(text, path: path), key: "package", path: path).compactMap { p in
            guard let name = p["name"]?.string else { throw AirlockError(.invalidArgument, "\(path): a [[package]] has no name") }
            guard p["source"]?.table?["registry"] != nil, let version = p["version"]?.string else { return nil }
            let files = [p["sdist"]?.table].compactMap { $0 } + (p["wheels"]?.array?.compactMap(\.table) ?? [])
            return LockedPin(
                ecosystem: .pypi, project: name, version: version, hashes: Set(files.compactMap { digest($0["hash"]) }), source: "\(path): \(name)")
        }
    }

    /// `pylock.toml` (PEP 751): packages with `sdist` and `wheels`, each file's `hashes`.
    static func pylock(_ text: String, path: String) throws -> [LockedPin] {
        try packages(try table(text, path: path), key: "packages", path: path).map { p in
            guard let name = p["name"]?.string, let version = p["version"]?.string else {
                throw AirlockError(
                    .invalidArgument, "\(path): a [[packages]] entry has no name or no version (only pinned registry packages can be checked)")
            }
            let files = [p["sdist"]?.table].compactMap { $0 } + (p["wheels"]?.array?.compactMap(\.table) ?? [])
            return LockedPin(
                ecosystem: .pypi, project: name, version: version, hashes: Set(files.compactMap { digest($0["hashes"]) }), source: "\(path): \(name)")
        }
    }

    /// `poetry.lock`: `[[package]]` with `files = [{ file, hash = "sha256:…" }]`.
    static func poetryLock(_ text: String, path: String) throws -> [LockedPin] {
        try packages(try table(text, path: path), key: "package", path: path).map { p in
            guard let name = p["name"]?.string, let version = p["version"]?.string else {
                throw AirlockError(.invalidArgument, "\(path): a [[package]] has no name or version")
            }
            let files = p["files"]?.array?.compactMap(\.table) ?? []
            return LockedPin(
                ecosystem: .pypi, project: name, version: version, hashes: Set(files.compactMap { digest($0["hash"]) }), source: "\(path): \(name)")
        }
    }

    // MARK: renv.lock

    /// renv's JSON: `Packages` by name, each with `Package` and `Version` (its `Hash` is of the
    /// DESCRIPTION, not of a file: not compared).
    static func renvLock(_ data: Data, path: String) throws -> [LockedPin] {
        let doc: JSONValue
        do { doc = try JSONValue(parsing: [UInt8](data)) } catch { throw AirlockError(.invalidArgument, "\(path) is not JSON: \(error)") }
        guard case .object(let packages)? = doc["Packages"] else { throw AirlockError(.invalidArgument, "\(path) has no \"Packages\" object") }
        return try packages.map { key, entry in
            guard let version = entry["Version"]?.string else { throw AirlockError(.invalidArgument, "\(path): package \(key) has no Version") }
            return LockedPin(ecosystem: .cran, project: entry["Package"]?.string ?? key, version: version, hashes: [], source: "\(path): \(key)")
        }
    }
}
