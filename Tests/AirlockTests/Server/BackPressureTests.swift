import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// A client that pipelines requests and never reads the answers cannot grow `serve`'s memory: the
/// endpoint answers only while the connection can take more output and stops reading otherwise, on
/// the direct path and on the path through NIO's decoder alike.
@Suite(.timeLimit(.minutes(10))) struct BackPressureTests {
    /// Sends up to 30 MB of pipelined requests for `path` (after `first`, if given) without reading,
    /// for at most 20 s or until the server has stopped taking bytes for 3 s; prints the server's peak
    /// RSS while that went on and its RSS 2 s after the client left.
    static let flood = #"""
        import socket, sys, time
        port, path, pid, first = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
        def rss():
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
        request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        head = b"" if first == "-" else first.encode().decode("unicode_escape").encode()
        data = head + request * (30_000_000 // len(request))
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        sent, peak, start, last_progress = 0, rss(), time.time(), time.time()
        while sent < len(data) and time.time() - start < 20 and time.time() - last_progress < 3:
            try:
                n = s.send(data[sent:sent + (1 << 20)])
                sent += n
                last_progress = time.time()
            except BlockingIOError:
                time.sleep(0.02)
            peak = max(peak, rss())
        for _ in range(20):
            time.sleep(0.1)
            peak = max(peak, rss())
        s.close()
        time.sleep(2)
        print("sent", sent, "peak", peak, "after", rss())
        """#

    @Test(arguments: ["-", "GET /simple/alpha/ HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1\\r\\n\\r\\nx"])
    func unreadPipelinedRequestsKeepMemoryBounded(first: String) throws {
        let mirror = try MirrorHarness(MirrorHarness.chain)
        try mirror.syncOK(["alpha"])
        let server = try mirror.serve()
        let pid = server.process.pid
        let r = try Subprocess.run(FixtureScripts.python, ["-c", Self.flood, String(server.port), "/simple/alpha/", String(pid), first])
        #expect(r.succeeded, "\(r.output)")
        let fields = r.stdout.split(separator: " ").map(String.init)
        let sent = Int(fields.dropFirst(1).first ?? "") ?? 0
        let peak = Int(fields.dropFirst(3).first ?? "") ?? .max
        let after = Int(fields.dropFirst(5).first?.trimmingWhitespace() ?? "") ?? .max
        #expect(peak < 150 && after < 150, "serve's RSS stays under 150 MiB (peak \(peak), after \(after) MiB; \(sent) bytes sent)")
        #expect(try httpGet(server.base + "/simple/alpha/").status == 200, "the server still answers others")
    }
}
