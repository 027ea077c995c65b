import AirlockCore
import AirlockStore
import CArchive
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a bundle as a POSIX tar with libarchive (zstd-compressed when the name ends in `.zst`),
/// streaming members from files in 1 MiB pieces so memory stays flat. With a part size it writes
/// `NAME.part1-of-N`, `NAME.part2-of-N`, … Everything is written under temporary names, fsynced, and
/// renamed only when whole: a bundle is never seen half-written.
final class BundleWriter {
    private let archive: OpaquePointer
    private let sink: PartSink

    init(path: String, partSize: Int64?) throws {
        sink = PartSink(path: path, partSize: partSize)
        archive = archive_write_new()
        archive_write_set_format_pax_restricted(archive)
        if path.hasSuffix(".zst") { archive_write_add_filter_zstd(archive) }
        archive_write_set_bytes_in_last_block(archive, 1)
        let opened = archive_write_open2(
            archive, Unmanaged.passUnretained(sink).toOpaque(), nil,
            { _, context, buffer, length in
                let sink = Unmanaged<PartSink>.fromOpaque(context!).takeUnretainedValue()
                return sink.write(buffer!, length) ? la_ssize_t(length) : -1
            }, nil, nil)
        guard opened == ARCHIVE_OK else { throw error("cannot start the bundle \(path)") }
    }

    deinit {
        archive_write_free(archive)
        sink.abandon()
    }

    func add(_ name: String, bytes: [UInt8]) throws {
        try header(name, size: Int64(bytes.count))
        try bytes.withUnsafeBytes { try write($0.baseAddress!, $0.count, name) }
    }

    /// Streams a file into the bundle, checking it still has the size the manifest promised.
    func add(_ name: String, file: String, size: Int64) throws {
        try header(name, size: size)
        guard let input = FileHandle(forReadingAtPath: file) else { throw AirlockError(.storage, "cannot read \(file) for \(name)") }
        defer { try? input.close() }
        var written: Int64 = 0
        while true {
            let chunk = input.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            try chunk.withUnsafeBytes { try write($0.baseAddress!, $0.count, name) }
            written += Int64(chunk.count)
        }
        guard written == size else {
            throw AirlockError(.sizeMismatch, "\(file) changed size while it was bundled (\(written) bytes, expected \(size))")
        }
    }

    /// Closes the archive and puts the parts in place; returns their paths.
    func finish() throws -> [String] {
        guard archive_write_close(archive) == ARCHIVE_OK else { throw error("cannot finish the bundle") }
        return try sink.finish()
    }

    private func header(_ name: String, size: Int64) throws {
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_size(entry, size)
        archive_entry_set_filetype(entry, airlock_ae_ifreg)
        archive_entry_set_perm(entry, 0o644)
        archive_entry_set_mtime(entry, 0, 0)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw error("cannot write the header of \(name)") }
    }

    private func write(_ base: UnsafeRawPointer, _ count: Int, _ name: String) throws {
        var offset = 0
        while offset < count {
            let n = archive_write_data(archive, base + offset, count - offset)
            guard n > 0 else { throw error("cannot write \(name)") }
            offset += n
        }
    }

    private func error(_ what: String) -> AirlockError {
        AirlockError(.storage, "\(what): \(archive_error_string(archive).map { String(cString: $0) } ?? "libarchive error")")
    }
}

/// The file(s) a bundle's bytes go to, cut into parts of at most `partSize` bytes.
private final class PartSink {
    let path: String
    let partSize: Int64?
    private var parts: [String] = []
    private var fd: Int32 = -1
    private var inPart: Int64 = 0

    init(path: String, partSize: Int64?) {
        self.path = path
        self.partSize = partSize
    }

    func write(_ buffer: UnsafeRawPointer, _ length: Int) -> Bool {
        var offset = 0
        while offset < length {
            if fd < 0 || (partSize.map { inPart >= $0 } ?? false) {
                guard closePart(), openPart() else { return false }
            }
            let room = partSize.map { Int($0 - inPart) } ?? (length - offset)
            let n = Glibc.write(fd, buffer + offset, min(room, length - offset))
            guard n > 0 else { return false }
            offset += n
            inPart += Int64(n)
        }
        return true
    }

    private func openPart() -> Bool {
        let temporary = "\(path).part\(parts.count + 1).tmp"
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return false }
        parts.append(temporary)
        inPart = 0
        return true
    }

    private func closePart() -> Bool {
        guard fd >= 0 else { return true }
        defer { fd = -1 }
        return fsync(fd) == 0 && close(fd) == 0
    }

    func finish() throws -> [String] {
        guard closePart() else { throw AirlockError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))") }
        let finals = parts.count == 1 && partSize == nil ? [path] : parts.indices.map { "\(path).part\($0 + 1)-of-\(parts.count)" }
        for (temporary, final) in zip(parts, finals) {
            guard rename(temporary, final) == 0 else {
                throw AirlockError(.storage, "cannot rename \(temporary) to \(final): \(String(cString: strerror(errno)))")
            }
        }
        parts = []
        if let last = finals.last { DurableFile.syncDirectory(of: last) }
        return finals
    }

    func abandon() {
        if fd >= 0 { close(fd) }
        for p in parts { unlink(p) }
    }
}

