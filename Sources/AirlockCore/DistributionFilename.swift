/// What a distribution's filename says: a wheel's name, version and tags, or an sdist's name and version.
public struct DistributionFilename: Hashable, Sendable {
    public enum Kind: String, Sendable, Codable {
        case wheel, sdist
    }

    public let kind: Kind
    public let project: ProjectName
    public let version: PythonVersion
    /// For wheels: every (python, abi, platform) triple the compressed tag set expands to.
    public let tags: [WheelTag]

    /// Parses `name-1.0-py3-none-any.whl` or `name-1.0.tar.gz`/`.zip`. The project name, when known,
    /// disambiguates sdists of projects whose names contain dashes.
    public init?(_ filename: String, project: ProjectName? = nil) {
        if filename.hasSuffix(".whl") {
            let parts = filename.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 5 || parts.count == 6, !ProjectName.normalize(String(parts[0])).isEmpty, let v = PythonVersion(String(parts[1])) else { return nil }
            let n = parts.count
            var tags: [WheelTag] = []
            for py in parts[n - 3].split(separator: ".") {
                for abi in parts[n - 2].split(separator: ".") {
                    for plat in parts[n - 1].split(separator: ".") {
                        tags.append(WheelTag(python: String(py), abi: String(abi), platform: String(plat)))
                    }
                }
            }
            guard !tags.isEmpty else { return nil }
            self.kind = .wheel
            self.project = ProjectName(String(parts[0]))
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
        self.tags = []
    }

    static func sdistBase(_ filename: String) -> Substring? {
        for ext in [".tar.gz", ".zip", ".tar.bz2", ".tgz"] where filename.hasSuffix(ext) {
            return filename.dropLast(ext.count)
        }
        return nil
    }
}

/// One wheel compatibility tag, as PEP 425 names it.
public struct WheelTag: Hashable, Sendable, CustomStringConvertible {
    public let python: String
    public let abi: String
    public let platform: String
    public var description: String { "\(python)-\(abi)-\(platform)" }
}
