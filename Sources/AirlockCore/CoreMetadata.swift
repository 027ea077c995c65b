/// A Python core metadata file (`METADATA` in a wheel, `PKG-INFO` in an sdist): RFC 822-style
/// headers, some of them repeated (`Requires-Dist`, `Classifier`), then an optional body (the long
/// description). Read as pip reads it: LF, CRLF or CR line ends, folded (continued) headers, and a
/// `Description` header that may itself span lines.
public struct CoreMetadata: Sendable, Hashable {
    public let fields: [(String, String)]

    /// Reads metadata bytes: UTF-8 as the spec says, or Latin-1 when they are not valid UTF-8
    /// (old sdists), so no byte is silently replaced.
    public init(bytes: [UInt8], source: String) throws {
        let text = String(validating: bytes, as: UTF8.self) ?? String(bytes.map { Character(Unicode.Scalar($0)) })
        try self.init(parsing: text, source: source)
    }

    public init(parsing text: String, source: String) throws {
        var fields: [(String, String)] = []
        // Split on unicode scalars: in Swift "\r\n" is one Character, so a Character-level split on "\n" misses it.
        let scalars = text.unicodeScalars
        var lines: [Substring.UnicodeScalarView] = []
        var start = scalars.startIndex
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            if c == "\n" || c == "\r" {
                lines.append(scalars[start..<i])
                let next = scalars.index(after: i)
                i = c == "\r" && next < scalars.endIndex && scalars[next] == "\n" ? scalars.index(after: next) : next
                start = i
            } else {
                i = scalars.index(after: i)
            }
        }
        lines.append(scalars[start..<scalars.endIndex])
        for scalarLine in lines {
            let line = Substring(scalarLine)
            if line.isEmpty { break }  // The body (long description) follows the first blank line.
            if line.first == " " || line.first == "\t" {
                guard !fields.isEmpty else { throw AirlockError(.malformedMetadata, "\(source): continuation line before any header") }
                fields[fields.count - 1].1 += "\n" + line.trimmingWhitespace()
                continue
            }
            guard let colon = line.firstIndex(of: ":") else {
                throw AirlockError(.malformedMetadata, "\(source): line '\(line.prefix(80))' is not a 'Name: value' header")
            }
            fields.append((String(line[..<colon]).trimmingWhitespace(), String(line[line.index(after: colon)...]).trimmingWhitespace()))
        }
        guard fields.contains(where: { $0.0.lowercased() == "name" }), fields.contains(where: { $0.0.lowercased() == "version" }) else {
            throw AirlockError(.malformedMetadata, "\(source): core metadata lacks a Name or Version header")
        }
        self.fields = fields
    }

    public func values(_ name: String) -> [String] {
        let key = name.lowercased()
        return fields.filter { $0.0.lowercased() == key }.map(\.1)
    }

    public func value(_ name: String) -> String? {
        values(name).first.flatMap { $0.isEmpty || $0 == "UNKNOWN" ? nil : $0 }
    }

    public var name: String { value("Name") ?? "" }
    public var version: String { value("Version") ?? "" }
    public var requiresPython: String? { value("Requires-Python") }

    /// `Requires-Dist` entries, parsed; the error names the metadata source and the entry.
    /// Where the project says it lives, by kind: `source` (a `Project-URL` labelled Source, Source Code,
    /// Repository, Code or GitHub, else a homepage on a code host such as github.com) and `home`
    /// (labelled Homepage or Home, else the `Home-page` field).
    public var projectURLs: [String: String] {
        var out: [String: String] = [:]
        for entry in values("Project-URL") {
            guard let comma = entry.firstIndex(of: ",") else { continue }
            let label = entry[..<comma].lowercased().filter { $0.isLetter }
            let url = entry[entry.index(after: comma)...].trimmingWhitespace()
            let kind =
                ["source", "sourcecode", "repository", "code", "github"].contains(label)
                ? "source" : ["homepage", "home"].contains(label) ? "home" : nil
            if let kind, !url.isEmpty, out[kind] == nil { out[kind] = url }
        }
        if out["home"] == nil, let home = value("Home-page")?.trimmingWhitespace(), !home.isEmpty, home != "UNKNOWN" { out["home"] = home }
        // A homepage on a code host is where the source is, when nothing else says.
        if out["source"] == nil, let home = out["home"], Self.codeHosts.contains(String(Self.projectLocation(home).prefix { $0 != "/" })) {
            out["source"] = home
        }
        return out
    }

    static let codeHosts: Set<String> = ["github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sr.ht", "git.sr.ht", "sourceforge.net"]

    /// A project URL reduced to what identifies it: host (without `www.`) and the first two path
    /// segments (`github.com/org/repo`), lowercased, without scheme, `.git` or trailing slash.
    public static func projectLocation(_ url: String) -> String {
        var rest = Substring(url.lowercased().trimmingWhitespace())
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") { rest = rest[rest.index(colon, offsetBy: 3)...] }
        rest = rest.prefix { $0 != "?" && $0 != "#" }
        if rest.hasPrefix("www.") { rest = rest.dropFirst(4) }
        return rest.split(separator: "/").prefix(3).map { $0.hasSuffix(".git") ? String($0.dropLast(4)) : String($0) }.joined(separator: "/")
    }

    public func requirements(source: String) throws -> [Requirement] {
        try values("Requires-Dist").map { entry in
            do {
                return try Requirement(parsing: entry)
            } catch let e as AirlockError {
                throw AirlockError(.malformedMetadata, "\(source): Requires-Dist: \(e.message)")
            }
        }
    }

    public var people: ProjectPeople {
        ProjectPeople(
            author: value("Author"), authorEmail: value("Author-email"),
            maintainer: value("Maintainer"), maintainerEmail: value("Maintainer-email"))
    }

    public static func == (a: CoreMetadata, b: CoreMetadata) -> Bool {
        a.fields.map { $0.0 + ":" + $0.1 } == b.fields.map { $0.0 + ":" + $0.1 }
    }

    public func hash(into h: inout Hasher) {
        for (k, v) in fields {
            h.combine(k)
            h.combine(v)
        }
    }
}