/// Reads a bundle's members in order, from one file or from all of its parts in sequence.
final class BundleReader {
    private let archive: OpaquePointer
    private let source: PartSource
    private(set) var current: String?
    private var tree = ArchiveTree(archive: "the bundle", rule: .noLinks)

    /// Opens `paths`, which must be a whole bundle: one file, or every part `NAME.partK-of-N`.
    init(paths: [String]) throws {
        source = PartSource(paths: try BundleReader.orderedParts(paths))
        archive = archive_read_new()
        archive_read_support_format_tar(archive)
        archive_read_support_filter_all(archive)
        // The parts are read as one stream by our own callback (libarchive 3.6's multi-file reader
        // crashes on some part boundaries).
        let opened = archive_read_open2(
            archive, Unmanaged.passUnretained(source).toOpaque(), nil,
            { _, context, buffer in
                let source = Unmanaged<PartSource>.fromOpaque(context!).takeUnretainedValue()
                return la_ssize_t(source.read(buffer!))
            }, nil, nil)
        guard opened == ARCHIVE_OK else {
            throw AirlockError(
                .truncated,
                "cannot open the bundle \(source.paths[0]): \(source.failure ?? archive_error_string(archive).map { String(cString: $0) } ?? "unreadable")"
            )
        }
    }

    deinit {
        archive_read_free(archive)
    }

    /// The next member's path and declared size, or nil at the end of the bundle.
    func next() throws -> (path: String, size: Int64)? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw damaged() }
        let path = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        current = path
        // The same placement as every package archive: a bundle holds regular files only.
        try tree.add(
            path,
            ArchiveTree.Member(
                fileType: UInt32(archive_entry_filetype(entry)), symlink: archive_entry_symlink(entry).map { String(cString: $0) },
                hardlink: archive_entry_hardlink(entry).map { String(cString: $0) }))
        return (path, archive_entry_size(entry))
    }

    /// The current member, whole, if it is at most `limit` bytes.
    func readAll(limit: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        try stream { chunk in
            out.append(contentsOf: chunk)
            if out.count > limit { throw AirlockError(.tooLarge, "bundle member \(current ?? "") is larger than \(limit) bytes") }
        }
        return out
    }

    /// Hands the current member's bytes to `body` piece by piece.
    func stream(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
            if n == 0 { return }
            guard n > 0 else { throw damaged() }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    private func damaged() -> AirlockError {
        let detail = source.failure ?? archive_error_string(archive).map { String(cString: $0) } ?? "unreadable"
        return AirlockError(.truncated, "the bundle is truncated or damaged\(current.map { " in or after member \($0)" } ?? ""): \(detail)")
    }

    /// One file as it is, or parts named `NAME.partK-of-N`: all N must be given (or lie beside the first), in order.
    static func orderedParts(_ paths: [String]) throws -> [String] {
        guard let first = paths.first else { throw AirlockError(.invalidArgument, "no bundle file given") }
        guard let match = first.firstMatch(of: /^(.*)\.part(\d+)-of-(\d+)$/), let total = Int(match.3), total > 0 else {
            guard paths.count == 1 else {
                throw AirlockError(.invalidArgument, "give one bundle file, or the parts of one split bundle (NAME.partK-of-N)")
            }
            return paths
        }
        let stem = String(match.1)
        let wanted = (1...total).map { "\(stem).part\($0)-of-\(total)" }
        let given = Set(paths)
        for path in given where !wanted.contains(path) {
            throw AirlockError(.invalidArgument, "\(path) is not one of the \(total) parts of \(stem)")
        }
        for (i, part) in wanted.enumerated() where !given.contains(part) && !FileManager.default.fileExists(atPath: part) {
            throw AirlockError(.truncated, "part \(i + 1) of \(total) of the bundle is missing: \(part)")
        }
        return wanted
    }
}

/// The bytes of a bundle's files (its parts, in order) as one stream, 1 MiB at a time.
private final class PartSource {
    let paths: [String]
    private var next = 0
    private var fd: Int32 = -1
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
    /// Why reading stopped early, if it did.
    private(set) var failure: String?

    init(paths: [String]) { self.paths = paths }

    deinit {
        if fd >= 0 { close(fd) }
        buffer.deallocate()
    }

    /// Points `out` at the next bytes and returns their count: 0 at the end of the last part, -1 on error.
    func read(_ out: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        while true {
            if fd < 0 {
                guard next < paths.count else { return 0 }
                fd = open(paths[next], O_RDONLY)
                guard fd >= 0 else {
                    failure = "cannot read \(paths[next]): \(String(cString: strerror(errno)))"
                    return -1
                }
                next += 1
            }
            let n = Glibc.read(fd, buffer, 1 << 20)
            if n > 0 {
                out.pointee = UnsafeRawPointer(buffer)
                return n
            }
            if n < 0 {
                failure = "cannot read \(paths[next - 1]): \(String(cString: strerror(errno)))"
                return -1
            }
            close(fd)
            fd = -1
        }
    }
}

/// SHA-256 and size of bytes as they stream past.
struct StreamingDigest {
    private var hasher = SHA256()
    private(set) var size: Int64 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        size += Int64(bytes.count)
    }

    func finalize() -> String {
        Digest(hasher.finalize()).hex
    }
}
