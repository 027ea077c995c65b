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

/// An endpoint over a catalog with one served release (`ok`) and one held for review (`held`),
/// exercised in process through Hummingbird's router test client.
struct EndpointFixture {
    let fixture: CatalogFixture
    let endpoint: Endpoint
    let admin: String
    let reviewer: String
    let reader: String

    init(options: (String) -> EndpointOptions = { EndpointOptions(dataDirectory: $0) }) async throws {
        fixture = try await CatalogFixture(onDisk: true)
        try await fixture.sync([CatalogFixture.release("ok", "1.0"), CatalogFixture.release("held", "1.0", verdict: .review)])
        let store = try FileSystemBlobStore(root: fixture.directory.path + "/blobs")
        var logger = Logger(label: "test")
        logger.logLevel = .warning  // thousands of refused requests are no news here
        endpoint = Endpoint(catalog: fixture.catalog, store: store, logger: logger, options: options(fixture.directory.path))
        let catalog = fixture.catalog
        admin = try await catalog.createToken(name: "admin", role: .admin, expiresAt: nil, actor: "test", at: Date()).secret
        reviewer = try await catalog.createToken(name: "reviewer", role: .reviewer, expiresAt: nil, actor: "test", at: Date()).secret
        reader = try await catalog.createToken(name: "reader", role: .reader, expiresAt: nil, actor: "test", at: Date()).secret
    }

