public import AirlockCore
import Foundation

/// A project page as parsed: its files, and PyPI's serial of the project when the page gives one.
public struct SimplePage: Sendable {
    public var files: [UpstreamFile]
    /// PyPI's `_last-serial` (JSON `meta`, or the HTML `<!--SERIAL n-->` comment): it changes whenever
    /// anything about the project does, so an unchanged serial means the project's other documents are too.
    public var serial: Int?
    /// The project's PEP 792 status marker, when the page carries one.
    public var status: ProjectStatus?
}

/// Parses a project page of a PEP 503 (HTML) or PEP 691 (JSON) simple repository.
public enum SimpleIndexParser {
    public static let jsonType = "application/vnd.pypi.simple.v1+json"
    public static let htmlType = "application/vnd.pypi.simple.v1+html"
    /// The Accept header a client sends to prefer JSON and settle for HTML.
    public static let accept = "\(jsonType), \(htmlType);q=0.2, text/html;q=0.1"

    /// Parses `body`, choosing the format from `contentType`; `url` is the page's final URL,
    /// against which links resolve, and names the page in errors.
    public static func parse(_ body: [UInt8], contentType: String?, url: String, project: ProjectName) throws -> SimplePage {
        let type = (contentType ?? "").split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
        if type == jsonType || type == "application/json" {
            var page = try parseJSON(body, url: url)
            page.files = distinct(page.files)
            return page
        }
        if type == htmlType || type == "text/html" || type.isEmpty {
            let html = String(decoding: body, as: UTF8.self)
            return SimplePage(files: distinct(try parseHTML(html, url: url)), serial: htmlSerial(html), status: htmlStatus(html))
        }
        throw AirlockError(.malformedIndex, "\(url) answered with content type '\(type)', which is neither PEP 691 JSON nor PEP 503 HTML")
    }

    /// The files with a file name or URL listed twice merged: the first entry stands. An index may
    /// repeat a link (mirrors concatenating pages do); one file is one file however often it is named.
    static func distinct(_ files: [UpstreamFile]) -> [UpstreamFile] {
        var names = Set<String>(minimumCapacity: files.count)
        var urls = Set<String>(minimumCapacity: files.count)
        return files.filter { names.insert($0.filename).inserted && urls.insert($0.url).inserted }
    }

    // MARK: JSON (PEP 691, 700, 714)

    /// Reads a PEP 691 page member by member with `JSONPull` (PyPI's pages for large projects run to
    /// megabytes: each file's members are read straight into its `UpstreamFile`); a field of the wrong
    /// type is an error naming its place in the page.
    static func parseJSON(_ body: [UInt8], url: String) throws -> SimplePage {
        func malformed(_ what: String) -> AirlockError { AirlockError(.malformedIndex, "malformed PEP 691 JSON at \(url): \(what)") }
        var files: [UpstreamFile]?
        var serial: Int?
        var status: ProjectStatus?
        do {
            try JSONPull.reading(body) { document in
                guard let kind = document.nextKind(), kind == "an object" else {
                    throw malformed("expected an object, found \(document.nextKind() ?? "nothing")")
                }
                try document.members { key, value in
                    switch key {
                    case "files" where files == nil:
                        guard value.nextKind() == "an array" else { throw malformed("expected an array at .files") }
                        var found: [UpstreamFile] = []
                        try value.elements { i, entry in found.append(try file(&entry, at: i, page: url, malformed: malformed)) }
                        files = found
                    case "meta" where serial == nil:
                        serial = try value.value()["_last-serial"].flatMap(Self.serial)
                    case "project-status" where status == nil:
                        let marker = try value.value()
                        guard let s = marker["status"]?.string else { throw malformed("expected a string at .project-status.status") }
                        status = ProjectStatus(status: s, reason: marker["reason"]?.string)
                    default:
                        _ = try value.value()
                    }
                }
            }
        } catch let e as JSONValue.SyntaxError {
            throw malformed("\(e)")
        }
        guard let files else { throw malformed("expected an array at .files") }
        return SimplePage(files: files, serial: serial, status: status)
    }

