/// Names one release of one project: the key by which decisions, overrides and manifests meet.
public struct ReleaseKey: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The normalized project name.
    public var project: String
    public var version: String

    public init(_ project: String, _ version: String) {
        self.project = project
        self.version = version
    }

    public var description: String { "\(project)==\(version)" }

    public static func < (a: ReleaseKey, b: ReleaseKey) -> Bool { (a.project, a.version) < (b.project, b.version) }
}

/// Why a sync mirrors a requirement: the stored selection asked for it, or a release depends on it.
public enum RequirementOrigin: Hashable, Sendable, CustomStringConvertible {
    case selection
    /// Required by this release (`name version` or `name==version`, as the ecosystem writes it).
    case dependency(of: String)

    public var description: String {
        switch self {
        case .selection: "the stored selection"
        case .dependency(let release): release
        }
    }

    public var isSelection: Bool { self == .selection }
}

/// Version order per ecosystem: PEP 440 for PyPI, R's `package_version` for CRAN. Versions that do not
/// parse sort as text, before those that do not.
public enum VersionOrder {
    public static func older(_ a: String, _ b: String, _ ecosystem: Ecosystem) -> Bool {
        switch ecosystem {
        case .pypi:
            guard let x = PythonVersion(a), let y = PythonVersion(b) else { return a < b }
            return x < y
        case .cran:
            guard let x = RVersion(a), let y = RVersion(b) else { return a < b }
            return x < y
        }
    }
}
