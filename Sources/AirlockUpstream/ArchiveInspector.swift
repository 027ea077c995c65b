public import AirlockCore
import CArchive
import Foundation

/// Limits that make an archive hostile rather than merely large.
public struct ArchiveLimits: Sendable {
    /// Total unpacked bytes an archive may declare or expand to.
    public var maxUnpackedBytes: Int64 = 8 << 30
    /// Unpacked-to-packed ratio above which a large archive is treated as a decompression bomb.
    public var maxRatio: Double = 100
    /// Unpacked size under which the ratio is not checked (small text files compress very well).
    public var ratioFloor: Int64 = 32 << 20
    /// Largest metadata member read into memory.
    public var maxMetadataBytes: Int = 4 << 20
    public var maxEntries: Int = 200_000

    public init() {}
}

/// What looking inside a distribution archive found.
public struct ArchiveReport: Sendable {
    /// The metadata member's bytes (`METADATA`, `PKG-INFO` or `DESCRIPTION`), if the archive has one.
    public let metadata: [UInt8]?
    public let metadataMember: String?
    public let entryCount: Int
    public let unpackedBytes: Int64
    /// What the content scan found (empty when none was asked for).
    public let findings: [ContentFinding]
}

/// Looks inside wheels, sdists and R tarballs with libarchive, without unpacking them to disk:
/// places every member as extraction would (`ArchiveTree`: absolute names, `..`, links — or chains
/// of links — leading outside, any link in a wheel, devices are refused), refuses decompression
/// bombs, and reads the one metadata member the ecosystem needs.
public struct ArchiveInspector: Sendable {
    public let limits: ArchiveLimits

    public init(limits: ArchiveLimits = ArchiveLimits()) {
        self.limits = limits
    }

    /// Which member holds the metadata, for each kind of distribution.
    public enum MetadataMember: Sendable {
        /// `<name>.dist-info/METADATA` at the top level of a wheel.
        case wheelMetadata
        /// `<dir>/PKG-INFO` one level down in an sdist.
        case sdistPKGINFO
        /// `<pkg>/DESCRIPTION` one level down in an R source package.
        case rDescription

        func matches(_ name: String) -> Bool {
            let parts = name.split(separator: "/", omittingEmptySubsequences: true)
            switch self {
            case .wheelMetadata: return parts.count == 2 && parts[0].hasSuffix(".dist-info") && parts[1] == "METADATA"
            case .sdistPKGINFO: return parts.count == 2 && parts[1] == "PKG-INFO"
            case .rDescription: return parts.count == 2 && parts[1] == "DESCRIPTION"
            }
        }
    }

    /// Inspects the archive at `path`; `displayName` (the distribution's filename) names it in errors.
    /// With a `scanner`, the members it asks for are scanned in the same pass.
    public func inspect(path: String, displayName: String, metadata member: MetadataMember, scanner: ContentScanner? = nil) throws -> ArchiveReport {
        var metadata: [UInt8]?
        var metadataName: String?
        var scanner = scanner
        let (count, declared) = try walk(path: path, displayName: displayName, scanner: &scanner) { name in
            metadata == nil && member.matches(name)
        } read: { name, bytes in
            metadata = bytes
            metadataName = name
        }
        return ArchiveReport(
            metadata: metadata, metadataMember: metadataName, entryCount: count, unpackedBytes: declared, findings: scanner?.findings ?? [])
    }

