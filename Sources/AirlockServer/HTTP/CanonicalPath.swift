/// The one reading of a request target that every gate and route of the endpoint uses.
///
/// A path is canonical when it is origin-form (`/` first), has no empty segment but a final slash,
/// no `.` or `..` segment, percent-escapes only for what is not unreserved (RFC 3986 §2.3) and those in
/// upper case, and only characters RFC 3986 allows in a path. Every connection checks its request
/// targets here before anything else decides on them (`DirectResponder`, `WireResponder`), so the
/// install gate, the router, the direct paths and the repository routes all see the same path: a
/// spelling such as `//simple/x/`, `/%73imple/x/` or `/files//sha256/…` is redirected to its
/// canonical form before it can be served, and one that names no resource (`..`, an encoded `/` or
/// `\`, a control character, a fragment) is refused.
package enum CanonicalPath {
    package enum Verdict: Equatable {
        /// The target's path is canonical: decide on it as it is.
        case canonical
        /// The same resource, spelled canonically (path, then the query as sent).
        case redirect(String)
        /// Names no resource; the reason says why.
        case refused(String)
    }

    /// Longest request target considered at all (NIO's head limit is larger; names here are short).
    static let maxLength = 8 << 10

    /// Judges a request target (origin form with its query, or absolute form). `shortcut: false`
    /// skips the one-pass test for plainly canonical targets (the fuzz target compares the two).
    package static func check(_ target: Substring, shortcut: Bool = true) -> Verdict {
        if shortcut, isPlainlyCanonical(target.utf8) { return .canonical }
        let bytes = Array(target.utf8)
        guard bytes.count <= maxLength else { return .refused("the request target is longer than \(maxLength) bytes") }
        if bytes.contains(UInt8(ascii: "#")) { return .refused("a request target carries no fragment ('#')") }
        let queryStart = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        var path = bytes[..<queryStart]
        let query = bytes[queryStart...]
        var absoluteForm = false
        if path.first != UInt8(ascii: "/") {
            guard let origin = originPath(of: path) else { return .refused("the request target is neither a path nor an absolute http(s) URL") }
            path = origin
            absoluteForm = true
        }
        var segments: [[UInt8]] = []
        var segmentStart = path.startIndex + 1
        var finalSlash = false
        while segmentStart <= path.endIndex {
            let end = path[segmentStart...].firstIndex(of: UInt8(ascii: "/")) ?? path.endIndex
            let raw = path[segmentStart..<end]
            switch canonicalSegment(raw) {
            case .refused(let reason): return .refused(reason)
            case .segment(let segment) where segment.isEmpty: finalSlash = end == path.endIndex && !segments.isEmpty
            case .segment(let segment):
                if segment == [UInt8(ascii: ".")] || segment == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                    return .refused("paths with '.' or '..' segments are never served")
                }
                segments.append(segment)
                finalSlash = false
            }
            segmentStart = end + 1
        }
        var canonical: [UInt8] = [UInt8(ascii: "/")]
        for (i, segment) in segments.enumerated() {
            if i > 0 { canonical.append(UInt8(ascii: "/")) }
            canonical.append(contentsOf: segment)
        }
        if finalSlash { canonical.append(UInt8(ascii: "/")) }
        if !absoluteForm && canonical.elementsEqual(path) { return .canonical }
        return .redirect(String(decoding: canonical + query, as: UTF8.self))
    }

    /// The path of a request target: everything before the first `?` byte. Bytes, not characters: a
    /// `?` followed by a combining mark is one `Character` that is not `"?"`, and would hide the query
    /// inside the path.
    package static func path(of target: Substring) -> Substring {
        guard let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return target[..<question]
    }

    /// The common case in one pass without allocating: `/` first, path characters only, no escape,
    /// no empty segment but a final one, no `.` or `..` segment. False sends the target to the full check.
    private static func isPlainlyCanonical(_ target: Substring.UTF8View) -> Bool {
        guard target.first == UInt8(ascii: "/"), target.count <= maxLength, !target.contains(UInt8(ascii: "#")) else { return false }
        var previousSlash = false
        var length = 0
        var dots = 0
        for byte in target {
            if byte == UInt8(ascii: "?") { break }
            if byte == UInt8(ascii: "/") {
                if previousSlash || (length > 0 && length == dots && length <= 2) { return false }
                previousSlash = true
                length = 0
                dots = 0
                continue
            }
            guard pathCharacters[Int(byte)] else { return false }  // '%' and '#' are not among them
            previousSlash = false
            length += 1
            if byte == UInt8(ascii: ".") { dots += 1 }
        }
        return !(length > 0 && length == dots && length <= 2)
    }

    /// `isPathCharacter` for every byte value.
    private static let pathCharacters: [Bool] = (0...255).map { isPathCharacter(UInt8($0)) }

    /// The path of an absolute-form target (`http://host/path`), or `/` when it names only a host.
    private static func originPath(of target: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let text = String(decoding: target, as: UTF8.self).lowercased()
        let scheme = text.hasPrefix("http://") ? 7 : text.hasPrefix("https://") ? 8 : 0
        guard scheme > 0 else { return nil }
        let rest = target.dropFirst(scheme)
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return [UInt8(ascii: "/")][...] }
        return rest[slash...]
    }

    private enum Segment {
        case segment([UInt8])
        case refused(String)
    }

    /// One segment with unreserved characters decoded and other escapes in upper case; empty for `//`.
    private static func canonicalSegment(_ raw: ArraySlice<UInt8>) -> Segment {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let byte = raw[i]
            if byte == UInt8(ascii: "%") {
                guard i + 2 < raw.endIndex, let high = hexValue(raw[i + 1]), let low = hexValue(raw[i + 2]) else {
                    return .refused("'%' must start a percent-escape of two hex digits")
                }
                let decoded = high << 4 | low
                if decoded == UInt8(ascii: "/") || decoded == UInt8(ascii: "\\") || decoded < 0x20 || decoded == 0x7F {
                    return .refused("an encoded '/', '\\' or control character never names a served file")
                }
                if isUnreserved(decoded) {
                    out.append(decoded)
                } else {
                    out.append(contentsOf: [UInt8(ascii: "%"), hexDigits[Int(high)], hexDigits[Int(low)]])
                }
                i += 3
                continue
            }
            guard isPathCharacter(byte) else {
                return .refused("the path has a character RFC 3986 does not allow unescaped (byte 0x\(String(byte, radix: 16)))")
            }
            out.append(byte)
            i += 1
        }
        return .segment(out)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// ALPHA / DIGIT / `-` / `.` / `_` / `~`.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
        }
    }

    /// `pchar` but `%`: unreserved, sub-delims, `:` and `@`.
    private static func isPathCharacter(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || "!$&'()*+,;=:@".utf8.contains(byte)
    }
}
