import Foundation

/// A test PKI made with the openssl command: a CA, a server certificate it signs for 127.0.0.1 and
/// localhost, a client certificate it signs (certificate and key in one PEM, as pip wants), and a
/// second, unrelated CA that trusts none of them.
public struct TestCertificates: Sendable {
    public let caCertificate: String
    public let serverCertificate: String
    public let serverKey: String
    /// The client certificate followed by its key.
    public let clientPEM: String
    public let otherCACertificate: String

    public init(in directory: String) throws {
        let d = directory + "/pki"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        caCertificate = d + "/ca.pem"
        serverCertificate = d + "/server.pem"
        serverKey = d + "/server.key"
        clientPEM = d + "/client-with-key.pem"
        otherCACertificate = d + "/other-ca.pem"
        try Self.makeCA(d + "/ca", subject: "/CN=airlock test CA")
        try Self.makeCA(d + "/other-ca", subject: "/CN=some other CA")
        try Self.issue(
            d + "/server", subject: "/CN=127.0.0.1", ca: d + "/ca",
            extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth")
        try Self.issue(d + "/client", subject: "/CN=analyst", ca: d + "/ca", extensions: "extendedKeyUsage=clientAuth")
        let client = try String(contentsOfFile: d + "/client.pem", encoding: .utf8) + String(contentsOfFile: d + "/client.key", encoding: .utf8)
        try client.write(toFile: clientPEM, atomically: true, encoding: .utf8)
    }

    private static func openssl(_ args: [String]) throws {
        let r = try Subprocess.run("/usr/bin/openssl", args)
        guard r.succeeded else { throw TestSupportError("openssl \(args.first ?? "") failed: \(r.output)") }
    }

    private static func makeCA(_ base: String, subject: String) throws {
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", base + ".key", "-out", base + ".pem",
            "-days", "2", "-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    private static func issue(_ base: String, subject: String, ca: String, extensions: String) throws {
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", base + ".key", "-out", base + ".csr", "-subj",
            subject,
        ])
        try extensions.write(toFile: base + ".ext", atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", base + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial", "-out", base + ".pem", "-days", "2",
            "-extfile", base + ".ext",
        ])
    }
}
