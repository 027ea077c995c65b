import AirlockCatalog
import AirlockCore
import AirlockPublish
import AirlockStore
import AirlockTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import AirlockServer

/// The `DirectResponder`, which answers pages and files on the event loop below Hummingbird: over a
/// real socket, with a served 8 MiB wheel whose bytes are in the store.
@Suite struct DirectPathTests {
    struct Served {
        let fixture: CatalogFixture
        let endpoint: Endpoint
        let bytes: [UInt8]
        let digest: Digest
        var url: String { "/files/sha256/\(digest.hex)/big-1.0-py3-none-any.whl" }
    }

    static func served() async throws -> Served {
        let fixture = try await CatalogFixture(onDisk: true)
        let store = try FileSystemBlobStore(root: fixture.directory.path + "/blobs")
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(8 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let digest = try store.put(bytes)
        let file = Distribution(
            ecosystem: .pypi, project: ProjectName("big"), version: "1.0", filename: "big-1.0-py3-none-any.whl", kind: .wheel, digest: digest,
            size: Int64(bytes.count))
        let release = ReleaseRecord(
            project: ProjectName("big"), people: nil, version: "1.0", requiresDist: [], files: [(file, "http://127.0.0.1/big-1.0-py3-none-any.whl")],
            decision: Decision(verdict: .approve, score: 100, factors: [], policyDigest: "test"),
            facts: DecisionFacts(
                firstUpload: nil, lastUpload: nil, releaseCount: 1, licenseExpression: "MIT", licenseDeclared: "MIT", selectedBy: "test"))
        try await fixture.sync([release])
        let endpoint = Endpoint(
            catalog: fixture.catalog, store: store, logger: Logger(label: "test"), options: EndpointOptions(dataDirectory: fixture.directory.path))
        return Served(fixture: fixture, endpoint: endpoint, bytes: bytes, digest: digest)
    }

    /// Range, If-None-Match, HEAD and a client that leaves mid-file, from a raw socket (Python), so
    /// every byte on the wire is checked; then pipelined requests answered in order.
    static let probe = #"""
        import hashlib, socket, sys, time
        port, url, digest, size = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])

        def request(sock, method, path, headers=""):
            sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())

        def response(sock, method="GET"):
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk: raise SystemExit(f"closed before a head: {data!r}")
                data += chunk
            head, rest = data.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            status = int(lines[0].split(" ")[1])
            fields = {k.lower(): v for k, v in (l.split(": ", 1) for l in lines[1:])}
            length = 0 if method == "HEAD" or status == 304 else int(fields.get("content-length", "0"))
            while len(rest) < length:
                chunk = sock.recv(1 << 20)
                if not chunk: raise SystemExit(f"closed after {len(rest)} of {length} body bytes")
                rest += chunk
            return status, fields, rest[:length], rest[length:]

        def one(method, path, headers=""):
            with socket.create_connection(("127.0.0.1", port)) as s:
                request(s, method, path, headers)
                status, fields, body, extra = response(s, method)
                assert not extra, f"bytes after the body: {extra[:40]!r}"
                return status, fields, body

        status, f, body = one("GET", url)
        print("get", status, f["content-length"], hashlib.sha256(body).hexdigest() == digest, f["etag"], f["cache-control"], f["accept-ranges"])
        status, f, body = one("HEAD", url)
        print("head", status, f["content-length"], len(body), f["etag"])
        status, f, body = one("GET", url, f'If-None-Match: "{digest}"\r\n')
        print("etag", status, len(body), f.get("etag"))
        status, f, body = one("GET", url, "Range: bytes=1000-1999\r\n")
        print("range", status, f["content-range"], f["content-length"], hashlib.sha256(body).hexdigest())
        status, f, body = one("GET", url, "Range: bytes=-10\r\n")
        print("suffix", status, f["content-range"], body.hex())
        status, f, body = one("GET", url, f"Range: bytes={size - 5}-\r\n")
        print("open", status, f["content-range"], body.hex())
        status, f, body = one("GET", url, f"Range: bytes={size}-\r\n")
        print("unsatisfiable", status, f["content-range"], len(body))
        status, f, body = one("GET", url, "Range: bytes=0-1,5-6\r\n")
        print("multi", status, f["content-range"])
        status, f, body = one("HEAD", url, "Range: bytes=0-99\r\n")
        print("headrange", status, f["content-range"], f["content-length"], len(body))

        # A client that reads 64 KiB of the file, then leaves.
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096); s.connect(("127.0.0.1", port))
        request(s, "GET", url)
        got = 0
        while got < 65536: got += len(s.recv(65536))
        s.close()
        print("left", got >= 65536)

        # Two requests in one write on one connection: answered in order, each whole.
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(f"GET {url} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\nGET /simple/big/ HTTP/1.1\r\nHost: x\r\n\r\nGET /simple/nope/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            first = response(s); s2 = socket.socket()
            print("pipelined", first[0], len(first[2]))
            rest = first[3]
            class Replay:
                def __init__(self, buffered, sock): self.buffered, self.sock = buffered, sock
                def recv(self, n):
                    if self.buffered: b, self.buffered = self.buffered, b""; return b
                    return self.sock.recv(n)
            r = Replay(rest, s)
            second = response(r); r.buffered = second[3]
            third = response(r)
            print("pipelined", second[0], b"big-1.0-py3-none-any.whl" in second[2], third[0], b"not approved" in third[2])
        """#

    @Test func rangesValidatorsHeadDisconnectsAndPipelining() async throws {
        let s = try await Self.served()
        let digest = s.digest.hex
        let output = try await s.endpoint.application(host: "127.0.0.1", port: 0).testApart(.live) { client in
            let out = try await Subprocess.runOffPool(
                FixtureScripts.python, ["-c", Self.probe, String(client.port!), s.url, digest, String(s.bytes.count)]
            ).output
            // The connection that left gave its file handle back.
            let deadline = Date().addingTimeInterval(10)
            while s.endpoint.openBlobs.inUse > 0, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            return out + "in use after: \(s.endpoint.openBlobs.inUse)\n"
        }
        let lines = Dictionary(
            output.split(separator: "\n").map { ($0.split(separator: " ").first.map(String.init) ?? "", String($0)) },
            uniquingKeysWith: { $0 + " | " + $1 })
        let size = s.bytes.count
        #expect(lines["get"] == "get 200 \(size) True \"\(digest)\" public, max-age=31536000, immutable bytes", "\(output)")
        #expect(lines["head"] == "head 200 \(size) 0 \"\(digest)\"", "\(output)")
        #expect(lines["etag"] == "etag 304 0 \"\(digest)\"", "\(output)")
        let slice = Digest.of(Array(s.bytes[1000..<2000])).hex
        #expect(lines["range"] == "range 206 bytes 1000-1999/\(size) 1000 \(slice)", "\(output)")
        let hex = { (bytes: ArraySlice<UInt8>) in bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(lines["suffix"] == "suffix 206 bytes \(size - 10)-\(size - 1)/\(size) \(hex(s.bytes[(size - 10)...]))", "\(output)")
        #expect(lines["open"] == "open 206 bytes \(size - 5)-\(size - 1)/\(size) \(hex(s.bytes[(size - 5)...]))", "\(output)")
        #expect(lines["unsatisfiable"] == "unsatisfiable 416 bytes */\(size) 0", "\(output)")
        #expect(lines["multi"] == "multi 416 bytes */\(size)", "\(output)")
        #expect(lines["headrange"] == "headrange 206 bytes 0-99/\(size) 100 0", "\(output)")
        #expect(lines["left"] == "left True", "\(output)")
        #expect(lines["pipelined"] == "pipelined 206 10 | pipelined 200 True 404 True", "\(output)")
        #expect(output.contains("in use after: 0"), "\(output)")
    }

    /// Eight clients on keep-alive connections fetch the same blob four times each, at once, over every
    /// event loop: each download gets every byte (a handle shared between loops failed some of them).
    @Test func concurrentDownloadsOfOneBlobEachGetEveryByte() async throws {
        let s = try await Self.served()
        let script = #"""
            import hashlib, http.client, sys, threading
            port, url, digest = int(sys.argv[1]), sys.argv[2], sys.argv[3]
            results = []
            def fetch():
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                for _ in range(4):
                    try:
                        c.request("GET", url)
                        r = c.getresponse()
                        body = r.read()
                        results.append(r.status == 200 and hashlib.sha256(body).hexdigest() == digest)
                    except Exception as e:
                        results.append(False); print("failed:", repr(e)); c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            threads = [threading.Thread(target=fetch) for _ in range(8)]
            for t in threads: t.start()
            for t in threads: t.join()
            print("complete", sum(results), "of", len(results))
            """#
        let output = try await s.endpoint.application(host: "127.0.0.1", port: 0).testApart(.live) { client in
            try await Subprocess.runOffPool(FixtureScripts.python, ["-c", script, String(client.port!), s.url, s.digest.hex]).output
        }
        #expect(output.contains("complete 32 of 32"), "\(output)")
        #expect(s.endpoint.openBlobs.inUse == 0)
        #expect(s.endpoint.openBlobs.idle <= s.endpoint.openBlobs.idleCapacity)
    }

    /// Each lease is its download's own handle; a handle given back serves the next download of that
    /// blob; idle handles beyond the capacity are closed, the least recently given back first.
    @Test func openBlobsLendEachDownloadItsOwnHandleAndKeepFewIdle() async throws {
        let s = try await Self.served()
        let pathOnDisk = try FileSystemBlobStore(root: s.fixture.directory.path + "/blobs").path(for: s.digest)
        let blobs = OpenBlobs(idleCapacity: 1)
        let first = try #require(blobs.open(s.digest, path: pathOnDisk))
        let second = try #require(blobs.open(s.digest, path: pathOnDisk))
        #expect(first.handle !== second.handle)
        #expect(first.size == Int64(s.bytes.count))
        #expect(blobs.inUse == 2)
        blobs.release(first)
        let third = try #require(blobs.open(s.digest, path: pathOnDisk))
        #expect(third.handle === first.handle, "a handle given back is used again")
        blobs.release(second)
        blobs.release(third)
        #expect(blobs.inUse == 0)
        #expect(blobs.idle == 1)
        #expect(throws: (any Error).self) { try second.handle.withUnsafeFileDescriptor { _ in } }  // the older one was closed
        let idle = try #require(blobs.open(s.digest, path: pathOnDisk + ".missing"), "an idle handle is found by digest")
        blobs.release(idle)
        #expect(blobs.open(Digest.of([1, 2, 3]), path: pathOnDisk + ".missing") == nil)
    }

    /// The direct path and the router give the same answers: status, the headers clients act on, body.
    @Test func answersMatchTheRouters() async throws {
        let s = try await Self.served()
        let requests: [(String, HTTPFields)] = [
            ("/simple/big/", [:]), ("/simple/big/", [.accept: "application/vnd.pypi.simple.v1+json"]),
            ("/pypi/1/simple/big/", [.accept: "application/vnd.pypi.simple.v1+html"]), ("/simple/", [:]),
            ("/simple/big/", [.ifNoneMatch: "\"s1-legacyHTML\""]), (s.url, [.range: "bytes=5-9"]), (s.url, [.ifNoneMatch: "\"\(s.digest.hex)\""]),
            (s.url + ".metadata", [:]), ("/simple/Big/", [:]), ("/simple/big", [:]), ("/simple/nope/", [:]), ("/pypi/99/simple/big/", [:]),
            ("/simple/big/", [.accept: "image/png"]),
        ]
        let names: [HTTPField.Name] = [.contentType, .eTag, .contentLength, .contentRange, .cacheControl, .location, .vary, .xContentTypeOptions]
        @Sendable func answers(_ client: any TestClientProtocol) async throws -> [String] {
            var out: [String] = []
            for (path, headers) in requests {
                for method in [HTTPRequest.Method.get, .head] {
                    let r = try await client.execute(uri: path, method: method, headers: headers)
                    // Hummingbird adds `Content-Length: 0` to a 304, which RFC 9110 (8.6) forbids unless it is the
                    // length a 200 would have; the direct path sends none.
                    let compared = r.status == .notModified ? names.filter { $0 != .contentLength } : names
                    let fields = compared.map { "\($0)=\(r.headers[$0] ?? "-")" }.joined(separator: " ")
                    out.append("\(method) \(path) \(headers): \(r.status.code) \(fields) body \(Digest.of(Array(buffer: r.body)).hex)")
                }
            }
            return out
        }
        let app = try s.endpoint.application(host: "127.0.0.1", port: 0)
        let viaRouter = try await app.testApart(.router) { try await answers($0) }
        let live = try await s.endpoint.application(host: "127.0.0.1", port: 0).testApart(.live) { try await answers($0) }
        #expect(viaRouter.count == live.count)
        for (a, b) in zip(viaRouter, live) { #expect(a == b) }
    }
}
