public import AirlockCore
import Foundation
import Synchronization

/// A response kept for conditional requests: the validators and the body they validate.
public struct CachedResponse: Sendable {
    public var etag: String?
    public var lastModified: String?
    public var contentType: String?
    public var url: String
    public var body: [UInt8]
    /// PyPI's serial of the project the body describes: while the project's serial is unchanged, so is
    /// the body, and it is used without asking.
    public var serial: Int?

    public init(etag: String?, lastModified: String?, contentType: String?, url: String, body: [UInt8], serial: Int? = nil) {
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.url = url
        self.body = body
        self.serial = serial
    }
}

/// Remembers index responses between syncs, so an unchanged project costs one 304 (or, where the
/// upstream gives PyPI serials, nothing beyond its project page).
public protocol ResponseCache: Sendable {
    func cachedResponse(for url: String) async throws -> CachedResponse?
    func storeResponse(_ response: CachedResponse, for url: String) async throws
}

/// What the PyPI resolver reads from an upstream: project pages and PEP 658 metadata files.
public protocol PyPIIndexReader: Sendable {
    /// Where the simple index lives, for messages.
    var simpleRoot: String { get }
    /// The project's files, or nil when the upstream does not know the project.
    func project(_ name: ProjectName) async throws -> ProjectIndex?
    /// The PEP 658 metadata file of a wheel the index says has one.
    func coreMetadata(for file: UpstreamFile) async throws -> [UInt8]
}

/// Reads a PyPI-style upstream: the simple API (JSON, or HTML when that is all it speaks), PEP 658
/// metadata files, and the PyPI JSON API (`/pypi/{project}/json`) when the upstream has one.
public final class PyPIUpstream: PyPIIndexReader {
    public let simpleRoot: String
    private let fetcher: HTTPFetcher
    private let cache: (any ResponseCache)?
    private let jsonAPIRoot: String?
    private let jsonAPIMissing = Atomic<Bool>(false)
    private let counters = Mutex<(requests: Int, notModified: Int, unchangedSerial: Int)>((0, 0, 0))

