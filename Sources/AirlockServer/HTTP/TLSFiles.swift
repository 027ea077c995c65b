import AirlockCore
import Foundation
public import HummingbirdTLS
import NIOSSL

/// The PEM files the endpoint serves TLS with: its certificate chain and private key, and optionally a
/// CA whose client certificates it requires (mutual TLS: a second gate on installs).
public struct TLSFiles: Sendable {
    public var certificate: String
    public var privateKey: String
    public var clientCA: String?

    public init(certificate: String, privateKey: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.clientCA = clientCA
    }

    /// TLS 1.2 and above; with a client CA, a handshake without a certificate it signed fails.
    /// Each unreadable or malformed file is named in the error.
    public func configuration() throws -> TLSConfiguration {
        let chain = try Self.load(certificate, "--tls-cert", as: "a PEM certificate chain") { try NIOSSLCertificate.fromPEMFile($0) }
        guard !chain.isEmpty else { throw AirlockError(.invalidArgument, "--tls-cert \(certificate): no certificate in the file") }
        let key = try Self.load(privateKey, "--tls-key", as: "a PEM private key") { try NIOSSLPrivateKey(file: $0, format: .pem) }
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        config.minimumTLSVersion = .tlsv12
        if let clientCA {
            let roots = try Self.load(clientCA, "--tls-client-ca", as: "PEM CA certificates") { try NIOSSLCertificate.fromPEMFile($0) }
            guard !roots.isEmpty else { throw AirlockError(.invalidArgument, "--tls-client-ca \(clientCA): no certificate in the file") }
            config.trustRoots = .certificates(roots)
            config.certificateVerification = .noHostnameVerification
            config.sendCANameList = true
        }
        return config
    }

    private static func load<T>(_ path: String, _ option: String, as what: String, _ body: (String) throws -> T) throws -> T {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw AirlockError(.invalidArgument, "\(option) \(path): the file does not exist or cannot be read")
        }
        do { return try body(path) } catch {
            throw AirlockError(.invalidArgument, "\(option) \(path): not \(what) (\(error))")
        }
    }
}
