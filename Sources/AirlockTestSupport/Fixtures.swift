import Foundation

/// A temporary directory, removed when released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "airlock-test") throws {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func sub(_ name: String) -> String {
        let p = path + "/" + name
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// One package for the builder: real wheels and sdists, optionally hostile.
public struct PackageSpec: Encodable, Sendable {
    public var name: String
    public var version: String
    public var requires: [String]
    public var extras: [String: [String]]
    public var kinds: [String]
    public var code: String?
    public var hostile: String?
    public var bomb_mib: Int?
    public var author: String?
    public var author_email: String?
    public var payload_kib: Int?
    public var license: String?
    public var license_expression: String?
    public var classifiers: [String]?
    /// "crlf" writes the wheel's METADATA with CRLF line ends.
    public var line_endings: String?
    /// The wheel's tag (default `py3-none-any`).
    public var tag: String?
    /// `Requires-Python` in the core metadata.
    public var requires_python: String?
    /// More members (path → text, or `b64:` and base64 bytes); `{distinfo}` names the wheel's .dist-info.
    public var extra_files: [String: String]?
    /// `Project-URL: Source, …` in the core metadata.
    public var source_url: String?

    public init(
        _ name: String, _ version: String, requires: [String] = [], extras: [String: [String]] = [:], kinds: [String] = ["wheel"],
        code: String? = nil, hostile: String? = nil, bombMiB: Int? = nil, payloadKiB: Int? = nil, license: String? = nil,
        licenseExpression: String? = nil,
        classifiers: [String]? = nil, lineEndings: String? = nil, tag: String? = nil, requiresPython: String? = nil,
        extraFiles: [String: String]? = nil,
        sourceURL: String? = nil
    ) {
        self.source_url = sourceURL
        self.extra_files = extraFiles
        self.tag = tag
        self.requires_python = requiresPython
        self.license = license
        self.license_expression = licenseExpression
        self.classifiers = classifiers
        self.line_endings = lineEndings
        self.payload_kib = payloadKiB
        self.name = name
        self.version = version
        self.requires = requires
        self.extras = extras
        self.kinds = kinds
        self.code = code
        self.hostile = hostile
        self.bomb_mib = bombMiB
    }
}

/// The Python fixture scripts shipped in this target.
public enum FixtureScripts {
    public static func path(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: "py", inDirectory: "Fixtures")
            ?? Bundle.module.bundlePath + "/Fixtures/\(name).py"
    }

    public static var python: String { Subprocess.which("python3") ?? "/usr/bin/python3" }

    /// Builds the packages into `directory`; returns the filenames written.
    @discardableResult
    public static func build(_ packages: [PackageSpec], into directory: String) throws -> [String] {
        let spec = directory + "/.spec-\(UUID().uuidString).json"
        try JSONEncoder().encode(packages).write(to: URL(fileURLWithPath: spec))
        defer { try? FileManager.default.removeItem(atPath: spec) }
        let r = try Subprocess.run(python, [path("build_packages"), spec, directory])
        guard r.succeeded else { throw TestSupportError("building packages failed:\n\(r.output)") }
        return try JSONDecoder().decode([String].self, from: Data(r.stdout.utf8))
    }
}

/// Waits until `condition` holds, checking every 100 ms, for at most `seconds`; throws naming `what` otherwise.
public func eventually(_ what: String, seconds: Double = 15, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.1)
    }
    if try condition() { return }
    throw TimedOut(what: what, seconds: seconds)
}

/// What `eventually` throws: a condition that never held.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let seconds: Double
    public var description: String { "timed out after \(seconds) s waiting for: \(what)" }
}
