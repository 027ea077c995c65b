import AirlockCore
import AirlockPolicy
import AirlockProvenance
import AirlockServer
import AirlockUpstream
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1

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
        "wire-request": wireRequest,
        "request-path": requestPath,
        "archive-links": archiveLinks,
        "provenance": provenance,
        "trusted-root": trustedRoot,
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

    /// A page parses or is refused; what it lists names each file and URL once, and every wheel name
    /// it lists parses in bounded time and memory (tag sets are never multiplied out).
    static func simpleIndex(_ bytes: [UInt8], contentType: String) {
        guard
            let files = try? SimpleIndexParser.parse(
                bytes, contentType: contentType, url: "https://upstream.test/simple/fuzz/", project: ProjectName("fuzz")
            ).files
        else { return }
        precondition(Set(files.map(\.filename)).count == files.count && Set(files.map(\.url)).count == files.count, "a file is listed twice")
        for file in files { _ = DistributionFilename(file.filename) }
    }

    static let shippedRoot = try! TrustedRoot.publicGood()

    /// A PEP 740 provenance object parses or is refused; one that parses goes through every check
    /// (DER, JSON, Merkle proof, signatures) against the shipped root for a file it cannot attest (its
    /// own digest): the verdict must be a refusal, never a crash.
    static func provenance(_ bytes: [UInt8]) {
        guard let document = try? Provenance(json: bytes) else { return }
        let verified = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            let v = try? await AttestationVerifier(root: shippedRoot).verify(document, filename: "fuzz-1.0.tar.gz", sha256: Digest.of(bytes))
            verified.set(v != nil)
            done.signal()
        }
        done.wait()
        precondition(!verified.value, "a provenance object verified for a file it does not name")
    }

    /// A trusted root parses or is refused; one that parses names only keys and certificates that parsed.
    static func trustedRoot(_ bytes: [UInt8]) {
        guard let root = try? TrustedRoot(json: bytes) else { return }
        precondition(root.authorities.allSatisfy { !$0.chain.isEmpty }, "a certificate authority without certificates")
    }

    /// A flag set from a task and read after it.
    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var flag = false
        func set(_ v: Bool) { lock.withLock { flag = v } }
        var value: Bool { lock.withLock { flag } }
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
            if let version = record["Version"], let v = RVersion(version) {
                precondition(RVersion(v.description) == v, "R version '\(v)' does not parse again")
            }
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

    /// `CanonicalPath`: the one-pass test agrees with the full check; a redirect leads to a canonical target (one hop, never a loop), every target it
    /// calls canonical or leads to is origin-form with no empty, `.` or `..` segment (so never `//host`,
    /// an open redirect), and no canonical path holds an escape of an unreserved character.
    static func requestPath(_ bytes: [UInt8]) {
        let target = Substring(text(bytes))
        let verdict = CanonicalPath.check(target)
        precondition(verdict == CanonicalPath.check(target, shortcut: false), "'\(target)': the one-pass test and the full check disagree")
        let path: Substring
        switch verdict {
        case .refused: return
        case .canonical: path = CanonicalPath.path(of: target)
        case .redirect(let location):
            precondition(CanonicalPath.check(Substring(location)) == .canonical, "'\(target)' redirects to '\(location)', which is not canonical")
            path = CanonicalPath.path(of: Substring(location))
        }
        precondition(path.hasPrefix("/") && !path.hasPrefix("//"), "'\(target)' leads to '\(path)', not a path on this server")
        let segments = path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
        for (i, segment) in segments.enumerated() {
            precondition(!segment.isEmpty || i == segments.count - 1, "'\(path)' has an empty segment")
            precondition(segment != "." && segment != "..", "'\(path)' has a dot segment")
            precondition(segment.removingPercentEncoding.map { !$0.contains("/") } ?? true, "'\(path)' hides a '/' in a segment")
        }
    }

    /// `ArchiveTree`: members as lines `F name`, `D name`, `S name target`, `H name target`, `X name`;
    /// any sequence ends in a verdict (links loop or nest at most so far), and a tree without links
    /// is judged the same whether links are allowed or not.
    static func archiveLinks(_ bytes: [UInt8]) {
        var members: [(String, ArchiveTree.Member)] = []
        for line in text(bytes).split(separator: "\n").prefix(256) {
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count >= 2 else { continue }
            switch (parts[0], parts.count) {
            case ("F", _): members.append((parts[1], .file))
            case ("D", _): members.append((parts[1], .directory))
            case ("X", _): members.append((parts[1], .special))
            case ("S", 3): members.append((parts[1], .symlink(target: parts[2])))
            case ("H", 3): members.append((parts[1], .hardlink(target: parts[2])))
            default: continue
            }
        }
        func accepted(_ rule: ArchiveTree.LinkRule) -> Bool { (try? ArchiveTree.check(members, archive: "fuzz.tar", rule: rule)) != nil }
        let withLinks = accepted(.linksInside)
        if !members.contains(where: {
            if case .symlink = $0.1 { return true }
            if case .hardlink = $0.1 { return true }
            return false
        }) {
            precondition(withLinks == accepted(.noLinks), "a tree without links is judged differently by the two rules")
        } else if accepted(.noLinks) {
            preconditionFailure("a tree with links passed the rule that allows none")
        }
    }

    /// The endpoint's own request-head reader must never read a request differently from llhttp
    /// (NIO's parser, which the router path uses): every head it accepts, llhttp reads as the same
    /// method, target, version, keep-alive and fields, with no body after it.
    static func wireRequest(_ bytes: [UInt8]) {
        let accepted: (DirectRequest, Int)? = bytes.withUnsafeBytes { b in
            guard let length = WireRequestParser.headLength(b, limit: 16384),
                let request = WireRequestParser.parse(UnsafeRawBufferPointer(rebasing: b[..<length]))
            else { return nil }
            return (request, length)
        }
        guard let (request, length) = accepted else { return }
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
        defer { _ = try? channel.finish() }
        let shown = String(decoding: bytes[..<length], as: UTF8.self).debugDescription
        do {
            try channel.writeInbound(ByteBuffer(bytes: bytes[..<length]))
        } catch {
            fatalError("llhttp refuses a head the wire parser accepted (\(error)): \(shown)")
        }
        guard case .head(let head)? = try? channel.readInbound(as: HTTPServerRequestPart.self) else {
            fatalError("llhttp reads no head where the wire parser read one: \(shown)")
        }
        guard case .end? = try? channel.readInbound(as: HTTPServerRequestPart.self) else {
            fatalError("llhttp reads a body (or no end) after a head the wire parser read as bodiless: \(shown)")
        }
        precondition(head.method == (request.isHead ? .HEAD : .GET), "method differs: \(head.method) for \(shown)")
        precondition(head.uri == String(request.target), "target differs: '\(head.uri)' vs '\(request.target)' for \(shown)")
        precondition(head.version == request.version && head.isKeepAlive == request.keepAlive, "version or keep-alive differs for \(shown)")
        let fields: [(String, String?)] = [
            ("accept", request.accept), ("if-none-match", request.ifNoneMatch), ("range", request.range), ("authorization", request.authorization),
        ]
        for (name, mine) in fields {
            let theirs = head.headers[name]
            let same = mine.map { theirs.joined(separator: ", ") == $0 && !theirs.isEmpty } ?? theirs.isEmpty
            precondition(same, "\(name) differs: \(theirs) vs \(mine ?? "nil") for \(shown)")
        }
    }
}