    private struct FileFields {
        var filename, url, hashes, requiresPython, yanked, uploadTime, coreMetadata, distInfoMetadata, size, provenance: JSONValue?

        subscript(key: String) -> JSONValue? {
            switch key {
            case "filename": filename
            case "url": url
            case "hashes": hashes
            case "requires-python": requiresPython
            case "yanked": yanked
            case "upload-time": uploadTime
            case "core-metadata": coreMetadata
            case "dist-info-metadata": distInfoMetadata
            case "size": size
            case "provenance": provenance
            default: nil
            }
        }
    }

    /// One member of a PEP 691 page's `files`.
    private static func file(_ entry: inout JSONPull, at i: Int, page url: String, malformed: (String) -> AirlockError) throws -> UpstreamFile {
        var place: String { "files[\(i)]" }
        guard let kind = entry.nextKind(), kind == "an object" else {
            throw malformed("expected an object, found \(entry.nextKind() ?? "nothing") at \(place)")
        }
        // The members airlock reads, each the first of its name (as `JSONValue`'s subscript has it).
        var fields = FileFields()
        try entry.members { key, value in
            let v = try value.value()
            switch key {
            case "filename": fields.filename = fields.filename ?? v
            case "url": fields.url = fields.url ?? v
            case "hashes": fields.hashes = fields.hashes ?? v
            case "requires-python": fields.requiresPython = fields.requiresPython ?? v
            case "yanked": fields.yanked = fields.yanked ?? v
            case "upload-time": fields.uploadTime = fields.uploadTime ?? v
            case "core-metadata": fields.coreMetadata = fields.coreMetadata ?? v
            case "dist-info-metadata": fields.distInfoMetadata = fields.distInfoMetadata ?? v
            case "size": fields.size = fields.size ?? v
            case "provenance": fields.provenance = fields.provenance ?? v
            default: break
            }
        }
        func text(_ key: String, required: Bool = false) throws -> String? {
            switch fields[key] {
            case .string(let s): return s
            case nil, .null?: if required { throw malformed("missing key '\(key)' at \(place)") } else { return nil }
            case let other?: throw malformed("expected a string, found \(other.kind) at \(place).\(key)")
            }
        }
        let filename = try text("filename", required: true)!
        var digest: Digest?
        switch fields["hashes"] {
        case .object(let hashes)?:
            if let hex = hashes.first(where: { $0.0 == "sha256" })?.1 {
                guard let h = hex.string, let d = Digest(hex: h) else {
                    throw malformed("file \(filename) has an invalid sha256 at \(place).hashes.sha256")
                }
                digest = d
            }
        case nil: throw malformed("missing key 'hashes' at \(place)")
        case let other?: throw malformed("expected an object, found \(other.kind) at \(place).hashes")
        }
        var yanked: String?
        switch fields["yanked"] {
        case .bool(true)?: yanked = ""
        case .string(let reason)?: yanked = reason
        default: break
        }
        var hasMetadata = false
        var metadataDigest: Digest?
        switch fields["core-metadata"] ?? fields["dist-info-metadata"] {
        case .bool(let b)?: hasMetadata = b
        case .object(let hashes)?:
            hasMetadata = true
            metadataDigest = hashes.first { $0.0 == "sha256" }?.1.string.flatMap(Digest.init(hex:))
        default: break
        }
        var size: Int64?
        if let value = fields["size"], !value.isNull {
            guard let n = value.int else { throw malformed("expected a whole number, found \(value.kind) at \(place).size") }
            size = Int64(n)
        }
        return UpstreamFile(
            filename: filename, url: try resolve(try text("url", required: true)!, against: url), sha256: digest, size: size,
            requiresPython: try text("requires-python"), yanked: yanked, uploadTime: try text("upload-time").flatMap(Timestamp.parse),
            hasCoreMetadata: hasMetadata, coreMetadataSHA256: metadataDigest,
            provenanceURL: try text("provenance").map { try resolve($0, against: url) })
    }

