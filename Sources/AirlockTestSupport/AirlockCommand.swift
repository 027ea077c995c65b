import Foundation

/// The built `airlock` executable, run as users run it.
public enum AirlockCommand {
    /// Beside the test bundle in the build directory, unless AIRLOCK_BINARY says otherwise.
    public static var binary: String {
        if let explicit = ProcessInfo.processInfo.environment["AIRLOCK_BINARY"] { return explicit }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("airlock").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("airlock").path
    }

    public static func run(_ args: [String]) throws -> ProcessResult {
        try Subprocess.run(binary, args, environment: ProcessInfo.processInfo.environment.merging(["AIRLOCK_LOG_LEVEL": "info"]) { $1 })
    }

    /// Starts `airlock serve` on a free port and waits until it listens.
    public static func serve(data: String, logDirectory: String, extraArgs: [String] = []) throws -> Server {
        let process = try RunningProcess(
            binary, ["serve", "--data", data, "--port", "0"] + extraArgs, logPath: logDirectory + "/serve-\(UUID().uuidString.prefix(6)).log")
        let port = Int(try process.waitForLine(matching: #"airlock serving https?://127\.0\.0\.1:(\d+)/"#))!
        return Server(process: process, port: port, scheme: extraArgs.contains("--tls-cert") ? "https" : "http")
    }

    /// A running `airlock serve`.
    public struct Server: Sendable {
        public let process: RunningProcess
        public let port: Int
        public var scheme = "http"
        public var base: String { "\(scheme)://127.0.0.1:\(port)" }
    }
}

/// pip and uv, each in a fresh virtual environment, installing from an index URL.
public enum PythonClients {
    /// Creates a venv with `python -m venv` and installs `packages` with its pip.
    public static func pipInstall(_ packages: [String], index: String, in directory: String, extraArgs: [String] = []) throws -> (
        ProcessResult, python: String
    ) {
        let venv = directory + "/pip-venv-\(UUID().uuidString.prefix(6))"
        let made = try Subprocess.run(FixtureScripts.python, ["-m", "venv", "--without-pip", venv])
        guard made.succeeded else { throw TestSupportError("venv failed: \(made.output)") }
        // Use the host pip to install into the venv (--python needs pip ≥ 22.3).
        let r = try Subprocess.run(
            FixtureScripts.python,
            ["-m", "pip", "--python", venv + "/bin/python", "install", "--index-url", index, "--no-input"] + extraArgs + packages,
            environment: Subprocess.cleanEnvironment())
        return (r, venv + "/bin/python")
    }

    /// Creates a venv with uv and installs `packages` with `uv pip install`.
    public static func uvInstall(_ packages: [String], index: String, in directory: String, environment: [String: String] = [:]) throws -> (
        ProcessResult, python: String
    ) {
        guard let uv = Subprocess.which("uv") else { throw TestSupportError("uv is not installed (pip install uv)") }
        let venv = directory + "/uv-venv-\(UUID().uuidString.prefix(6))"
        let made = try Subprocess.run(uv, ["venv", "--python", FixtureScripts.python, venv], environment: Subprocess.cleanEnvironment())
        guard made.succeeded else { throw TestSupportError("uv venv failed: \(made.output)") }
        let r = try Subprocess.run(
            uv, ["pip", "install", "--python", venv + "/bin/python", "--index-url", index] + packages,
            environment: Subprocess.cleanEnvironment(environment))
        return (r, venv + "/bin/python")
    }

    /// Runs Python code with the venv's interpreter.
    public static func python(_ interpreter: String, _ code: String) throws -> ProcessResult {
        try Subprocess.run(interpreter, ["-c", code], environment: Subprocess.cleanEnvironment())
    }
}

/// Fetches a URL with curl and returns the status code and body.
public func httpGet(_ url: String, headers: [String] = [], insecure: Bool = false) throws -> (status: Int, body: String) {
    let r = try Subprocess.run("/usr/bin/curl", ["-s", "-w", "\n%{http_code}"] + (insecure ? ["-k"] : []) + headers.flatMap { ["-H", $0] } + [url])
    guard let last = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).last, let status = Int(last) else {
        throw TestSupportError("curl \(url) failed: \(r.output)")
    }
    return (status, String(r.stdout.dropLast(last.count + 1)))
}

/// The samples at a Prometheus `/metrics` URL, parsed by prometheus_client's own text parser (so a
/// malformed exposition fails): `name{label="value",…}` (labels sorted) → value.
public func prometheusSamples(_ url: String) throws -> [String: Double] {
    let text = try httpGet(url).body
    let file = NSTemporaryDirectory() + "metrics-\(UUID().uuidString).txt"
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    let r = try Subprocess.run(
        FixtureScripts.python,
        [
            "-c",
            """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    print(f"{s.name}{{{labels}}} {s.value}")
            """, file,
        ])
    guard r.succeeded else { throw TestSupportError("\(url) does not parse as Prometheus text:\n\(r.output)\n\(text)") }
    var out: [String: Double] = [:]
    for line in r.stdout.split(separator: "\n") {
        let parts = line.split(separator: " ")
        if parts.count == 2 { out[String(parts[0])] = Double(parts[1]) }
    }
    return out
}
