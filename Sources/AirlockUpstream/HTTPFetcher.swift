public import AirlockCore
import CCurl
import CFileSync
import Foundation
public import Logging
import Synchronization

import struct Crypto.SHA256

/// A response held in memory: for index pages and metadata files, never for distributions.
public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header names lowercased; the last value wins.
    public let headers: [String: String]
    public let body: [UInt8]
    /// The URL after redirects, against which relative links resolve.
    public let url: String
}

/// A finished download: what was written to the destination file.
/// The status an upstream answered, carried as the cause of an `.upstreamStatus` error.
public struct HTTPStatus: Error, Sendable, Hashable {
    public let code: Int

    /// Worth retrying: server errors (but 501), 408 and 429.
    public var isTransient: Bool { (500..<600).contains(code) && code != 501 || code == 408 || code == 429 }
}

public struct DownloadResult: Sendable {
    public let size: Int64
    public let digest: Digest
}

/// How often and how patiently transient failures (connection errors, truncated bodies,
/// 5xx, 429) are retried.
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var baseDelay: Duration

    public init(attempts: Int = 4, baseDelay: Duration = .milliseconds(250)) {
        self.attempts = attempts
        self.baseDelay = baseDelay
    }
}

/// HTTP over libcurl's multi interface: many transfers in parallel on one thread, connections
/// reused, bodies streamed to disk while hashed, so memory stays flat whatever the file sizes.
///
/// Only `http` and `https` are spoken (libcurl is told so too, for the first request and every
/// redirect); redirects are followed here, not by libcurl, at most `limits.maxRedirects` times and
/// only to the host asked, the upstream's, or `limits.redirectHosts`; every transfer ends within
/// `limits.transferTimeout` and none runs past the fetcher's deadline (`limits.syncTimeout` from
/// its creation: one fetcher serves one sync).
public final class HTTPFetcher: Sendable {
    private let loop: CurlMultiLoop
    private let retry: RetryPolicy
    private let logger: Logger
    private let limits: UpstreamLimits
    private let redirectHosts: Set<String>
    private let deadline: ContinuousClock.Instant
    private let performed = Atomic<Int>(0)
    private let upstream: String?
    private let pacer: RequestPacer?

    /// HTTP requests sent so far, each redirect and retry counted.
    public var requestsPerformed: Int { performed.load(ordering: .relaxed) }