    /// Reads every regular member `wanted` selects (each at most `maxMetadataBytes`), with the same checks.
    public func readMembers(path: String, displayName: String, where wanted: (String) -> Bool) throws -> [(name: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        var none: ContentScanner?
        _ = try walk(path: path, displayName: displayName, scanner: &none, wants: wanted) { out.append(($0, $1)) }
        return out
    }

    /// Visits every member: checks names, links and expansion; reads the regular members `wants` picks
    /// and those `scanner` wants to scan (at most `ContentScanner.maxMemberBytes`), and shows it the
    /// first bytes of the others when it checks for binaries.
    private func walk(
        path: String, displayName: String, scanner: inout ContentScanner?, wants: (String) -> Bool, read: (String, [UInt8]) throws -> Void
    ) throws -> (count: Int, declared: Int64) {
        guard let a = archive_read_new() else { throw AirlockError(.storage, "libarchive could not start reading \(displayName)") }
        defer { archive_read_free(a) }
        archive_read_support_filter_all(a)
        if displayName.hasSuffix(".whl") || displayName.hasSuffix(".zip") {
            archive_read_support_format_zip_seekable(a)
        } else {
            archive_read_support_format_tar(a)
            archive_read_support_format_zip(a)
        }
        guard archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK else {
            throw AirlockError(.hostileArchive, "\(displayName) is not a readable archive: \(errorString(a))")
        }
        let packed = max(fileSize(path), 1)
        var tree = ArchiveTree(archive: displayName, rule: displayName.hasSuffix(".whl") ? .noLinks : .linksInside)
        var entry: OpaquePointer?
        var count = 0
        var declared: Int64 = 0
        while true {
            let status = archive_read_next_header(a, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw AirlockError(.hostileArchive, "\(displayName) is corrupt after \(count) members: \(errorString(a))")
            }
            count += 1
            if count > limits.maxEntries {
                throw AirlockError(.hostileArchive, "\(displayName) has more than \(limits.maxEntries) members; refusing it")
            }
            let name = entryName(entry)
            let type = archive_entry_filetype(entry)
            try tree.add(
                name,
                ArchiveTree.Member(
                    fileType: UInt32(type), symlink: archive_entry_symlink(entry).map { String(cString: $0) },
                    hardlink: archive_entry_hardlink(entry).map { String(cString: $0) }))
            declared += max(archive_entry_size(entry), 0)
            // For compressed tar streams, moving past members decompresses them: bound that too.
            let expanded = max(declared, archive_filter_bytes(a, 0))
            try checkExpansion(expanded, packed: packed, in: displayName, member: name)
            guard type == airlock_ae_ifreg else { continue }
            let forMetadata = wants(name)
            let forScan = scanner?.wantsContent(name) == true
            if forScan && !forMetadata && archive_entry_size(entry) > ContentScanner.maxMemberBytes {
                // Install-time code this large is rare: its first part is scanned (payloads start early).
                scanner?.scan(member: name, bytes: try readPrefix(a, count: ContentScanner.maxMemberBytes))
            } else if forMetadata || forScan {
                let bytes = try readMember(a, name: name, in: displayName)
                if forMetadata { try read(name, bytes) }
                if forScan { scanner?.scan(member: name, bytes: bytes) }
                if scanner?.checksMagic == true { scanner?.checkMagic(member: name, prefix: Array(bytes.prefix(512))) }
            } else if scanner?.checksMagic == true {
                scanner?.checkMagic(member: name, prefix: try readPrefix(a, count: 512))
            }
        }
        try tree.finish()
        return (count, declared)
    }

    func checkExpansion(_ unpacked: Int64, packed: Int64, in archive: String, member: String) throws {
        if unpacked > limits.maxUnpackedBytes {
            throw AirlockError(
                .hostileArchive,
                "\(archive) unpacks to more than \(limits.maxUnpackedBytes) bytes (at member '\(member)'); refusing it as a decompression bomb")
        }
        let ratio = Double(unpacked) / Double(packed)
        if unpacked > limits.ratioFloor && ratio > limits.maxRatio {
            throw AirlockError(
                .hostileArchive,
                "\(archive) expands \(Int(ratio))× (\(unpacked) bytes from \(packed)) at member '\(member)'; refusing it as a decompression bomb (limit \(Int(limits.maxRatio))×)"
            )
        }
    }

    private func readMember(_ a: OpaquePointer, name: String, in archive: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(a, $0.baseAddress, $0.count) }
            if n == 0 { break }
            guard n > 0 else { throw AirlockError(.hostileArchive, "\(archive): cannot read member '\(name)': \(errorString(a))") }
            out.append(contentsOf: buffer[0..<n])
            if out.count > limits.maxMetadataBytes {
                throw AirlockError(.hostileArchive, "\(archive): member '\(name)' is larger than \(limits.maxMetadataBytes) bytes; refusing it")
            }
        }
        return out
    }

    /// Up to `count` first bytes of the current member (libarchive skips the rest at the next header).
    private func readPrefix(_ a: OpaquePointer, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(a, $0.baseAddress! + filled, count - filled) }
            if n <= 0 { break }
            filled += n
        }
        return Array(buffer[0..<filled])
    }

    private func entryName(_ entry: OpaquePointer) -> String {
        if let utf8 = archive_entry_pathname_utf8(entry) { return String(cString: utf8) }
        if let raw = archive_entry_pathname(entry) { return String(cString: raw) }
        return ""
    }

    private func errorString(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    private func fileSize(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : 0
    }
}