    func test<T: Sendable>(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await endpoint.application(host: "127.0.0.1", port: 0).testApart(.router, body)
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

@Suite struct EndpointRouterTests {
    @Test func theTokenIsCheckedBeforeTheBodyIsRead() async throws {
        let e = try await EndpointFixture()
        try await e.test { client in
            for path in ["/api/v1/overrides", "/api/v1/revocations", "/api/v1/tokens"] {
                let r = try await client.execute(
                    uri: path, method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "not json"))
                #expect(r.status == .unauthorized, "\(path): \(r.text)")
                #expect(r.headers[.contentType] == "application/problem+json" && r.text.contains(#""status":401"#), "\(r.text)")
            }
        }
    }

    @Test func theAPIAcceptsOnlyAuthorizationHeadersNeverTheCookie() async throws {
        let e = try await EndpointFixture()
        try await e.test { client in
            let viaCookie = try await client.execute(
                uri: "/api/v1/tokens", method: .post,
                headers: [.cookie: "airlock_session=\(e.admin)", .contentType: "text/plain", .origin: "http://127.0.0.2:8443"],
                body: ByteBuffer(string: #"{"name":"x","role":"admin"}"#))
            #expect(viaCookie.status == .unauthorized)
            let viaHeader = try await client.execute(
                uri: "/api/v1/tokens", method: .post, headers: EndpointFixture.bearer(e.admin),
                body: ByteBuffer(string: #"{"name":"x","role":"reader"}"#))
            #expect(viaHeader.status == .created, "\(viaHeader.text)")
        }
    }

    @Test func errorsComeInOneShapeAndBodiesAreBounded() async throws {
        let e = try await EndpointFixture()
        try await e.test { client in
            let unknown = try await client.execute(uri: "/api/v1/snapshots/npm", method: .get, headers: EndpointFixture.bearer(e.reviewer))
            #expect(unknown.status == .notFound && unknown.headers[.contentType] == "application/problem+json", "\(unknown.text)")
            let bad = try await client.execute(
                uri: "/api/v1/overrides", method: .post, headers: EndpointFixture.bearer(e.reviewer), body: ByteBuffer(string: "{}"))
            #expect(
                bad.status == .badRequest && bad.headers[.contentType] == "application/problem+json" && bad.text.contains("ecosystem"), "\(bad.text)")
            let huge = try await client.execute(
                uri: "/api/v1/overrides", method: .post, headers: EndpointFixture.bearer(e.reviewer),
                body: ByteBuffer(repeating: UInt8(ascii: " "), count: 1 << 20))
            #expect(huge.status == .contentTooLarge, "\(huge.status)")
            let past = try await client.execute(
                uri: "/api/v1/tokens", method: .post, headers: EndpointFixture.bearer(e.admin),
                body: ByteBuffer(string: #"{"name":"old","role":"reader","expires_at":"2020-01-01"}"#))
            #expect(past.status == .badRequest && past.text.contains("already past"), "\(past.text)")
        }
    }

    @Test func everyResponseCarriesTheSecurityHeaders() async throws {
        let e = try await EndpointFixture()
        try await e.test { client in
            for path in ["/simple/", "/simple/ok/", "/ui/login", "/api/v1/openapi.json", "/nothing-here", "/healthz"] {
                let r = try await client.execute(uri: path, method: .get)
                #expect(r.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true, "\(path)")
                #expect(r.headers[.xContentTypeOptions] == "nosniff", "\(path)")
                #expect(r.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(path)")
                #expect(r.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(path)")
                #expect(!r.text.contains("<script") && !r.text.contains("<style"), "\(path) has inline script or style")
            }
        }
    }

    @Test func uppercaseDigestsAreNotASecondURL() async throws {
        let e = try await EndpointFixture()
        let digest = Digest.of(Array("ok-1.0".utf8)).hex
        try await e.test { client in
            let r = try await client.execute(uri: "/files/sha256/\(digest.uppercased())/ok-1.0-py3-none-any.whl", method: .get)
            #expect(r.status == .notFound && r.text.contains("lowercase"), "\(r.status) \(r.text)")
        }
    }

    @Test func sessionsAreServerSideAndEndAtSignOutAndRevocation() async throws {
        let e = try await EndpointFixture()
        try await e.test { client in
            let session = try await Self.signIn(client, token: e.reviewer)
            #expect(!session.cookie.contains(e.reviewer), "the cookie holds a session id, never the token")
            let queue = try await client.execute(uri: "/ui/", method: .get, headers: [.cookie: session.cookie])
            #expect(queue.status == .ok && queue.text.contains("Review queue"))
            let missing = try await client.execute(uri: "/ui/projects/pypi/doesnotexist", method: .get, headers: [.cookie: session.cookie])
            #expect(missing.status == .notFound && missing.text.contains("not in the catalog"), "\(missing.status)")
            let badEcosystem = try await client.execute(uri: "/ui/projects/npm/left-pad", method: .get, headers: [.cookie: session.cookie])
            #expect(badEcosystem.status == .notFound, "\(badEcosystem.status)")
            // Sign-out needs the session's CSRF token, then ends the session on the server.
            _ = try await client.execute(
                uri: "/ui/logout", method: .post, headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=\(session.csrf)"))
            let after = try await client.execute(uri: "/ui/", method: .get, headers: [.cookie: session.cookie])
            #expect(after.status == .seeOther, "a signed-out session id no longer works")
            // Revoking the token ends its sessions.
            let second = try await Self.signIn(client, token: e.reviewer)
            let id = try #require(try await e.fixture.catalog.tokens().first { $0.role == .reviewer }?.id)
            let revoked = try await client.execute(uri: "/api/v1/tokens/\(id)", method: .delete, headers: EndpointFixture.bearer(e.admin))
            #expect(revoked.status == .ok)
            let gone = try await client.execute(uri: "/ui/", method: .get, headers: [.cookie: second.cookie])
            #expect(gone.status == .seeOther)
        }
    }

    @Test func signInItselfNeedsItsCSRFToken() async throws {
        let e = try await EndpointFixture()
        try await e.test { client in
            let r = try await client.execute(
                uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(e.reviewer)"))
            #expect(r.status == .forbidden)
        }
    }

    @Test func anonymousRequestsCannotGrowTheCatalogWithoutBound() async throws {
        // One flush interval for the whole test (the cap is per interval), however slow the machine.
        let e = try await EndpointFixture { EndpointOptions(dataDirectory: $0, demandFlushInterval: .seconds(3600)) }
        try await e.test { client in
            for i in 0..<1500 { _ = try await client.execute(uri: "/simple/random-\(i)/", method: .get) }
            for _ in 0..<100 { _ = try await client.execute(uri: "/api/v1/queue", method: .get, headers: [.authorization: "Bearer airlock_wrong"]) }
            let throttled = try await client.execute(uri: "/api/v1/queue", method: .get, headers: [.authorization: "Bearer airlock_wrong"])
            #expect(throttled.status == .tooManyRequests && throttled.headers[.retryAfter] != nil)
            let valid = try await client.execute(uri: "/api/v1/queue", method: .get, headers: [.authorization: "Bearer \(e.reviewer)"])
            #expect(valid.status == .ok, "a valid token still works from a throttled address")
        }
        await e.endpoint.demand.flush()
        #expect(try await e.fixture.catalog.misses(nil).count <= e.endpoint.demand.maxMissesPerInterval)
        let failures = try await e.fixture.catalog.auditEvents(limit: 1000).filter { $0.action == "login.failed" }
        #expect(failures.count == 1, "one coalesced event per client per interval, not one per request: \(failures.count)")
        let limit = e.endpoint.demand.maxFailuresPerMinute
        #expect(failures.first?.details.contains(#""count":"\#(limit)""#) == true, "throttled after \(limit): \(failures.first?.details ?? "")")
    }

    /// Signs in through the form, as a browser would: the nonce cookie and CSRF token of the form, then the session.
    static func signIn(_ client: any TestClientProtocol, token: String) async throws -> (cookie: String, csrf: String) {
        let form = try await client.execute(uri: "/ui/login", method: .get)
        let nonce = try #require(form.headers[.setCookie]?.split(separator: ";").first.map(String.init))
        let loginCSRF = try #require(ReviewHarness.csrf(in: form.text))
        let signedIn = try await client.execute(
            uri: "/ui/login", method: .post, headers: [.cookie: nonce, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "csrf=\(loginCSRF)&token=\(token)"))
        #expect(signedIn.status == .seeOther)
        let cookie = try #require(
            signedIn.headers[values: .setCookie].first { $0.hasPrefix(SessionStore.cookie + "=") }?.split(separator: ";").first.map(String.init))
        let page = try await client.execute(uri: "/ui/", method: .get, headers: [.cookie: cookie])
        return (cookie, try #require(ReviewHarness.csrf(in: page.text)))
    }
}

/// Resource bounds on a live port: one client's idle or slow connections cannot starve another.
@Suite(.serialized) struct ConnectionBoundsTests {
    static let probe = #"""
        import socket, sys, time
        port = int(sys.argv[1])
        held = []
        for _ in range(300):  # idle connections from one client, well past its limit
            s = socket.socket(); s.connect(("127.0.0.1", port)); held.append(s)
        slow = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.3", 0))
        slow.sendall(b"GET /simple/ HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        other = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
        other.sendall(b"GET /simple/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = other.recv(64)
        print("other", reply.split(b"\r\n")[0].decode(), round((time.monotonic() - start) * 1000))
        slow.settimeout(15)
        try:
            data = slow.recv(100); print("slowloris", "closed" if data == b"" else "answered")
        except socket.timeout:
            print("slowloris", "open")
        except ConnectionResetError:
            print("slowloris", "closed")
        body = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.4", 0))
        body.sendall(b"POST /api/v1/overrides HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
        body.settimeout(15); start = time.monotonic()
        print("bigbody", body.recv(64).split(b"\r\n")[0].decode(), round((time.monotonic() - start) * 1000))
        """#

    @Test func idleAndSlowConnectionsFromOneClientDoNotStarveAnother() async throws {
        let e = try await EndpointFixture {
            var o = EndpointOptions(dataDirectory: $0)
            o.maxConnectionsPerClient = 100
            o.headerTimeout = .seconds(3)
            return o
        }
        let output = try await e.endpoint.application(host: "127.0.0.1", port: 0).testApart(.live) { client in
            try await Subprocess.runOffPool(FixtureScripts.python, ["-c", Self.probe, String(client.port!)]).output
        }
        let other = output.split(separator: "\n").first { $0.hasPrefix("other") }.map { $0.split(separator: " ") } ?? []
        #expect(other.count >= 4 && other[2] == "200", "\(output)")
        // Well inside the 3 s header timeout, so it was not served merely because idle connections were cut off
        // (a loaded CI machine can take a few hundred milliseconds; starvation means seconds or never).
        #expect((other.last.flatMap { Int($0) } ?? 3000) < 1500, "another client is served at once: \(output)")
        #expect(output.contains("slowloris closed"), "a request head that never ends is cut off: \(output)")
        #expect(output.contains("bigbody HTTP/1.1 401"), "no token: refused before the body: \(output)")
    }
}
