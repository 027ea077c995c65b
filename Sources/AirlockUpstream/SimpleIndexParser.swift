import Foundation
public import AirlockCore

/// Parses a project page of a PEP 503 (HTML) or PEP 691 (JSON) simple repository.
public enum SimpleIndexParser {
    public static let jsonType = "application/vnd.pypi.simple.v1+json"
    public static let htmlType = "application/vnd.pypi.simple.v1+html"
    /// The Accept header a client sends to prefer JSON and settle for HTML.
    public static let accept = "\(jsonType), \(htmlType);q=0.2, text/html;q=0.1"

    /// Parses `body`, choosing the format from `contentType`; `url` is the page's final URL,
    /// against which links resolve, and names the page in errors.
    public static func parse(_ body: [UInt8], contentType: String?, url: String, project: ProjectName) throws -> [UpstreamFile] {
        let type = (contentType ?? "").split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
        if type == jsonType || type == "application/json" {
            return distinct(try parseJSON(body, url: url))
        }
        if type == htmlType || type == "text/html" || type.isEmpty {
            return distinct(try parseHTML(String(decoding: body, as: UTF8.self), url: url))
        }
        throw AirlockError(.malformedIndex, "\(url) answered with content type '\(type)', which is neither PEP 691 JSON nor PEP 503 HTML")
    }

    /// The files with a file name or URL listed twice merged: the first entry stands. An index may
    /// repeat a link (mirrors concatenating pages do); one file is one file however often it is named.
    static func distinct(_ files: [UpstreamFile]) -> [UpstreamFile] {
        var names = Set<String>(), urls = Set<String>()
        return files.filter { names.insert($0.filename).inserted && urls.insert($0.url).inserted }
    }

    // MARK: JSON (PEP 691, 700, 714)

    private struct JSONPage: Decodable {
        struct File: Decodable {
            let filename: String
            let url: String
            let hashes: [String: String]
            let requiresPython: String?
            let yanked: Flag?
            let coreMetadata: Flag?
            let distInfoMetadata: Flag?
            let size: Int64?
            let uploadTime: String?

            enum CodingKeys: String, CodingKey {
                case filename, url, hashes, yanked, size
                case requiresPython = "requires-python"
                case coreMetadata = "core-metadata"
                case distInfoMetadata = "dist-info-metadata"
                case uploadTime = "upload-time"
            }
        }

        /// `true`/`false`, a string (yank reason), or a hash dictionary: the shapes these keys take.
        enum Flag: Decodable {
            case bool(Bool)
            case text(String)
            case hashes([String: String])

            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let b = try? c.decode(Bool.self) {
                    self = .bool(b)
                } else if let s = try? c.decode(String.self) {
                    self = .text(s)
                } else {
                    self = .hashes(try c.decode([String: String].self))
                }
            }
        }

        let files: [File]
    }

    static func parseJSON(_ body: [UInt8], url: String) throws -> [UpstreamFile] {
        let page: JSONPage
        do {
            page = try JSONDecoder().decode(JSONPage.self, from: Data(body))
        } catch {
            throw AirlockError(.malformedIndex, "malformed PEP 691 JSON at \(url): \(describe(error))")
        }
        return try page.files.map { f in
            let metadata = f.coreMetadata ?? f.distInfoMetadata
            var hasMetadata = false
            var metadataDigest: Digest?
            switch metadata {
            case .bool(let b): hasMetadata = b
            case .hashes(let h):
                hasMetadata = true
                metadataDigest = h["sha256"].flatMap(Digest.init(hex:))
            case .text, nil: break
            }
            var yanked: String?
            switch f.yanked {
            case .bool(true): yanked = ""
            case .text(let reason): yanked = reason
            default: break
            }
            var digest: Digest?
            if let hex = f.hashes["sha256"] {
                guard let d = Digest(hex: hex) else {
                    throw AirlockError(.malformedIndex, "malformed PEP 691 JSON at \(url): file \(f.filename) has an invalid sha256 '\(hex)'")
                }
                digest = d
            }
            return UpstreamFile(
                filename: f.filename, url: try resolve(f.url, against: url), sha256: digest, size: f.size,
                requiresPython: f.requiresPython, yanked: yanked, uploadTime: f.uploadTime.flatMap(Timestamp.parse),
                hasCoreMetadata: hasMetadata, coreMetadataSHA256: metadataDigest)
        }
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
                    coreMetadataSHA256: metadataAttribute.flatMap { $0.hasPrefix("sha256=") ? Digest(hex: String($0.dropFirst(7))) : nil }))
        }
        return files
    }

    private static func findAnchor(_ chars: [UInt8], from: Int) -> Int? {
        var i = from
        while i + 2 < chars.count {
            if chars[i] == UInt8(ascii: "<"), chars[i + 1] | 0x20 == UInt8(ascii: "a"), chars[i + 2] == 0x20 || chars[i + 2] == 0x0A || chars[i + 2] == 0x09 || chars[i + 2] == 0x0D {
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
            for j in 0..<needle.count where (caseInsensitive ? chars[i + j] | 0x20 : chars[i + j]) != (caseInsensitive ? needle[j] | 0x20 : needle[j]) {
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
                    throw AirlockError(.malformedIndex, "malformed HTML at \(url): unterminated quoted value of '\(name)' in the <a> at byte \(offset)")
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
            } else if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let code = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(code) {
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
        guard let baseURL = URL(string: base), let resolved = URL(string: link, relativeTo: baseURL) else {
            throw AirlockError(.malformedIndex, "link '\(link)' on \(base) is not a valid URL")
        }
        return resolved.absoluteString
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription + path(c.codingPath)
        case DecodingError.keyNotFound(let k, let c): return "missing key '\(k.stringValue)'" + path(c.codingPath)
        case DecodingError.typeMismatch(let t, let c): return "expected \(t)" + path(c.codingPath)
        case DecodingError.valueNotFound(let t, let c): return "missing \(t)" + path(c.codingPath)
        default: return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "" : " at " + keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
