import Foundation

/// The outcome of a finished child process.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var succeeded: Bool { status == 0 }
    public var output: String { stdout + stderr }
}

/// Runs child processes for integration tests: a one-shot run, or a long-running server.
public enum Subprocess {
    /// Environment for Python clients: no user pip config, no machine-wide find-links, no cache.
    public static func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        // The clients trust only the CAs a test names (REQUESTS_CA_BUNDLE would override pip's --cert).
        let trust: Set<String> = ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"]
        for key in env.keys where key.hasPrefix("PIP_") || key.hasPrefix("UV_") || key == "VIRTUAL_ENV" || trust.contains(key) { env.removeValue(forKey: key) }
        env["PIP_CONFIG_FILE"] = "/dev/null"
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env["PIP_NO_CACHE_DIR"] = "1"
        env["UV_NO_CACHE"] = "1"
        env["UV_NO_CONFIG"] = "1"
        env["NO_COLOR"] = "1"
        return env.merging(extra) { $1 }
    }

    /// Runs `executable args` to completion and captures its output.
    public static func run(_ executable: String, _ args: [String], environment: [String: String]? = nil, directory: String? = nil) throws -> ProcessResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        if let environment { p.environment = environment }
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = readToEnd(err.fileHandleForReading.fileDescriptor)
            group.leave()
        }
        let outData = readToEnd(out.fileHandleForReading.fileDescriptor)
        group.wait()
        p.waitUntilExit()
        return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Everything a pipe gives until its end. Foundation's `readDataToEndOfFile` traps on EINTR (a
    /// signal arriving while it reads); this retries it.
    static func readToEnd(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                data.append(contentsOf: buffer[0..<n])
            } else if n == 0 || errno != EINTR {
                return data
            }
        }
    }

    /// `run` on a thread of its own, for async tests that serve in process: a blocking wait on
    /// Swift's few cooperative threads would starve the very server the child is talking to.
    public static func runOffPool(_ executable: String, _ args: [String], environment: [String: String]? = nil, directory: String? = nil) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { done in
            Thread { done.resume(with: Result { try run(executable, args, environment: environment, directory: directory) }) }.start()
        }
    }

    /// Finds a program on PATH.
    public static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// A child process that keeps running (a server) until stopped; stopped when released.
public final class RunningProcess: @unchecked Sendable {
    public let process: Process
    private let logPath: String

    /// Starts the process with stdout and stderr going to `logPath`.
    public init(_ executable: String, _ args: [String], environment: [String: String]? = nil, logPath: String) throws {
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        if let environment { process.environment = environment }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Everything the process has written so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the log has a line matching `pattern` and returns its first capture group.
    public func waitForLine(matching pattern: String, timeout: TimeInterval = 30) throws -> String {
        let regex = try NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = log
            if let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), let r = Range(m.range(at: 1), in: text) {
                return String(text[r])
            }
            if !process.isRunning { throw TestSupportError("process exited (status \(process.terminationStatus)) before printing /\(pattern)/; log:\n\(text)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestSupportError("timed out waiting for /\(pattern)/; log:\n\(log)")
    }

    /// Sends SIGKILL: the process gets no chance to clean up. (Children inherit the test runner's
    /// blocked signal mask, so SIGTERM may never arrive; SIGKILL cannot be blocked.)
    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    public func stop() { kill() }

    /// Sends SIGTERM and waits up to `timeout` seconds; returns the seconds it took to exit, or nil
    /// if it was still running (then it is killed).
    public func terminate(timeout: Double) -> Double? {
        guard process.isRunning else { return 0 }
        let start = Date()
        Foundation.kill(process.processIdentifier, SIGTERM)
        while process.isRunning && Date().timeIntervalSince(start) < timeout { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill()
            return nil
        }
        return Date().timeIntervalSince(start)
    }

    /// Sends SIGHUP.
    public func hangUp() { Foundation.kill(process.processIdentifier, SIGHUP) }

    deinit { stop() }
}

/// A failure inside the test support code itself, with what it saw.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
