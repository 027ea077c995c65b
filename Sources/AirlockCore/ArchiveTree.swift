/// An archive's members as extraction would lay them out, so a member that would land outside the
/// extraction directory is refused before any client unpacks it.
///
/// Each member is placed as a file system would place it: its path is resolved component by
/// component, following every symbolic link placed before it (as `tar`, R's `untar` and pip
/// would when they create it), and a link's target is resolved the same way from the link's
/// directory. When the archive ends (`finish`), every link is resolved again against all the links
/// the archive holds, since a later link can change where an earlier one leads. Names are judged as
/// paths, never as text: `a -> ..`, `a/b -> ..`, `a/b/c/escaped.txt` is three harmless-looking
/// names and one file two levels up.
///
/// Used by every reader of archives: wheels, sdists and CRAN tarballs (`ArchiveInspector`) and
/// air-gap bundles.
public struct ArchiveTree: Sendable {
    /// Which links an archive of this kind may hold.
    public enum LinkRule: Sendable {
        /// None at all: wheels (pip and uv write a zip's link as a file) and air-gap bundles.
        case noLinks
        /// Symbolic and hard links whose targets resolve inside the archive: sdists and R tarballs.
        case linksInside
    }

    /// What a member is.
    public enum Member: Sendable, Equatable {
        case file
        case directory
        case symlink(target: String)
        /// A hard link to an earlier member, named from the archive's root.
        case hardlink(target: String)
        /// A device, FIFO or socket: never part of a package.
        case special

        /// An entry as libarchive describes it: its file type (`AE_IF*`, the POSIX `S_IF*` values; 0
        /// where the format has none, as plain zip members) and link targets. A hard link wins:
        /// tar marks hard links on entries of any type.
        public init(fileType: UInt32, symlink: String?, hardlink: String?) {
            if let hardlink {
                self = .hardlink(target: hardlink)
                return
            }
            switch fileType & 0o170000 {
            case 0o120000: self = .symlink(target: symlink ?? "")
            case 0o040000: self = .directory
            case 0, 0o100000: self = .file
            default: self = .special
            }
        }
    }

    /// Symbolic links followed while resolving one path before it is called a loop (Linux: 40).
    static let maxHops = 40
    /// Longest member name, and deepest path, considered.
    static let maxNameBytes = 4096
    static let maxDepth = 256

    private enum Node: Sendable {
        case file
        case directory
        case symlink(String)
    }

    private let rule: LinkRule
    /// Every placed path (resolved, so free of links but the last component), root-relative.
    private var nodes: [String: Node] = [:]
    /// The symlinks in the order they were placed, re-resolved by `finish`.
    private var links: [(path: [String], target: String)] = []
    private let archive: String

    /// A tree for the archive `archive` (its name in errors) under `rule`.
    public init(archive: String, rule: LinkRule) {
        self.archive = archive
        self.rule = rule
    }

    /// Places every member of a whole archive, then `finish`es: throws at the first it refuses.
    public static func check(_ members: [(String, Member)], archive: String, rule: LinkRule) throws {
        var tree = ArchiveTree(archive: archive, rule: rule)
        for (name, member) in members { try tree.add(name, member) }
        try tree.finish()
    }

