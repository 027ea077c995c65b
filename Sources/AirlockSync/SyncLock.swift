import Foundation
public import AirlockCore
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data directory, so two syncs never write one store at once.
/// The kernel releases it when the process dies, so a killed sync never blocks the next.
public final class SyncLock {
    private let fd: Int32

    public init(dataDirectory: String) throws {
        let path = dataDirectory + "/sync.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AirlockError(.storage, "cannot open lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw AirlockError(.storage, "another sync is running on \(dataDirectory) (lock \(path) is held)")
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