    /// `url` is the simple index root, such as `https://pypi.org/simple/`.
    public init(url: String, fetcher: HTTPFetcher, cache: (any ResponseCache)? = nil) throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https", "file"].contains(scheme) else {
            throw AirlockError(
                .invalidArgument, "invalid --upstream '\(url)': expected an http(s) URL of a simple index, such as https://pypi.org/simple/")
        }
        let root = url.hasSuffix("/") ? url : url + "/"
        self.simpleRoot = root
        self.fetcher = fetcher
        self.cache = cache
        self.jsonAPIRoot = root.hasSuffix("/simple/") ? String(root.dropLast("simple/".count)) + "pypi/" : nil
    }

    /// Index requests made, how many the upstream answered 304 Not Modified, and how many documents
    /// were not asked for at all because the project's serial had not changed.
    public var requestCounts: (requests: Int, notModified: Int, unchangedSerial: Int) { counters.withLock { $0 } }

    /// The project's files, or nil when the upstream does not know the project.
    public func project(_ name: ProjectName) async throws -> ProjectIndex? {
        let pageURL = simpleRoot + name.normalized + "/"
        guard let response = try await conditionalGet(pageURL, accept: SimpleIndexParser.accept) else { return nil }
        let page = try SimpleIndexParser.parse(response.body, contentType: response.contentType, url: response.url, project: name)
        var files = page.files
        var people: ProjectPeople?
        let untimed = Set(files.filter { $0.uploadTime == nil }.map(\.filename))
        if let api = try await jsonAPI(name, serial: response.serial ?? page.serial, timesOf: untimed) {
            people = api.people
            for i in files.indices where files[i].uploadTime == nil {
                files[i].uploadTime = api.uploadTimes[files[i].filename]
            }
        }
        return ProjectIndex(
            name: name, files: files, people: people, serial: response.serial ?? page.serial,
            upstream: UpstreamProject(
                name: name.normalized, pageURL: UpstreamAccess.strippingCredentials(from: pageURL).url, status: page.status ?? .active))
    }

    /// Fetches a file's PEP 658 metadata and checks it against the declared digest.
    public func coreMetadata(for file: UpstreamFile) async throws -> [UInt8] {
        let url = file.url + ".metadata"
        let response = try await fetcher.get(url, maxSize: 16 << 20)
        guard response.status == 200 else {
            throw AirlockError(
                .upstreamStatus, "upstream advertised core metadata for \(file.filename) but answered HTTP \(response.status) for \(url)")
        }
        if let expected = file.coreMetadataSHA256 {
            let actual = Digest.of(response.body)
            guard actual == expected else {
                throw AirlockError(.hashMismatch, "core metadata of \(file.filename) from \(url): expected sha256 \(expected.hex), got \(actual.hex)")
            }
        }
        return response.body
    }

    /// What airlock reads of a PyPI JSON API document: the project's people, each file's upload time,
    /// and the serial. The cache keeps the people and the times the project page lacked, in the same
    /// shape (a JSON API document can be megabytes), so a 304 or an unchanged serial reads back through
    /// `init(parsing:url:)`: the same serial means the same page, lacking the same times.
    private struct JSONAPIFacts: Encodable {
        let info: [String: String]
        var releases: [String: [[String: String]]]
        let last_serial: Int?

        /// These facts with only the upload times of `filenames`.
        func keeping(_ filenames: Set<String>) -> JSONAPIFacts {
            var kept = self
            kept.releases = ["": releases.values.joined().filter { $0["filename"].map(filenames.contains) ?? false }]
            return kept
        }

        init(parsing body: [UInt8], url: String) throws {
            let document: JSONValue
            do {
                document = try JSONValue(parsing: body)
            } catch {
                throw AirlockError(.malformedIndex, "malformed PyPI JSON API document at \(url): \(error)")
            }
            guard case .object(let info)? = document["info"] else {
                throw AirlockError(.malformedIndex, "malformed PyPI JSON API document at \(url): expected an object at .info")
            }
            var people: [String: String] = [:]
            for (key, value) in info where ["author", "author_email", "maintainer", "maintainer_email"].contains(key) {
                if let text = value.string { people[key] = text }
            }
            var files: [[String: String]] = []
            if case .object(let releases)? = document["releases"] {
                for case (_, .array(let entries)) in releases {
                    for entry in entries {
                        guard let filename = entry["filename"]?.string else { continue }
                        if let time = entry["upload_time_iso_8601"]?.string ?? entry["upload_time"]?.string {
                            files.append(["filename": filename, "upload_time_iso_8601": time])
                        }
                    }
                }
            }
            self.info = people
            self.releases = ["": files]
            self.last_serial = document["last_serial"].flatMap(SimpleIndexParser.serial)
        }

        var people: ProjectPeople {
            func field(_ key: String) -> String? {
                guard let s = info[key], !s.isEmpty, s != "UNKNOWN" else { return nil }
                return s
            }
            return ProjectPeople(
                author: field("author"), authorEmail: field("author_email"), maintainer: field("maintainer"),
                maintainerEmail: field("maintainer_email"))
        }

        /// The upload times of the files named (only those: a project can have thousands of files).
        func uploadTimes(of filenames: Set<String>) -> [String: Date] {
            guard !filenames.isEmpty else { return [:] }
            var times: [String: Date] = [:]
            for file in releases.values.joined() {
                if let name = file["filename"], filenames.contains(name), let t = file["upload_time_iso_8601"].flatMap(Timestamp.parse) {
                    times[name] = t
                }
            }
            return times
        }
    }

    /// The project's people, and the upload times of `filenames`, from the PyPI JSON API. When the
    /// project page gave a serial and the cached facts have the same one, they are used without a request.
    private func jsonAPI(_ name: ProjectName, serial: Int?, timesOf filenames: Set<String>) async throws -> (
        people: ProjectPeople, uploadTimes: [String: Date]
    )? {
        guard let root = jsonAPIRoot, !jsonAPIMissing.load(ordering: .relaxed) else { return nil }
        let url = root + name.normalized + "/json"
        if let serial, let cached = try await cache?.cachedResponse(for: url), cached.serial == serial,
            let kept = try? JSONAPIFacts(parsing: cached.body, url: url)
        {
            counters.withLock { $0.unchangedSerial += 1 }
            return (kept.people, kept.uploadTimes(of: filenames))
        }
        guard let page = try await conditionalGet(url, accept: "application/json", keep: false) else {
            // An upstream without the JSON API answers 404 for every project: stop asking.
            jsonAPIMissing.store(true, ordering: .relaxed)
            return nil
        }
        let facts = try JSONAPIFacts(parsing: page.body, url: url)
        if facts.last_serial != nil || page.etag != nil || page.lastModified != nil {
            var kept = page
            // Under a serial only the times this page lacks are kept (the same serial, the same page);
            // without one, a 304 must still answer for a page that may have changed: all are kept.
            kept.body = try Array(JSONEncoder().encode(serial != nil ? facts.keeping(filenames) : facts))
            kept.serial = facts.last_serial
            try await cache?.storeResponse(kept, for: url)
        }
        return (facts.people, facts.uploadTimes(of: filenames))
    }

    /// GET with If-None-Match/If-Modified-Since from the cache; nil on 404/410. A fresh response with
    /// validators is cached unless `keep` is false (the caller keeps its own form of it).
    private func conditionalGet(_ url: String, accept: String, keep: Bool = true) async throws -> CachedResponse? {
        var headers = ["Accept": accept]
        let cached = try await cache?.cachedResponse(for: url)
        if let etag = cached?.etag { headers["If-None-Match"] = etag }
        if let lastModified = cached?.lastModified { headers["If-Modified-Since"] = lastModified }
        let response = try await fetcher.get(url, headers: headers)
        counters.withLock { $0.requests += 1 }
        switch response.status {
        case 304:
            counters.withLock { $0.notModified += 1 }
            guard let cached else {
                throw AirlockError(.upstreamStatus, "upstream answered 304 Not Modified for \(url) to an unconditional request")
            }
            return cached
        case 404, 410:
            return nil
        default:
            let fresh = CachedResponse(
                etag: response.headers["etag"], lastModified: response.headers["last-modified"],
                contentType: response.headers["content-type"], url: response.url, body: response.body,
                serial: response.headers["x-pypi-last-serial"].flatMap { Int($0) })
            if keep && (fresh.etag != nil || fresh.lastModified != nil) { try await cache?.storeResponse(fresh, for: url) }
            return fresh
        }
    }
}
