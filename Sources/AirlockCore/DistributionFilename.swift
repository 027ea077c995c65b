/// What a distribution's filename says: a wheel's name, version and tags, or an sdist's name and version.
public struct DistributionFilename: Hashable, Sendable {
    public enum Kind: String, Sendable, Codable {
        case wheel, sdist
    }

    public let kind: Kind
    public let project: ProjectName
    public let version: PythonVersion
    /// For wheels: the compressed tag set (empty for sdists).
    public let tags: WheelTags

    /// Parses `name-1.0-py3-none-any.whl` or `name-1.0.tar.gz`/`.zip`. The project name, when known,
    /// disambiguates sdists of projects whose names contain dashes.
    public init?(_ filename: String, project: ProjectName? = nil) {
        if filename.hasSuffix(".whl") {
            let parts = filename.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
            let name = ProjectName(String(parts[0]))
            guard parts.count == 5 || parts.count == 6, !name.normalized.isEmpty, let v = PythonVersion(String(parts[1])) else { return nil }
            let n = parts.count
            guard let tags = WheelTags(python: parts[n - 3], abi: parts[n - 2], platform: parts[n - 1]) else { return nil }
            self.kind = .wheel
            self.project = name
            self.version = v
            self.tags = tags
            return
        }
        guard let base = DistributionFilename.sdistBase(filename) else { return nil }
        // Try each dash as the name/version boundary, preferring the one matching the known project.
        let dashes = base.indices.filter { base[$0] == "-" }
        var chosen: (String, PythonVersion)?
        for d in dashes {
            let name = String(base[..<d])
            guard !ProjectName.normalize(name).isEmpty, let v = PythonVersion(String(base[base.index(after: d)...])) else { continue }
            if let project, ProjectName.normalize(name) != project.normalized { continue }
            chosen = (name, v)
            break
        }
        guard let (name, v) = chosen else { return nil }
        self.kind = .sdist
        self.project = ProjectName(name)
        self.version = v
        self.tags = WheelTags()
    }

    static func sdistBase(_ filename: String) -> Substring? {
        for ext in [".tar.gz", ".zip", ".tar.bz2", ".tgz"] where filename.hasSuffix(ext) {
            return filename.dropLast(ext.count)
        }
        return nil
    }
}

/// A wheel's compressed tag set (PEP 425: `py2.py3-none-any`), kept as its three lists: the triples
/// it names are their product, which is never multiplied out (a hostile filename can name millions).
public struct WheelTags: Hashable, Sendable {
    /// Most tags one part may list; real wheels list a handful (manylinux aliases, macOS universal).
    public static let maxPerPart = 32

    public let pythons: [String]
    public let abis: [String]
    public let platforms: [String]

    init() {
        (pythons, abis, platforms) = ([], [], [])
    }

    /// The three dotted parts of a wheel filename, or nil when one is empty or lists more than `maxPerPart` tags.
    init?(python: Substring, abi: Substring, platform: Substring) {
        var parts: [[String]] = []
        for part in [python, abi, platform] {
            guard part.utf8.count <= Self.maxPerPart * 64 else { return nil }
            let tags = part.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard tags.count <= Self.maxPerPart, !tags.contains(where: \.isEmpty) else { return nil }
            parts.append(tags)
        }
        (pythons, abis, platforms) = (parts[0], parts[1], parts[2])
    }

    /// Whether some (python, abi, platform) of the set passes `accepts`.
    public func contains(where accepts: (_ python: String, _ abi: String, _ platform: String) -> Bool) -> Bool {
        pythons.contains { py in abis.contains { abi in platforms.contains { accepts(py, abi, $0) } } }
    }
}