    /// `maxConnectionsPerHost` bounds parallelism toward one upstream; `upstream` is its root URL,
    /// whose host redirects may always lead to, and the one origin `access` sends credentials and
    /// headers to.
    public init(
        maxConnectionsPerHost: Int = 8, upstream: String? = nil, limits: UpstreamLimits = UpstreamLimits(), access: UpstreamAccess = UpstreamAccess(),
        retry: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "airlock.fetch")
    ) {
        self.loop = CurlMultiLoop(maxConnectionsPerHost: maxConnectionsPerHost, access: access)
        self.upstream = upstream
        self.pacer = access.maxRequestsPerSecond.map(RequestPacer.init(perSecond:))
        self.retry = retry
        self.logger = logger
        self.limits = limits
        self.redirectHosts = Set((limits.redirectHosts + [upstream.flatMap(Self.host) ?? ""]).map { $0.lowercased() }.filter { !$0.isEmpty })
        self.deadline = .now + limits.syncTimeout
    }

    deinit { loop.stop() }

    /// Fetches a document into memory. Answers 2xx, 304 and 404 as responses; other statuses throw.
    public func get(_ url: String, headers: [String: String] = [:], maxSize: Int64 = 64 << 20) async throws -> HTTPResponse {
        try await withRetries(url) {
            let outcome = try await self.following(TransferRequest(url: url, headers: headers, maxSize: maxSize, destination: nil, onBytes: nil))
            switch outcome.status {
            case 200..<300, 304, 404, 410:
                return HTTPResponse(status: outcome.status, headers: outcome.headers, body: outcome.body, url: outcome.effectiveURL)
            default:
                throw Self.statusError(url, outcome)
            }
        }
    }

    /// POSTs `body` to `url` once (never retried, redirects not followed) and returns whatever status
    /// the server answers: for an airlock endpoint's own API (`airlock check --server`).
    public func post(_ url: String, body: [UInt8], headers: [String: String] = [:], maxSize: Int64 = 64 << 20) async throws -> HTTPResponse {
        try Self.checkScheme(url, asked: url)
        var request = TransferRequest(url: url, headers: headers, maxSize: maxSize, destination: nil, onBytes: nil)
        request.body = body
        let outcome = try await loop.perform(request, timeout: limits.transferTimeout)
        return HTTPResponse(status: outcome.status, headers: outcome.headers, body: outcome.body, url: outcome.effectiveURL)
    }

    /// Streams `url` into the file at `path` (created or truncated), hashing as it goes.
    public func download(
        _ url: String, to path: String, maxSize: Int64, headers: [String: String] = [:], onBytes: (@Sendable (Int) -> Void)? = nil
    ) async throws -> DownloadResult {
        try await withRetries(url) {
            let outcome = try await self.following(TransferRequest(url: url, headers: headers, maxSize: maxSize, destination: path, onBytes: onBytes))
            guard (200..<300).contains(outcome.status) else { throw Self.statusError(url, outcome) }
            return DownloadResult(size: outcome.received, digest: outcome.digest!)
        }
    }

    /// Performs `request`, following redirects within the limits.
    private func following(_ request: TransferRequest) async throws -> TransferOutcome {
        var request = request
        let askedHost = Self.host(request.url)?.lowercased()
        for _ in 0...limits.maxRedirects {
            try Self.checkScheme(request.url, asked: request.url)
            try await pacer?.wait()
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw AirlockError(.deadline, "the sync's time limit (\(limits.syncTimeout)) ran out before \(request.url) could be fetched")
            }
            performed.add(1, ordering: .relaxed)
            request.onUpstreamOrigin = upstream.map { UpstreamAccess.sameOrigin(request.url, $0) } ?? false
            let outcome = try await loop.perform(request, timeout: min(limits.transferTimeout, remaining))
            guard [301, 302, 303, 307, 308].contains(outcome.status) else { return outcome }
            guard let location = outcome.redirectURL else { return outcome }
            try Self.checkScheme(location, asked: request.url)
            let host = Self.host(location)?.lowercased() ?? ""
            guard host == askedHost || redirectHosts.contains(host) else {
                throw AirlockError(
                    .forbidden,
                    "\(request.url) redirects to \(location), on a host neither the upstream nor its redirect_hosts name; refusing to follow it")
            }
            request = TransferRequest(
                url: location, headers: request.headers, maxSize: request.maxSize, destination: request.destination, onBytes: request.onBytes)
        }
        throw AirlockError(.upstreamStatus, "\(request.url) redirected more than \(limits.maxRedirects) times; refusing to follow further")
    }

    private static func checkScheme(_ url: String, asked: String) throws {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            let what = url == asked ? "\(url)" : "\(asked) redirects to \(url), which"
            throw AirlockError(.forbidden, "\(what) is not an http(s) URL; airlock fetches nothing else from an upstream")
        }
    }

    static func host(_ url: String) -> String? { URL(string: url)?.host }

    private static func statusError(_ url: String, _ outcome: TransferOutcome) -> AirlockError {
        let hint =
            switch outcome.status {
            case 401, 403: " (check the upstream's credentials: username with password_file, token_file or netrc)"
            case 407: " (the proxy wants credentials: put them in the proxy URL)"
            default: ""
            }
        return AirlockError(
            .upstreamStatus, "upstream answered HTTP \(outcome.status) for \(url)\(hint)", underlying: HTTPStatus(code: outcome.status))
    }

    private static func isTransient(_ error: AirlockError) -> Bool {
        if error.code == .network || error.code == .truncated { return true }
        guard let status = error.underlying as? HTTPStatus else { return false }
        return status.isTransient
    }

    private func withRetries<T>(_ url: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as AirlockError where Self.isTransient(error) && attempt < retry.attempts {
                let delay = retry.baseDelay * (1 << (attempt - 1))
                logger.warning(
                    "transient upstream failure, retrying", metadata: ["url": "\(url)", "attempt": "\(attempt)", "error": "\(error.message)"])
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }
}

