import Foundation

/// A PEP 508 dependency specification: `name[extra,...] specifiers ; marker`.
public struct Requirement: Hashable, Sendable, CustomStringConvertible {
    public let name: ProjectName
    public let extras: Set<String>
    public let specifier: VersionSpecifierSet
    public let url: String?
    public let marker: Marker?

    public init(name: ProjectName, extras: Set<String> = [], specifier: VersionSpecifierSet = .any, url: String? = nil, marker: Marker? = nil) {
        self.name = name
        self.extras = extras
        self.specifier = specifier
        self.url = url
        self.marker = marker
    }

    /// Parses one requirement line; the error names the text and what was wrong in it.
    public init(parsing raw: String) throws {
        let text = raw.trimmingWhitespace()
        func fail(_ why: String) -> AirlockError {
            AirlockError(.invalidArgument, "invalid requirement '\(text)': \(why)")
        }
        var body = Substring(text)
        var marker: Marker?
        var url: String?
        if let at = body.firstIndex(of: "@") {
            // Direct reference: `name @ url ; marker` (the marker follows a space and a semicolon).
            let rest = body[body.index(after: at)...]
            if let semi = rest.range(of: " ;") ?? rest.range(of: "; ") {
                url = String(rest[..<semi.lowerBound]).trimmingWhitespace()
                marker = try Marker.parse(String(rest[semi.upperBound...]).trimmingCharacters(";"))
            } else {
                url = String(rest).trimmingWhitespace()
            }
            if let u = url, u.isEmpty || u.contains(where: { $0.isWhitespace || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false) }) {
                throw fail("a direct reference needs a URL without spaces or control characters after '@'")
            }
            if let u = url, u.wholeMatch(of: /[A-Za-z][A-Za-z0-9+.\-]*:.+/) == nil {
                throw fail("'\(u)' after '@' is not a URL (scheme:...)")
            }
            body = body[..<at]
        } else if let semi = body.firstIndex(of: ";") {
            do {
                marker = try Marker.parse(String(body[body.index(after: semi)...]))
            } catch let e as AirlockError {
                throw fail(e.message)
            }
            body = body[..<semi]
        }
        var i = body.startIndex
        while i < body.endIndex, body[i].isLetter || body[i].isNumber || "-_.".contains(body[i]) { i = body.index(after: i) }
        let name = String(body[..<i])
        guard ProjectName.isValid(name) else { throw fail("missing or invalid project name") }
        var rest = body[i...].drop(while: \.isWhitespace)
        var extras: Set<String> = []
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { throw fail("unclosed '['") }
            for e in rest[rest.index(after: rest.startIndex)..<close].split(separator: ",") {
                let extra = String(e).trimmingWhitespace()
                guard ProjectName.isValid(extra) else { throw fail("invalid extra '\(extra)'") }
                extras.insert(ProjectName.normalize(extra))
            }
            rest = rest[rest.index(after: close)...].drop(while: \.isWhitespace)
        }
        var specText = String(rest).trimmingWhitespace()
        if specText.hasPrefix("(") {
            guard specText.hasSuffix(")") else { throw fail("unclosed '('") }
            specText = String(specText.dropFirst().dropLast())
        }
        if url != nil && !specText.isEmpty { throw fail("a direct URL reference cannot carry version specifiers") }
        guard let spec = VersionSpecifierSet(specText) else { throw fail("invalid version specifier '\(specText)'") }
        self.init(name: ProjectName(name), extras: extras, specifier: spec, url: url, marker: marker)
    }

    public var description: String {
        var s = name.display
        if !extras.isEmpty { s += "[" + extras.sorted().joined(separator: ",") + "]" }
        if let url { s += " @ \(url)" } else { s += specifier.description }
        // After a URL the marker needs a space before ';' (PEP 508), or it would read as part of the URL.
        if let marker { s += url == nil ? "; \(marker)" : " ; \(marker)" }
        return s
    }

    /// Reads a requirements file: one requirement a line, `#` comments, `\` continuations,
    /// `-r other.txt` includes relative to the file. Options pip accepts (`--hash`, `-i`) are ignored.
    public static func parseFile(at path: String, contents: String, include: (String) throws -> String) throws -> [Requirement] {
        var out: [Requirement] = []
        var logical = ""
        var lineNumber = 0
        for line in (contents + "\n").textLines {
            lineNumber += 1
            var l = String(line)
            if let hash = l.range(of: " #") ?? (l.hasPrefix("#") ? l.range(of: "#") : nil) { l = String(l[..<hash.lowerBound]) }
            if l.hasSuffix("\\") {
                logical += l.dropLast() + " "
                continue
            }
            logical += l
            let entry = logical.trimmingWhitespace()
            logical = ""
            if entry.isEmpty { continue }
            if entry.hasPrefix("-r ") || entry.hasPrefix("--requirement ") {
                let name = String(entry.split(separator: " ", maxSplits: 1)[1]).trimmingWhitespace()
                let target = name.hasPrefix("/") ? name : (path.split(separator: "/").dropLast().joined(separator: "/").prefixedSlash(path) + name)
                out += try parseFile(at: target, contents: try include(target), include: include)
                continue
            }
            if entry.hasPrefix("-") { continue }
            let withoutHashes = entry.components(separatedBy: " --hash").first ?? entry
            do {
                out.append(try Requirement(parsing: withoutHashes))
            } catch let e as AirlockError {
                throw AirlockError(.invalidArgument, "\(path):\(lineNumber): \(e.message)")
            }
        }
        return out
    }
}

extension String {
    func trimmingCharacters(_ set: Character) -> String {
        var s = Substring(self)
        while s.first == set || s.first?.isWhitespace == true { s.removeFirst() }
        return String(s)
    }

    func prefixedSlash(_ original: String) -> String {
        if isEmpty { return original.hasPrefix("/") ? "/" : "" }
        return (original.hasPrefix("/") ? "/" : "") + self + "/"
    }
}