    /// PyPI's serial as its documents carry it: a number or (as PyPI has also sent it) a numeric
    /// string. It is advisory, so anything else reads as no serial rather than failing the document.
    public static func serial(_ value: JSONValue) -> Int? {
        value.int ?? value.string.flatMap { Int($0) }
    }

    /// The `<!--SERIAL n-->` comment PyPI (and mirrors of it) put on HTML project pages.
    static func htmlSerial(_ html: String) -> Int? {
        guard let start = html.range(of: "<!--SERIAL ") else { return nil }
        return Int(html[start.upperBound...].prefix { $0.isASCII && $0.isNumber })
    }

    /// PEP 792 in HTML: `<meta name="pypi:project-status" content="…">` and its `-reason` companion.
    static func htmlStatus(_ html: String) -> ProjectStatus? {
        func meta(_ name: String) -> String? {
            guard let tag = html.range(of: "<meta name=\"\(name)\"") else { return nil }
            let rest = html[tag.upperBound...].prefix { $0 != ">" }
            guard let open = rest.range(of: "content=\"") else { return nil }
            return unescape(String(rest[open.upperBound...].prefix { $0 != "\"" }))
        }
        return meta("pypi:project-status").map { ProjectStatus(status: $0, reason: meta("pypi:project-status-reason")) }
    }

    // MARK: HTML (PEP 503, 592, 658)

    static func parseHTML(_ html: String, url: String) throws -> [UpstreamFile] {
        var files: [UpstreamFile] = []
        let chars = Array(html.utf8)
        var i = 0
        while let start = findAnchor(chars, from: i) {
            guard let close = chars[start...].firstIndex(of: UInt8(ascii: ">")) else {
                throw AirlockError(.malformedIndex, "malformed HTML at \(url): unterminated <a> tag at byte \(start)")
            }
            let attributes = try parseAttributes(Array(chars[(start + 2)..<close]), url: url, offset: start)
            guard let end = findSequence(chars, Array("</a>".utf8), from: close + 1, caseInsensitive: true) else {
                throw AirlockError(.malformedIndex, "malformed HTML at \(url): <a> at byte \(start) is never closed")
            }
            i = end + 4
            guard let href = attributes["href"] else {
                throw AirlockError(.malformedIndex, "malformed HTML at \(url): <a> at byte \(start) has no href")
            }
            let text = unescape(String(decoding: chars[(close + 1)..<end], as: UTF8.self)).trimmingWhitespace()
            var link = href
            var digest: Digest?
            if let hash = link.firstIndex(of: "#") {
                let fragment = link[link.index(after: hash)...]
                link = String(link[..<hash])
                if fragment.hasPrefix("sha256=") {
                    guard let d = Digest(hex: String(fragment.dropFirst(7))) else {
                        throw AirlockError(.malformedIndex, "malformed HTML at \(url): link '\(text)' has an invalid sha256 fragment '\(fragment)'")
                    }
                    digest = d
                }
            }
            let metadataAttribute = attributes["data-core-metadata"] ?? attributes["data-dist-info-metadata"]
            let filename = text.isEmpty ? String(link.split(separator: "/").last ?? "") : text
            files.append(
                UpstreamFile(
                    filename: filename, url: try resolve(link, against: url), sha256: digest,
                    requiresPython: attributes["data-requires-python"], yanked: attributes["data-yanked"],
                    hasCoreMetadata: metadataAttribute != nil && metadataAttribute != "false",
                    coreMetadataSHA256: metadataAttribute.flatMap { $0.hasPrefix("sha256=") ? Digest(hex: String($0.dropFirst(7))) : nil },
                    provenanceURL: try attributes["data-provenance"].map { try resolve($0, against: url) }))
        }
        return files
    }

    private static func findAnchor(_ chars: [UInt8], from: Int) -> Int? {
        var i = from
        while i + 2 < chars.count {
            if chars[i] == UInt8(ascii: "<"), chars[i + 1] | 0x20 == UInt8(ascii: "a"),
                chars[i + 2] == 0x20 || chars[i + 2] == 0x0A || chars[i + 2] == 0x09 || chars[i + 2] == 0x0D
            {
                return i
            }
            i += 1
        }
        return nil
    }