struct TransferRequest: Sendable {
    let url: String
    let headers: [String: String]
    let maxSize: Int64
    /// A file path to stream into; nil keeps the body in memory.
    let destination: String?
    let onBytes: (@Sendable (Int) -> Void)?
    /// A body to POST (nil: GET).
    var body: [UInt8]? = nil
    /// Whether the URL is on the upstream's origin, so the upstream's credentials and headers go with it.
    var onUpstreamOrigin = false
}

/// Spaces requests toward an upstream at most `1/perSecond` apart, each waiting its turn without
/// holding a thread.
final class RequestPacer: Sendable {
    private let interval: Duration
    private let next = Mutex<ContinuousClock.Instant>(.now)

    init(perSecond: Double) { interval = .nanoseconds(Int64(1e9 / max(perSecond, 0.001))) }

    func wait() async throws {
        let slot = next.withLock { next in
            let slot = max(next, .now)
            next = slot + interval
            return slot
        }
        if slot > .now { try await Task.sleep(until: slot, clock: .continuous) }
    }
}

struct TransferOutcome: Sendable {
    let status: Int
    let headers: [String: String]
    let body: [UInt8]
    let received: Int64
    let digest: Digest?
    let effectiveURL: String
    /// Where a 3xx answer points (absolute), if anywhere.
    let redirectURL: String?
}

/// One transfer's state, touched only by the loop thread while the transfer runs.
final class Transfer: @unchecked Sendable {
    let request: TransferRequest
    let easy: UnsafeMutableRawPointer
    var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    var responseHeaders: [String: String] = [:]
    var body: [UInt8] = []
    var fd: Int32 = -1
    var hasher = SHA256()
    var received: Int64 = 0
    var flushedUpTo: Int64 = 0
    var overflow = false
    var writeErrno: Int32 = 0
    var continuation: CheckedContinuation<TransferOutcome, any Error>?

    init(request: TransferRequest, easy: UnsafeMutableRawPointer) {
        self.request = request
        self.easy = easy
        errorBuffer[0] = 0
    }

    deinit {
        errorBuffer.deallocate()
        if let headerList { curl_slist_free_all(headerList) }
        if fd >= 0 { close(fd) }
        curl_easy_cleanup(easy)
    }

    /// Takes one chunk of body bytes; false aborts the transfer.
    func receive(_ chunk: UnsafeRawBufferPointer) -> Bool {
        received += Int64(chunk.count)
        if received > request.maxSize {
            overflow = true
            return false
        }
        hasher.update(bufferPointer: chunk)
        if fd >= 0 {
            var offset = 0
            while offset < chunk.count {
                let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    writeErrno = errno
                    return false
                }
                offset += n
            }
            startWriteback()
        } else {
            body.append(contentsOf: chunk)
        }
        request.onBytes?(chunk.count)
        return true
    }

    /// Asks the kernel to start writing finished 8 MiB stretches to disk while the download goes on,
    /// so the store's fsync at commit has little left to wait for.
    private func startWriteback() {
        let stretch: Int64 = 8 << 20
        if received - flushedUpTo >= stretch {
            airlock_start_writeback(fd, flushedUpTo, received - flushedUpTo)
            flushedUpTo = received
        }
    }

    func receiveHeader(_ line: String) {
        if line.hasPrefix("HTTP/") {
            responseHeaders = [:]  // a new response (after a redirect or a 100): start over
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        responseHeaders[name] = String(line[line.index(after: colon)...]).trimmingWhitespace()
    }
}

