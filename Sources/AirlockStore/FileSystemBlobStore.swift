public import AirlockCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A `BlobStore` in a local directory: `blobs/sha256/ab/abcdef…`, staging under `blobs/staging/`.
/// Commits are fsync + rename + directory fsync, so a blob under its final name is always whole.
public struct FileSystemBlobStore: BlobStore {
    public let root: String
    private var stagingDirectory: String { root + "/staging" }

    public init(root: String) throws {
        self.root = root
        for dir in [root + "/sha256", root + "/staging"] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw AirlockError(.storage, "cannot create blob directory \(dir): \(error.localizedDescription)")
            }
        }
    }

    public func path(for digest: Digest) -> String {
        "\(root)/sha256/\(digest.hex.prefix(2))/\(digest.hex)"
    }

    public func allDigests() throws -> [Digest] {
        let fm = FileManager.default
        var out: [Digest] = []
        for prefix in try fm.contentsOfDirectory(atPath: root + "/sha256") {
            for name in try fm.contentsOfDirectory(atPath: root + "/sha256/" + prefix) {
                if let d = Digest(hex: name), d.hex == name { out.append(d) }
            }
        }
        return out
    }

    @discardableResult
    public func remove(_ digest: Digest) throws -> Int64 {
        guard let size = size(of: digest) else { return 0 }
        guard unlink(path(for: digest)) == 0 || errno == ENOENT else {
            throw AirlockError(.storage, "cannot remove blob \(digest.hex): \(String(cString: strerror(errno)))")
        }
        return size
    }

    public func contains(_ digest: Digest) -> Bool {
        access(path(for: digest), F_OK) == 0
    }

    public func size(of digest: Digest) -> Int64? {
        var st = stat()
        guard stat(path(for: digest), &st) == 0 else { return nil }
        return Int64(st.st_size)
    }

    public func makeStagingPath() throws -> String {
        "\(stagingDirectory)/\(UUID().uuidString).part"
    }

    public func commit(stagingPath: String, as digest: Digest) throws {
        let final = path(for: digest)
        if contains(digest) {
            discard(stagingPath: stagingPath)
            return
        }
        let fd = open(stagingPath, O_RDONLY)
        guard fd >= 0 else { throw posixError("open staging file \(stagingPath)") }
        let synced = fsync(fd)
        close(fd)
        guard synced == 0 else { throw posixError("fsync \(stagingPath)") }
        let dir = "\(root)/sha256/\(digest.hex.prefix(2))"
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw posixError("mkdir \(dir)") }
        guard rename(stagingPath, final) == 0 else { throw posixError("rename \(stagingPath) to \(final)") }
        DurableFile.syncDirectory(of: final)
    }

    public func discard(stagingPath: String) {
        unlink(stagingPath)
    }

    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> Digest {
        let digest = Digest.of(bytes)
        if contains(digest) { return digest }
        let staging = try makeStagingPath()
        do {
            try DurableFile.writeNew(bytes, to: staging)
            try commit(stagingPath: staging, as: digest)
        } catch {
            discard(stagingPath: staging)
            throw error
        }
        return digest
    }

    public func read(_ digest: Digest) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(for: digest)) else {
            throw AirlockError(.notFound, "blob \(digest) is not in the store at \(root)")
        }
        return [UInt8](data)
    }

    public func localPath(for digest: Digest) -> String? {
        path(for: digest)
    }

    public func removeAbandonedStaging() throws {
        // Only syncs and imports write here, under the sync lock: whatever is left belongs to one that died.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: stagingDirectory)) ?? []
        for name in names { unlink("\(stagingDirectory)/\(name)") }
    }

    private func posixError(_ what: String) -> AirlockError {
        AirlockError(.storage, "\(what): \(String(cString: strerror(errno)))")
    }
}
