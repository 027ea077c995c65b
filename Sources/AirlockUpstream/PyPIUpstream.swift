import Foundation
import Synchronization
public import AirlockCore

/// A response kept for conditional requests: the validators and the body they validate.
public struct CachedResponse: Sendable {
    public var etag: String?
    public var lastModified: String?
    public var contentType: String?
    public var url: String
    public var body: [UInt8]

    public init(etag: String?, lastModified: String?, contentType: String?, url: String, body: [UInt8]) {
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.url = url
        self.body = body
    }
}

/// Remembers index responses between syncs, so an unchanged project costs one 304.
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
    private let counters = Mutex<(requests: Int, notModified: Int)>((0, 0))

    /// `url` is the simple index root, such as `https://pypi.org/simple/`.
    public init(url: String, fetcher: HTTPFetcher, cache: (any ResponseCache)? = nil) throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https", "file"].contains(scheme) else {
            throw AirlockError(.invalidArgument, "invalid --upstream '\(url)': expected an http(s) URL of a simple index, such as https://pypi.org/simple/")
        }
        let root = url.hasSuffix("/") ? url : url + "/"
        self.simpleRoot = root
        self.fetcher = fetcher
        self.cache = cache
        self.jsonAPIRoot = root.hasSuffix("/simple/") ? String(root.dropLast("simple/".count)) + "pypi/" : nil
    }

    /// Index requests made and how many of them the upstream answered 304 Not Modified.
    public var requestCounts: (requests: Int, notModified: Int) { counters.withLock { $0 } }

    /// The project's files, or nil when the upstream does not know the project.
    public func project(_ name: ProjectName) async throws -> ProjectIndex? {
        let pageURL = simpleRoot + name.normalized + "/"
        guard let page = try await conditionalGet(pageURL, accept: SimpleIndexParser.accept) else { return nil }
        var files = try SimpleIndexParser.parse(page.body, contentType: page.contentType, url: page.url, project: name)
        var people: ProjectPeople?
        if let api = try await jsonAPI(name) {
            people = api.people
            for i in files.indices where files[i].uploadTime == nil {
                files[i].uploadTime = api.uploadTimes[files[i].filename]
            }
        }
        return ProjectIndex(name: name, files: files, people: people)
    }

    /// Fetches a file's PEP 658 metadata and checks it against the declared digest.
    public func coreMetadata(for file: UpstreamFile) async throws -> [UInt8] {
        let url = file.url + ".metadata"
        let response = try await fetcher.get(url, maxSize: 16 << 20)
        guard response.status == 200 else {
            throw AirlockError(.upstreamStatus, "upstream advertised core metadata for \(file.filename) but answered HTTP \(response.status) for \(url)")
        }
        if let expected = file.coreMetadataSHA256 {
            let actual = Digest.of(response.body)
            guard actual == expected else {
                throw AirlockError(.hashMismatch, "core metadata of \(file.filename) from \(url): expected sha256 \(expected.hex), got \(actual.hex)")
            }
        }
        return response.body
    }

    private struct JSONAPIProject: Decodable {
        struct Info: Decodable {
            let author: String?
            let author_email: String?
            let maintainer: String?
            let maintainer_email: String?
        }
        struct File: Decodable {
            let filename: String
            let upload_time_iso_8601: String?
            let upload_time: String?
        }
        let info: Info
        let releases: [String: [File]]?
    }

    private func jsonAPI(_ name: ProjectName) async throws -> (people: ProjectPeople, uploadTimes: [String: Date])? {
        guard let root = jsonAPIRoot, !jsonAPIMissing.load(ordering: .relaxed) else { return nil }
        let url = root + name.normalized + "/json"
        guard let page = try await conditionalGet(url, accept: "application/json") else {
            // An upstream without the JSON API answers 404 for every project: stop asking.
            jsonAPIMissing.store(true, ordering: .relaxed)
            return nil
        }
        guard let decoded = try? JSONDecoder().decode(JSONAPIProject.self, from: Data(page.body)) else {
            throw AirlockError(.malformedIndex, "malformed PyPI JSON API document at \(url)")
        }
        let i = decoded.info
        let people = ProjectPeople(author: nonEmpty(i.author), authorEmail: nonEmpty(i.author_email), maintainer: nonEmpty(i.maintainer), maintainerEmail: nonEmpty(i.maintainer_email))
        var times: [String: Date] = [:]
        for file in (decoded.releases ?? [:]).values.joined() {
            if let t = (file.upload_time_iso_8601 ?? file.upload_time).flatMap(Timestamp.parse) { times[file.filename] = t }
        }
        return (people, times)
    }

    private func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty, s != "UNKNOWN" else { return nil }
        return s
    }

    /// GET with If-None-Match/If-Modified-Since from the cache; nil on 404/410.
    private func conditionalGet(_ url: String, accept: String) async throws -> CachedResponse? {
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
                contentType: response.headers["content-type"], url: response.url, body: response.body)
            if fresh.etag != nil || fresh.lastModified != nil { try await cache?.storeResponse(fresh, for: url) }
            return fresh
        }
    }
}