    private static func findSequence(_ chars: [UInt8], _ needle: [UInt8], from: Int, caseInsensitive: Bool) -> Int? {
        guard needle.count <= chars.count else { return nil }
        var i = from
        while i + needle.count <= chars.count {
            var match = true
            for j in 0..<needle.count where (caseInsensitive ? chars[i + j] | 0x20 : chars[i + j]) != (caseInsensitive ? needle[j] | 0x20 : needle[j])
            {
                match = false
                break
            }
            if match { return i }
            i += 1
        }
        return nil
    }

    /// Attributes of one tag: `name="v"`, `name='v'`, `name=v`, or a bare `name`.
    private static func parseAttributes(_ bytes: [UInt8], url: String, offset: Int) throws -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == UInt8(ascii: "/") }
        while i < bytes.count {
            while i < bytes.count, isSpace(bytes[i]) { i += 1 }
            let nameStart = i
            while i < bytes.count, !isSpace(bytes[i]), bytes[i] != UInt8(ascii: "=") { i += 1 }
            guard i > nameStart else { break }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self).lowercased()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
                out[name] = ""
                continue
            }
            i += 1
            var value: String
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") {
                let quote = bytes[i]
                i += 1
                let vs = i
                while i < bytes.count, bytes[i] != quote { i += 1 }
                guard i < bytes.count else {
                    throw AirlockError(
                        .malformedIndex, "malformed HTML at \(url): unterminated quoted value of '\(name)' in the <a> at byte \(offset)")
                }
                value = String(decoding: bytes[vs..<i], as: UTF8.self)
                i += 1
            } else {
                let vs = i
                while i < bytes.count, !isSpace(bytes[i]) { i += 1 }
                value = String(decoding: bytes[vs..<i], as: UTF8.self)
            }
            value = unescape(value)
            out[name] = value
        }
        return out
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[amp...]
            guard let semi = after.firstIndex(of: ";"), after.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = after[after.index(after: amp)..<semi]
            let named = ["lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'"]
            if let n = named[String(entity)] {
                out += n
            } else if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let code = UInt32(entity.dropFirst(2), radix: 16),
                let u = Unicode.Scalar(code)
            {
                out.unicodeScalars.append(u)
            } else if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()), let u = Unicode.Scalar(code) {
                out.unicodeScalars.append(u)
            } else {
                out += after[amp...semi]
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    static func resolve(_ link: String, against base: String) throws -> String {
        if isPlainAbsolute(link) { return link }
        guard let baseURL = URL(string: base), let resolved = URL(string: link, relativeTo: baseURL) else {
            throw AirlockError(.malformedIndex, "link '\(link)' on \(base) is not a valid URL")
        }
        return resolved.absoluteString
    }

    /// An absolute http(s) URL that resolving would leave as it is (a host, only URL characters and no `%`, no dot
    /// segments): the form PyPI gives every file, checked byte by byte rather than parsed.
    static func isPlainAbsolute(_ link: String) -> Bool {
        let bytes = Array(link.utf8)
        let prefix = bytes.starts(with: "https://".utf8) ? 8 : bytes.starts(with: "http://".utf8) ? 7 : 0
        guard prefix > 0, bytes.count > prefix, bytes[prefix] != UInt8(ascii: "/") else { return false }
        let allowed = Self.urlBytes
        guard bytes.allSatisfy({ allowed[Int($0)] }) else { return false }
        // No dot segment: a `.` or `..` between slashes or at the end.
        var segmentStart = prefix
        for i in prefix...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "/") {
            let length = i - segmentStart
            if (length == 1 || length == 2) && bytes[segmentStart..<i].allSatisfy({ $0 == UInt8(ascii: ".") }) { return false }
            segmentStart = i + 1
        }
        return true
    }

    private static let urlBytes: [Bool] = (0..<256).map { b in
        guard b < 0x80, let s = Unicode.Scalar(b) else { return false }
        return ("0"..."9").contains(s) || ("a"..."z").contains(s) || ("A"..."Z").contains(s) || "-._~:/?[]@!$&'()*+,;=".unicodeScalars.contains(s)
    }
}
