import NIOCore
import NIOPosix

/// Sends a range of a blob in pieces, a bounded number written ahead: file regions (sendfile) on
/// plain connections, buffers read off the event loop under TLS (which must encrypt the bytes).
/// Memory per download is at most `window` pieces under TLS and nothing but the handle otherwise.
final class BlobSender {
    static let pieceSize: Int64 = 2 << 20
    static let tlsPieceSize: Int64 = 256 << 10
    static let window = 2

    private let lease: OpenBlobs.Lease
    private let blobs: OpenBlobs
    private let fileIO: NonBlockingFileIO?
    private let eventLoop: any EventLoop
    private let allocator: ByteBufferAllocator
    private let write: (IOData) -> EventLoopFuture<Void>
    private let done: (Bool) -> Void
    private var offset: Int64
    private let end: Int64
    private var reading = false
    private var writing = 0
    private var finished = false

    /// `write` sends one piece and flushes; `done(true)` follows the last piece, `done(false)` a failed write.
    init(
        lease: OpenBlobs.Lease, range: Range<Int64>, blobs: OpenBlobs, fileIO: NonBlockingFileIO?, channel: any Channel,
        write: @escaping (IOData) -> EventLoopFuture<Void>, done: @escaping (Bool) -> Void
    ) {
        self.lease = lease
        self.blobs = blobs
        self.fileIO = fileIO
        self.eventLoop = channel.eventLoop
        self.allocator = channel.allocator
        self.write = write
        self.done = done
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    /// Writes pieces until `window` are on their way; when all are out, calls `done(true)`.
    func pump() {
        guard !finished else { return }
        if offset == end {
            if writing == 0, !reading { finish(ok: true) }
            return
        }
        guard !reading, writing < Self.window else { return }
        let start = offset
        let count = min(fileIO == nil ? Self.pieceSize : Self.tlsPieceSize, end - start)
        offset += count
        reading = true
        piece(start, count).assumeIsolated().whenComplete { [self] result in
            reading = false
            guard !finished else { return }
            switch result {
            case .failure: finish(ok: false)
            case .success(let data):
                writing += 1
                write(data).assumeIsolated().whenComplete { [self] written in
                    writing -= 1
                    if case .failure = written { finish(ok: false) } else { pump() }
                }
                pump()
            }
        }
    }

    private func piece(_ start: Int64, _ count: Int64) -> EventLoopFuture<IOData> {
        guard let fileIO else {
            return eventLoop.makeSucceededFuture(
                .fileRegion(FileRegion(fileHandle: lease.handle, readerIndex: Int(start), endIndex: Int(start + count))))
        }
        return fileIO.read(fileHandle: lease.handle, fromOffset: start, byteCount: Int(count), allocator: allocator, eventLoop: eventLoop)
            .map { IOData.byteBuffer($0) }
    }

    /// The connection went away: stop and give the handle back.
    func stop() {
        guard !finished else { return }
        finished = true
        blobs.release(lease)
    }

    private func finish(ok: Bool) {
        guard !finished else { return }
        finished = true
        blobs.release(lease)
        done(ok)
    }
}
