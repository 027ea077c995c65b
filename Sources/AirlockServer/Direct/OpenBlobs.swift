import AirlockCore
import Glibc
import NIOCore
import Synchronization

/// Open file handles of the blobs being sent. Each download holds a handle of its own: NIO marks a
/// handle busy while it is used (`withUnsafeFileDescriptor`), so two event loops writing from one
/// handle would make one of the writes fail. A handle given back stays open for the next download of
/// the same blob, up to `idleCapacity` idle handles in all; beyond that the least recently given back
/// are closed. So open files are bounded by the downloads in progress plus `idleCapacity`.
final class OpenBlobs: Sendable {
    /// A blob's handle, this download's alone until `release`.
    struct Lease: Sendable {
        let digest: Digest
        let handle: NIOFileHandle
        let size: Int64
    }

    /// Idle handles, the least recently given back first, and how many leases are out.
    private let state = Mutex<(idle: [Lease], leased: Int)>(([], 0))
    let idleCapacity: Int

    init(idleCapacity: Int = 64) { self.idleCapacity = idleCapacity }

    deinit {
        state.withLock { s in
            for lease in s.idle { try? lease.handle.close() }
        }
    }

    /// A handle on the blob at `path`, idle or newly opened; nil if the file cannot be opened.
    func open(_ digest: Digest, path: String) -> Lease? {
        let reused = state.withLock { s -> Lease? in
            guard let i = s.idle.lastIndex(where: { $0.digest == digest }) else { return nil }
            s.leased += 1
            return s.idle.remove(at: i)
        }
        if let reused { return reused }
        guard let handle = try? NIOFileHandle(_deprecatedPath: path) else { return nil }
        let end = try? handle.withUnsafeFileDescriptor { lseek($0, 0, SEEK_END) }  // sendfile and pread ignore the position
        guard let end, end >= 0 else {
            try? handle.close()
            return nil
        }
        state.withLock { $0.leased += 1 }
        return Lease(digest: digest, handle: handle, size: Int64(end))
    }

    /// Gives a lease back: its handle waits for the next download, and the oldest idle handle beyond
    /// the capacity is closed.
    func release(_ lease: Lease) {
        let closing = state.withLock { s -> NIOFileHandle? in
            s.leased -= 1
            s.idle.append(lease)
            return s.idle.count > idleCapacity ? s.idle.removeFirst().handle : nil
        }
        try? closing?.close()
    }

    /// Leases not given back yet: downloads in progress.
    var inUse: Int { state.withLock { $0.leased } }

    /// Handles open and waiting for a download.
    var idle: Int { state.withLock { $0.idle.count } }
}
