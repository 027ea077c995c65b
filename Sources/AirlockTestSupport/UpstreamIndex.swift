import Foundation

/// A package index on 127.0.0.1 serving a directory the test fills: the fixture server (JSON or
/// HTML-only, with injectable faults) or a real pypiserver.
public final class UpstreamIndex: @unchecked Sendable {
    public enum Kind: Sendable {
        /// PEP 691 JSON + HTML, PEP 658 metadata, PyPI JSON API, ETags.
        case json
        /// PEP 503 HTML only.
        case html
        /// A real pypiserver (HTML only).
        case pypiserver
    }

    public let directory: String
    public let port: Int
    private let process: RunningProcess
    private let scheme: String

    /// `tls` (certificate and key) serves HTTPS; `basicAuth` (`user:password`) makes it a private index.
    public init(serving directory: String, kind: Kind, logDirectory: String, tls: (certificate: String, key: String)? = nil, basicAuth: String? = nil)
        throws
    {
        self.directory = directory
        scheme = tls == nil ? "http" : "https"
        switch kind {
        case .json, .html:
            let options = (tls.map { ["--tls", $0.certificate, $0.key] } ?? []) + (basicAuth.map { ["--basic-auth", $0] } ?? [])
            process = try RunningProcess(
                FixtureScripts.python, [FixtureScripts.path("upstream"), directory, "--mode", kind == .json ? "json" : "html"] + options,
                logPath: logDirectory + "/upstream.log")
            port = Int(try process.waitForLine(matching: #"listening (\d+)"#))!
        case .pypiserver:
            let port = try Self.freePort()
            process = try RunningProcess(
                FixtureScripts.python,
                ["-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", String(port), "-a", ".", "-P", ".", "--disable-fallback", directory],
                logPath: logDirectory + "/pypiserver.log")
            self.port = port
            try Self.waitUntilServing("http://127.0.0.1:\(port)/simple/", process: process)
        }
    }

    public var simpleURL: String { "\(scheme)://127.0.0.1:\(port)/simple/" }

    /// Replaces the injected faults (see upstream.py).
    public func setFaults(_ json: String) throws {
        try json.write(toFile: directory + "/faults.json", atomically: true, encoding: .utf8)
    }

    /// Requests per path the fixture server has answered (and `header:X-Name` counts).
    public func requestCounts() throws -> [String: Int] {
        let stats = try httpGet("\(scheme)://127.0.0.1:\(port)/_stats", insecure: scheme == "https")
        return try JSONDecoder().decode([String: Int].self, from: Data(stats.body.utf8))
    }

    public func stop() { process.stop() }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw TestSupportError("could not find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func waitUntilServing(_ url: String, process: RunningProcess, timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let r = try? Subprocess.run("/usr/bin/curl", ["-sf", "-o", "/dev/null", url]), r.succeeded { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw TestSupportError("\(url) did not answer within \(timeout) s; log:\n\(process.log)")
    }
}

/// An HTTP proxy on 127.0.0.1 (CONNECT tunnels and plain forwarding, to 127.0.0.1 only) that logs
/// each request it carries (see proxy.py).
public final class TestProxy: Sendable {
    public let port: Int
    private let process: RunningProcess

    public init(logDirectory: String) throws {
        process = try RunningProcess(FixtureScripts.python, [FixtureScripts.path("proxy")], logPath: logDirectory + "/proxy.log")
        port = Int(try process.waitForLine(matching: #"listening (\d+)"#))!
    }

    public var url: String { "http://127.0.0.1:\(port)" }
    /// The requests carried so far, one line each (`CONNECT 127.0.0.1:PORT`, `GET http://…`).
    public var requests: [String] { process.log.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("listening") } }

    public func stop() { process.stop() }
}
