import Crypto
public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An Ed25519 signing key (`airlock.key`: one line, `airlock-ed25519-private <base64>`, mode 0600).
/// Air-gap bundles are signed with the connected side's (replicas trust its public half), and snapshot
/// manifests with the data directory's `keys/airlock.key` when there is one (CI verifies them).
public struct SigningKey: Sendable {
    /// The raw key (swift-crypto's key types are not `Sendable`).
    let raw: Data
    /// The first 16 hex digits of the SHA-256 of the public key: how signatures and audit events name it.
    public let keyID: String

    /// Reads a private key file, refusing one that others may read.
    public init(file: String) throws {
        var st = stat()
        guard stat(file, &st) == 0 else { throw AirlockError(.notFound, "cannot read the signing key \(file): \(String(cString: strerror(errno)))") }
        guard st.st_mode & 0o077 == 0 else {
            throw AirlockError(
                .forbidden, "the signing key \(file) may be read by others (mode \(String(st.st_mode & 0o777, radix: 8))); run chmod 600 \(file)")
        }
        let raw = try SigningKeys.read(file, kind: SigningKeys.privateTag)
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw AirlockError(.invalidArgument, "\(file) does not hold an Ed25519 private key")
        }
        self.raw = raw
        keyID = SigningKeys.keyID(key.publicKey)
    }

    public func sign(_ bytes: [UInt8]) throws -> [UInt8] {
        [UInt8](try Curve25519.Signing.PrivateKey(rawRepresentation: raw).signature(for: bytes))
    }

    /// A detached signature of `bytes`: one line, `KEYID BASE64`.
    public func detachedSignature(of bytes: [UInt8]) throws -> String {
        "\(keyID) \(Data(try sign(bytes)).base64EncodedString())\n"
    }
}

/// The public keys signatures are accepted from, by key id (several at once, so keys can be rotated).
public struct TrustedKeys: Sendable {
    /// Raw public keys by key id.
    let keys: [String: Data]

    /// Reads `airlock.pub` files (`airlock-ed25519-public <base64>`).
    public init(files: [String]) throws {
        guard !files.isEmpty else {
            throw AirlockError(.invalidArgument, "no trusted key given: pass --trust FILE (the connected side's airlock.pub)")
        }
        var keys: [String: Data] = [:]
        for file in files {
            let raw = try SigningKeys.read(file, kind: SigningKeys.publicTag)
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                throw AirlockError(.invalidArgument, "\(file) does not hold an Ed25519 public key")
            }
            keys[SigningKeys.keyID(key)] = raw
        }
        self.keys = keys
    }

    public var ids: [String] { keys.keys.sorted() }

    /// Checks `signature` over `bytes` (which are `what`, such as "the bundle manifest") by the trusted
    /// key `keyID`, naming what failed.
    public func verify(_ signature: [UInt8], of bytes: [UInt8], by keyID: String, what: String = "the bundle manifest") throws {
        guard let raw = keys[keyID], let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw AirlockError(
                .forbidden,
                "\(what) is signed by key \(keyID), which is not trusted here (trusted: \(ids.joined(separator: ", "))); pass its airlock.pub")
        }
        guard key.isValidSignature(signature, for: bytes) else {
            throw AirlockError(.hashMismatch, "\(what)'s signature does not verify with key \(keyID): it was altered or the signature damaged")
        }
    }

    /// Reads a detached signature (`KEYID BASE64`, one line, as bundles and manifests carry it) and checks it.
    public func verify(detached text: String, of bytes: [UInt8], what: String) throws -> String {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        guard parts.count == 2, let signature = Data(base64Encoded: String(parts[1])) else {
            throw AirlockError(.invalidArgument, "the signature of \(what) is not 'KEYID BASE64'")
        }
        try verify([UInt8](signature), of: bytes, by: String(parts[0]), what: what)
        return String(parts[0])
    }
}

/// Key files: generation and parsing.
public enum SigningKeys {
    static let privateTag = "airlock-ed25519-private"
    static let publicTag = "airlock-ed25519-public"

    static func keyID(_ key: Curve25519.Signing.PublicKey) -> String {
        String(Digest.of([UInt8](key.rawRepresentation)).hex.prefix(16))
    }

    /// Writes `DIR/airlock.key` (0600) and `DIR/airlock.pub`; refuses to overwrite either. Returns the key id.
    public static func generate(into directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = Curve25519.Signing.PrivateKey()
        let privatePath = directory + "/airlock.key"
        let publicPath = directory + "/airlock.pub"
        for path in [privatePath, publicPath] where FileManager.default.fileExists(atPath: path) {
            throw AirlockError(.invalidArgument, "\(path) already exists; keys are never overwritten (move it away to make a new pair)")
        }
        try writeNew(privatePath, "\(privateTag) \(key.rawRepresentation.base64EncodedString())\n", mode: 0o600)
        try writeNew(publicPath, "\(publicTag) \(key.publicKey.rawRepresentation.base64EncodedString())\n", mode: 0o644)
        return keyID(key.publicKey)
    }

    static func read(_ file: String, kind: String) throws -> Data {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw AirlockError(.notFound, "cannot read the key file \(file)")
        }
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        guard parts.count == 2, parts[0] == kind, let raw = Data(base64Encoded: String(parts[1])), raw.count == 32 else {
            throw AirlockError(.invalidArgument, "\(file) is not an airlock key file: expected one line '\(kind) <base64 of 32 bytes>'")
        }
        return raw
    }

    private static func writeNew(_ path: String, _ text: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw AirlockError(.storage, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw AirlockError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
