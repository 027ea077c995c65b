/// An environment the mirror serves: one Python version on one platform. It answers which wheels
/// such a machine can install and what its PEP 508 marker variables are.
public struct TargetEnvironment: Hashable, Sendable, CustomStringConvertible {
    public let pythonVersion: PythonVersion
    public let platform: String
    /// Every platform tag this machine accepts: older manylinux/musllinux/macOS levels included.
    public let platformTags: Set<String>
    /// The interpreter version `Requires-Python` is checked against (`3.11` counts as `3.11.0`).
    private let fullVersion: PythonVersion
    /// Marker variables for this environment (`extra` is left to the caller).
    public private(set) var markerEnvironment: [String: String] = [:]

    /// `python` is `3.11` or `3.11.7`; `platform` a wheel platform tag such as `manylinux_2_28_x86_64`.
    public init(python: String, platform: String) throws {
        guard let v = PythonVersion(python), v.release.count >= 2, v.release[0] == 3, !v.isPrerelease else {
            throw AirlockError(.invalidArgument, "invalid --python '\(python)': expected a CPython 3 version such as 3.11")
        }
        let known = ["manylinux", "musllinux", "linux_", "macosx_", "win", "any"]
        guard known.contains(where: platform.hasPrefix) else {
            throw AirlockError(
                .invalidArgument,
                "invalid --platform '\(platform)': expected a wheel platform tag such as manylinux_2_28_x86_64, macosx_11_0_arm64 or win_amd64")
        }
        self.pythonVersion = v
        self.platform = platform
        self.platformTags = Self.platformTags(of: platform)
        self.fullVersion = v.release.count >= 3 ? v : PythonVersion("\(v.release[0]).\(v.release[1]).0")!
        self.markerEnvironment = markerVariables()
    }

    public static func == (a: Self, b: Self) -> Bool { a.pythonVersion == b.pythonVersion && a.platform == b.platform }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(pythonVersion)
        hasher.combine(platform)
    }

    public var description: String { "cp\(minor.0)\(minor.1) on \(platform)" }

    var minor: (Int, Int) { (pythonVersion.release[0], pythonVersion.release[1]) }

    private func markerVariables() -> [String: String] {
        let (major, minor) = self.minor
        let full = fullVersion.description
        let (sysPlatform, system, osName) = platformIdentity
        return [
            "python_version": "\(major).\(minor)",
            "python_full_version": full,
            "implementation_version": full,
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": sysPlatform,
            "platform_system": system,
            "os_name": osName,
            "platform_machine": machine,
            "platform_release": "",
            "platform_version": "",
        ]
    }

    private var platformIdentity: (String, String, String) {
        if platform.hasPrefix("macosx") { return ("darwin", "Darwin", "posix") }
        if platform.hasPrefix("win") { return ("win32", "Windows", "nt") }
        return ("linux", "Linux", "posix")
    }

    private var machine: String {
        switch platform {
        case "win_amd64": return "AMD64"
        case "win32": return "x86"
        case "win_arm64": return "ARM64"
        default: break
        }
        for arch in ["x86_64", "aarch64", "arm64", "i686", "ppc64le", "s390x", "armv7l", "universal2"] where platform.hasSuffix(arch) {
            return arch
        }
        return ""
    }

    private static func platformTags(of platform: String) -> Set<String> {
        var tags: Set<String> = [platform]
        let parts = platform.split(separator: "_").map(String.init)
        if parts.first == "manylinux" || parts.first == "musllinux", parts.count >= 4,
            let major = Int(parts[1]), let minor = Int(parts[2])
        {
            let arch = parts[3...].joined(separator: "_")
            for m in 0...minor { tags.insert("\(parts[0])_\(major)_\(m)_\(arch)") }
            if parts[0] == "manylinux" && major == 2 {
                if minor >= 17 { tags.insert("manylinux2014_\(arch)") }
                if minor >= 12 { tags.insert("manylinux2010_\(arch)") }
                if minor >= 5 { tags.insert("manylinux1_\(arch)") }
            }
            if parts[0] == "manylinux" { tags.insert("linux_\(arch)") }
        }
        if parts.first == "macosx", parts.count >= 4, let major = Int(parts[1]), let minor = Int(parts[2]) {
            let arch = parts[3...].joined(separator: "_")
            let arches = arch == "arm64" ? ["arm64", "universal2"] : [arch, "intel", "universal2", "universal"]
            var versions = (0...(major == 10 ? minor : 15)).map { (10, $0) }
            if major >= 11 { versions += (11...major).map { ($0, 0) } }
            for a in arches {
                for (m, mi) in versions { tags.insert("macosx_\(m)_\(mi)_\(a)") }
            }
        }
        return tags
    }

    /// Whether a wheel with these tags installs here (PEP 425 rules as pip applies them).
    public func accepts(_ tags: WheelTags) -> Bool {
        let platforms = platformTags
        let (major, minor) = self.minor
        let cp = "cp\(major)\(minor)"
        return tags.contains { python, abi, platform in
            let platformOK = platform == "any" || platforms.contains(platform)
            guard platformOK else { return false }
            if python == cp && [cp, "abi3", "none"].contains(abi) { return true }
            if abi == "abi3", platform != "any", python.hasPrefix("cp\(major)"), let k = Int(python.dropFirst(3)), k <= minor {
                return true
            }
            if abi == "none" {
                if python == "py\(major)" || python == "py\(major)\(minor)" { return true }
                if python.hasPrefix("py\(major)"), let k = Int(python.dropFirst(3)), k <= minor { return true }
            }
            return false
        }
    }

    /// Whether a distribution file installs here: its `Requires-Python` admits this interpreter, and a
    /// wheel's tags fit (an sdist builds wherever its `Requires-Python` allows).
    public func installs(filename: String, requiresPython: String?) -> Bool {
        guard satisfies(requiresPython: requiresPython) else { return false }
        guard filename.hasSuffix(".whl") else { return true }
        return DistributionFilename(filename).map { accepts($0.tags) } ?? false
    }

    /// Whether a distribution's `Requires-Python` admits this environment's interpreter.
    public func satisfies(requiresPython: String?) -> Bool {
        guard let rp = requiresPython?.trimmingWhitespace(), !rp.isEmpty else { return true }
        guard let spec = VersionSpecifierSet(rp) else { return true }
        return spec.contains(fullVersion, prereleases: true)
    }
}
