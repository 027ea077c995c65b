public import AirlockCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes whole files that are never seen half-written: bytes go to `path.tmp` (no helper files of
/// Foundation's beside it), are fsynced, then renamed into place and the directory fsynced.
public enum DurableFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temp = path + ".tmp"
        try writeNew(bytes, to: temp)
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw AirlockError(.storage, "cannot move \(temp) into place at \(path): \(reason)")
        }
        syncDirectory(of: path)
    }

    /// Creates `path` (replacing a leftover) with `bytes`, fsynced.
    public static func writeNew(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AirlockError(.storage, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AirlockError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))") }
            written += n
        }
        guard fsync(fd) == 0 else { throw AirlockError(.storage, "cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }

    /// Makes a rename in the directory of `path` durable.
    public static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