private let writeCallback: airlock_data_callback = { ptr, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    return transfer.receive(UnsafeRawBufferPointer(start: ptr, count: n)) ? n : 0
}

private let headerCallback: airlock_data_callback = { ptr, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    let bytes = UnsafeRawBufferPointer(start: ptr, count: n)
    transfer.receiveHeader(String(decoding: bytes, as: UTF8.self).trimmingWhitespace())
    return n
}

private let curlGlobalInit: Void = {
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
}()

/// The thread that drives a `CURLM` handle: takes new transfers, performs, reports completions.
final class CurlMultiLoop: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let pending = Mutex<[Transfer]>([])
    private let stopped = Atomic<Bool>(false)
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]

    private let access: UpstreamAccess

    init(maxConnectionsPerHost: Int, access: UpstreamAccess) {
        _ = curlGlobalInit
        self.access = access
        multi = curl_multi_init()
        airlock_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        airlock_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnectionsPerHost * 4)
        let thread = Thread { [self] in run() }
        thread.name = "airlock-curl"
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .releasing)
        curl_multi_wakeup(multi)
    }

    func perform(_ request: TransferRequest, timeout: Duration) async throws -> TransferOutcome {
        guard let easy = curl_easy_init() else { throw AirlockError(.network, "libcurl could not create a transfer for \(request.url)") }
        let transfer = Transfer(request: request, easy: easy)
        try configure(transfer)
        let (seconds, attoseconds) = timeout.components
        airlock_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)))
        return try await withCheckedThrowingContinuation { continuation in
            transfer.continuation = continuation
            pending.withLock { $0.append(transfer) }
            curl_multi_wakeup(multi)
        }
    }

    private func configure(_ t: Transfer) throws {
        let h = t.easy
        let r = t.request
        airlock_easy_setopt_string(h, CURLOPT_URL, r.url)
        airlock_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        // Redirects are followed by HTTPFetcher, which checks each one; libcurl speaks HTTP(S) only.
        airlock_easy_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        airlock_easy_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        airlock_easy_setopt_string(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        airlock_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT, 30)
        airlock_easy_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1)
        airlock_easy_setopt_long(h, CURLOPT_LOW_SPEED_TIME, 60)
        airlock_easy_setopt_string(h, CURLOPT_USERAGENT, r.headers["User-Agent"] ?? "airlock/0.1 (+libcurl)")
        airlock_easy_setopt_off(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(r.maxSize))
        airlock_easy_setopt_pointer(h, CURLOPT_ERRORBUFFER, t.errorBuffer)
        if r.destination == nil {
            // Index pages may be compressed in transit; distribution bytes must arrive as published.
            airlock_easy_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")
        }
        var headers = r.headers.filter { $0.key != "User-Agent" }
        if r.onUpstreamOrigin {
            headers.merge(access.headers) { mine, _ in mine }
            if let authorization = access.credentials?.authorization { headers["Authorization"] = authorization }
        }
        for (name, value) in headers {
            t.headerList = curl_slist_append(t.headerList, "\(name): \(value)")
        }
        if let proxy = access.proxy {
            airlock_easy_setopt_string(h, CURLOPT_PROXY, proxy)
            airlock_easy_setopt_string(h, CURLOPT_NOPROXY, access.noProxy ?? "")
        }
        if let ca = access.caBundle { airlock_easy_setopt_string(h, CURLOPT_CAINFO, ca) }
        if let certificate = access.clientCertificate { airlock_easy_setopt_string(h, CURLOPT_SSLCERT, certificate) }
        if let key = access.clientKey { airlock_easy_setopt_string(h, CURLOPT_SSLKEY, key) }
        if r.onUpstreamOrigin, case .netrc(let file) = access.credentials {
            airlock_easy_setopt_long(h, CURLOPT_NETRC, Int(CURL_NETRC_OPTIONAL.rawValue))
            if let file { airlock_easy_setopt_string(h, CURLOPT_NETRC_FILE, file) }
        }
        if let list = t.headerList { airlock_easy_setopt_slist(h, CURLOPT_HTTPHEADER, list) }
        if let body = r.body {
            airlock_easy_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBytes { airlock_easy_setopt_pointer(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }  // copied now
        }
        let me = Unmanaged.passUnretained(t).toOpaque()
        airlock_easy_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, writeCallback)
        airlock_easy_setopt_pointer(h, CURLOPT_WRITEDATA, me)
        airlock_easy_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, headerCallback)
        airlock_easy_setopt_pointer(h, CURLOPT_HEADERDATA, me)
        if let path = r.destination {
            t.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard t.fd >= 0 else {
                throw AirlockError(.storage, "cannot open \(path) for writing: \(String(cString: strerror(errno)))")
            }
            airlock_easy_setopt_long(h, CURLOPT_FAILONERROR, 1)
        }
    }

    private func run() {
        while !stopped.load(ordering: .acquiring) {
            for t in pending.withLock({ p -> [Transfer] in
                defer { p = [] }
                return p
            }) {
                active[t.easy] = t
                curl_multi_add_handle(multi, t.easy)
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle, let t = active.removeValue(forKey: easy) else { continue }
                let code = msg.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                finish(t, code)
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func finish(_ t: Transfer, _ code: CURLcode) {
        var status = 0
        airlock_easy_getinfo_long(t.easy, CURLINFO_RESPONSE_CODE, &status)
        var urlPointer: UnsafeMutableRawPointer?
        airlock_easy_getinfo_pointer(t.easy, CURLINFO_EFFECTIVE_URL, &urlPointer)
        let effective = urlPointer.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? t.request.url
        var redirectPointer: UnsafeMutableRawPointer?
        airlock_easy_getinfo_pointer(t.easy, CURLINFO_REDIRECT_URL, &redirectPointer)
        let redirect = redirectPointer.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) }
        let url = t.request.url
        let result: Result<TransferOutcome, any Error>
        if t.overflow || code == CURLE_FILESIZE_EXCEEDED {
            result = .failure(AirlockError(.tooLarge, "\(url) is larger than the \(t.request.maxSize)-byte limit; refusing it"))
        } else if t.writeErrno != 0 {
            result = .failure(
                AirlockError(.storage, "writing \(url) to \(t.request.destination ?? "memory") failed: \(String(cString: strerror(t.writeErrno)))"))
        } else if code == CURLE_OPERATION_TIMEDOUT {
            result = .failure(AirlockError(.timeLimit, "fetching \(url) took longer than its time limit; received \(t.received) bytes"))
        } else if code == CURLE_PARTIAL_FILE {
            let expected = t.responseHeaders["content-length"] ?? "?"
            result = .failure(AirlockError(.truncated, "truncated download of \(url): received \(t.received) of \(expected) bytes"))
        } else if code == CURLE_HTTP_RETURNED_ERROR {
            result = .success(
                TransferOutcome(
                    status: status, headers: t.responseHeaders, body: [], received: 0, digest: nil, effectiveURL: effective, redirectURL: nil))
        } else if code != CURLE_OK {
            let detail = String(cString: t.errorBuffer)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            result = .failure(AirlockError(.network, "fetching \(url) failed: \(text) (curl code \(code.rawValue))"))
        } else {
            let digest = Digest(t.hasher.finalize())
            result = .success(
                TransferOutcome(
                    status: status, headers: t.responseHeaders, body: t.body, received: t.received, digest: digest, effectiveURL: effective,
                    redirectURL: redirect))
        }
        let continuation = t.continuation
        t.continuation = nil
        continuation?.resume(with: result)
    }
}
