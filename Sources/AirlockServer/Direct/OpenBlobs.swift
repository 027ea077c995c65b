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

    private struct Idle {
        let lease: Lease
        let returned: UInt64
    }

    private struct State {
        var idle: [Digest: [Idle]] = [:]
        var idleCount = 0
        var leased = 0
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    let idleCapacity: Int

    init(idleCapacity: Int = 64) { self.idleCapacity = idleCapacity }

    deinit {
        state.withLock { s in
            for handles in s.idle.values { for idle in handles { try? idle.lease.handle.close() } }
        }
    }

    /// A handle on the blob at `path`, idle or newly opened; nil if the file cannot be opened.
    func open(_ digest: Digest, path: String) -> Lease? {
        let reused = state.withLock { s -> Lease? in
            guard let idle = s.idle[digest]?.popLast() else { return nil }
            if s.idle[digest]?.isEmpty == true { s.idle[digest] = nil }
            s.idleCount -= 1
            s.leased += 1
            return idle.lease
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
            s.clock += 1
            s.idle[lease.digest, default: []].append(Idle(lease: lease, returned: s.clock))
            s.idleCount += 1
            guard s.idleCount > idleCapacity else { return nil }
            // Each digest's list is in the order given back, so its first is its oldest.
            guard let oldest = s.idle.min(by: { $0.value[0].returned < $1.value[0].returned })?.key else { return nil }
            let evicted = s.idle[oldest]!.removeFirst()
            if s.idle[oldest]!.isEmpty { s.idle[oldest] = nil }
            s.idleCount -= 1
            return evicted.lease.handle
        }
        try? closing?.close()
    }

    /// Leases not given back yet: downloads in progress.
    var inUse: Int { state.withLock { $0.leased } }

    /// Handles open and waiting for a download.
    var idle: Int { state.withLock { $0.idleCount } }
}