    /// Places one member, or throws `.hostileArchive` naming it and why.
    public mutating func add(_ name: String, _ member: Member) throws {
        guard name.utf8.count <= Self.maxNameBytes else { throw refusal(name, "its name is longer than \(Self.maxNameBytes) bytes") }
        if name.isEmpty || name.hasPrefix("/") || name.hasPrefix("\\") || name.utf8.contains(0) || Self.hasDrive(name) {
            throw refusal(name, "its name is absolute or empty")
        }
        // Windows extractors split at '\\' too.
        guard !name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).contains("..") else { throw refusal(name, "its name climbs out with '..'") }
        let components = Self.components(name)
        guard components.count <= Self.maxDepth else { throw refusal(name, "it is nested deeper than \(Self.maxDepth) levels") }
        guard let last = components.last else {
            if member == .directory { return }  // "./": the root itself
            throw refusal(name, "its name names the archive's root")
        }
        // Where extraction creates it: the parent directory with every link in it followed.
        guard let parent = try resolve(Array(components.dropLast()), from: [], name: name) else {
            throw refusal(name, "a link on its path leads outside the archive")
        }
        let path = parent + [last]
        switch member {
        case .special:
            throw refusal(name, "it is a device, FIFO or socket")
        case .symlink(let target):
            guard rule == .linksInside else { throw refusal(name, "it is a symbolic link ('\(target)'), which this kind of archive may not hold") }
            guard try resolve(Self.components(target), from: parent, name: name, absolute: target.hasPrefix("/")) != nil else {
                throw refusal(name, "it is a link to '\(target)', outside the archive")
            }
            nodes[Self.key(path)] = .symlink(target)
            links.append((path, target))
        case .hardlink(let target):
            guard rule == .linksInside else { throw refusal(name, "it is a hard link ('\(target)'), which this kind of archive may not hold") }
            guard !target.hasPrefix("/"), let resolved = try resolve(Self.components(target), from: [], name: name) else {
                throw refusal(name, "it is a hard link to '\(target)', outside the archive")
            }
            guard case .file = nodes[Self.key(resolved)] else {
                throw refusal(name, "it is a hard link to '\(target)', which is not a regular file placed before it")
            }
            try place(path, .file, name: name)
        case .file:
            try place(path, .file, name: name)
        case .directory:
            try place(path, .directory, name: name)
        }
    }

    /// Checks every link again now that all are known: a link placed later can move where an
    /// earlier one leads (`a -> b/..` then `b -> ..`).
    public func finish() throws {
        for link in links {
            guard try resolve(link.path, from: [], name: Self.key(link.path)) != nil else {
                throw refusal(Self.key(link.path), "it is a link to '\(link.target)', which leads outside the archive once every link is placed")
            }
        }
    }

    /// Creates a file or directory at `path`, whose last component may be a link already placed:
    /// writing through it is what R's `untar` and many extractors do, so it is followed too.
    private mutating func place(_ path: [String], _ node: Node, name: String) throws {
        guard let resolved = try resolve(path, from: [], name: name) else {
            throw refusal(name, "it would be written through a link that leads outside the archive")
        }
        if case .directory = nodes[Self.key(resolved)], case .file = node { return }  // odd, but harmless
        nodes[Self.key(resolved)] = node
    }

    /// `components` resolved from the directory `base` as a file system would, every placed link
    /// followed; nil when it leaves the root. Throws on a loop of links.
    private func resolve(_ components: [String], from base: [String], name: String, absolute: Bool = false) throws -> [String]? {
        if absolute { return nil }
        var resolved = base
        var rest = components[...].reversed() as [String]  // a stack: next component last
        var hops = 0
        while let component = rest.popLast() {
            if component.isEmpty || component == "." { continue }
            if component == ".." {
                guard !resolved.isEmpty else { return nil }
                resolved.removeLast()
                continue
            }
            resolved.append(component)
            guard case .symlink(let target) = nodes[Self.key(resolved)] else { continue }
            hops += 1
            guard hops <= Self.maxHops else { throw refusal(name, "its path goes round a loop of links") }
            if target.hasPrefix("/") { return nil }
            resolved.removeLast()
            rest.append(contentsOf: Self.components(target).reversed())
            guard rest.count <= Self.maxDepth * 4 else {
                throw refusal(name, "its links expand to a path deeper than \(Self.maxDepth * 4) components")
            }
        }
        return resolved
    }

    private static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
    }

    private static func key(_ path: [String]) -> String { path.joined(separator: "/") }

    private static func hasDrive(_ name: String) -> Bool {
        let bytes = Array(name.utf8.prefix(2))
        return bytes.count == 2 && bytes[1] == UInt8(ascii: ":") && (UInt8(ascii: "A")...UInt8(ascii: "z")).contains(bytes[0])
    }

    private func refusal(_ member: String, _ why: String) -> AirlockError {
        AirlockError(.hostileArchive, "\(archive) has an unsafe member name '\(member)': \(why); refusing it")
    }
}
