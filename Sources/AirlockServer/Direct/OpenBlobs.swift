import AirlockCore
import Glibc
import NIOCore
import Synchronization

/// Open file handles of the blobs being sent. Connections sending the same blob share one handle
/// (sendfile and pread take their own offset), and up to `idleCapacity` handles no one is using stay
/// open for the next request; beyond that the least recently used idle ones are closed. So open
/// files are bounded by the downloads in progress plus `idleCapacity`.
final class OpenBlobs: Sendable {
    /// A blob's handle, held until `release`.
    struct Lease: Sendable {
        let digest: Digest
        let handle: NIOFileHandle
        let size: Int64
    }

    private struct Entry {
        let handle: NIOFileHandle
        let size: Int64
        var users: Int
        var lastUsed: UInt64
    }

    private let state = Mutex<(entries: [Digest: Entry], clock: UInt64)>(([:], 0))
    let idleCapacity: Int

    init(idleCapacity: Int = 64) { self.idleCapacity = idleCapacity }

    deinit {
        state.withLock { s in
            for entry in s.entries.values { try? entry.handle.close() }
        }
    }

    /// A handle on the blob at `path`, opened if no one has it open; nil if the file cannot be opened.
    func open(_ digest: Digest, path: String) -> Lease? {
        if let lease = lease(digest) { return lease }
        guard let handle = try? NIOFileHandle(_deprecatedPath: path) else { return nil }
        let end = try? handle.withUnsafeFileDescriptor { lseek($0, 0, SEEK_END) }  // sendfile and pread ignore the position
        guard let end, end >= 0 else {
            try? handle.close()
            return nil
        }
        let (lease, surplus) = state.withLock { s -> (Lease, NIOFileHandle?) in
            s.clock += 1
            if var existing = s.entries[digest] {  // another connection opened it meanwhile
                existing.users += 1
                existing.lastUsed = s.clock
                s.entries[digest] = existing
                return (Lease(digest: digest, handle: existing.handle, size: existing.size), handle)
            }
            s.entries[digest] = Entry(handle: handle, size: Int64(end), users: 1, lastUsed: s.clock)
            return (Lease(digest: digest, handle: handle, size: Int64(end)), nil)
        }
        try? surplus?.close()
        return lease
    }

    private func lease(_ digest: Digest) -> Lease? {
        state.withLock { s in
            guard var entry = s.entries[digest] else { return nil }
            s.clock += 1
            entry.users += 1
            entry.lastUsed = s.clock
            s.entries[digest] = entry
            return Lease(digest: digest, handle: entry.handle, size: entry.size)
        }
    }

    /// Gives a lease back; closes idle handles beyond the capacity, oldest first.
    func release(_ lease: Lease) {
        let closing = state.withLock { s -> [NIOFileHandle] in
            s.entries[lease.digest]?.users -= 1
            let idle = s.entries.filter { $0.value.users == 0 }
            guard idle.count > idleCapacity else { return [] }
            let oldest = idle.sorted { $0.value.lastUsed < $1.value.lastUsed }.prefix(idle.count - idleCapacity)
            for (digest, _) in oldest { s.entries[digest] = nil }
            return oldest.map(\.value.handle)
        }
        for handle in closing { try? handle.close() }
    }

    /// Leases not given back yet: downloads in progress.
    var inUse: Int { state.withLock { $0.entries.values.reduce(0) { $0 + $1.users } } }
}
