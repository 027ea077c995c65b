public import AirlockCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on a data directory, held while the value lives. `sync.lock` keeps two syncs
/// from writing one store at once (a second one is refused); `publish.lock` orders publications
/// (a second one waits its turn, suspended, never blocking a thread). The kernel releases it when
/// the process dies, so a killed holder never blocks the next.
public final class DataDirectoryLock: Sendable {
    /// Which lock, and what a second taker does.
    public enum Kind: String, Sendable {
        /// A whole sync: a second one is refused at once.
        case sync
        /// One publication: a second one waits its turn (publications are short).
        case publish
    }

    private let fd: Int32

    /// Takes the lock, or throws at once if another holder has it (in this process or another).
    public convenience init(_ kind: Kind, dataDirectory: String) throws {
        self.init(holding: try Self.take(kind, dataDirectory: dataDirectory))
    }

    /// The value owns the descriptor only once the lock is taken: a class whose initializer throws
    /// after its properties are set runs its deinit, which would close a refused attempt's
    /// descriptor a second time, and with it whatever another thread had just opened under that number.
    private init(holding fd: Int32) { self.fd = fd }

    /// Opens the lock file and locks it; on refusal the descriptor is closed here, once.
    private static func take(_ kind: Kind, dataDirectory: String) throws -> Int32 {
        let path = "\(dataDirectory)/\(kind.rawValue).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AirlockError(.storage, "cannot open lock file \(path): \(String(cString: strerror(errno)))") }
        var status: Int32
        repeat { status = flock(fd, LOCK_EX | LOCK_NB) } while status != 0 && errno == EINTR
        guard status == 0 else {
            close(fd)
            throw AirlockError(
                .storage, "another \(kind == .sync ? "sync" : "publication") is running on \(dataDirectory) (lock \(path) is held)",
                underlying: Held())
        }
        return fd
    }

    /// Takes the lock: `.sync` as `init` does (refused at once); `.publish` waiting until the holder
    /// lets go, checking every few milliseconds while suspended (a blocking `flock` would hold a
    /// cooperative thread, and with it, possibly, the very task that would release the lock).
    public static func acquire(_ kind: Kind, dataDirectory: String) async throws -> DataDirectoryLock {
        while true {
            do {
                return try DataDirectoryLock(kind, dataDirectory: dataDirectory)
            } catch let e as AirlockError where kind == .publish && e.underlying is Held {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// The lock was held by someone else.
    struct Held: Error {}

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
