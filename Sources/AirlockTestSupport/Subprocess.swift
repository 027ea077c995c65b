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
        for key in env.keys where key.hasPrefix("PIP_") || key.hasPrefix("UV_") || key == "VIRTUAL_ENV" || trust.contains(key) {
            env.removeValue(forKey: key)
        }
        env["PIP_CONFIG_FILE"] = "/dev/null"
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env["PIP_NO_CACHE_DIR"] = "1"
        env["UV_NO_CACHE"] = "1"
        env["UV_NO_CONFIG"] = "1"
        env["NO_COLOR"] = "1"
        return env.merging(extra) { $1 }
    }

    /// Runs `executable args` to completion and captures its output.
    public static func run(_ executable: String, _ args: [String], environment: [String: String]? = nil, directory: String? = nil) throws
        -> ProcessResult
    {
        let out = try ChildProcess.pipe()
        let err = try ChildProcess.pipe()
        let child: ChildProcess
        do {
            child = try ChildProcess(executable, args, environment: environment, directory: directory, stdout: out.write, stderr: err.write)
        } catch {
            for fd in [out.read, out.write, err.read, err.write] { close(fd) }
            throw error
        }
        close(out.write)
        close(err.write)
        let (stdout, stderr) = readBoth(out.read, err.read)
        close(out.read)
        close(err.read)
        return ProcessResult(
            status: child.waitUntilExit(), stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Everything two pipes give until both end, read as it comes so a chatty child never blocks on a full pipe.
    static func readBoth(_ a: Int32, _ b: Int32) -> ([UInt8], [UInt8]) {
        var data: [[UInt8]] = [[], []]
        var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while fds.contains(where: { $0.fd >= 0 }) {
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 else {
                if errno == EINTR { continue }
                break
            }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    data[i].append(contentsOf: buffer[0..<n])
                } else if n == 0 || errno != EINTR {
                    fds[i].fd = -1  // poll skips negative descriptors; the caller closes the pipe
                }
            }
        }
        return (data[0], data[1])
    }

    /// `run` on a thread of its own, for async tests that serve in process: a blocking wait on
    /// Swift's few cooperative threads would starve the very server the child is talking to.
    public static func runOffPool(_ executable: String, _ args: [String], environment: [String: String]? = nil, directory: String? = nil) async throws
        -> ProcessResult
    {
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
public final class RunningProcess: Sendable {
    private let child: ChildProcess
    private let logPath: String

    /// Starts the process with stdout and stderr going to `logPath`.
    public init(_ executable: String, _ args: [String], environment: [String: String]? = nil, logPath: String) throws {
        self.logPath = logPath
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw TestSupportError("cannot open \(logPath): \(String(cString: strerror(errno)))") }
        defer { close(log) }
        child = try ChildProcess(executable, args, environment: environment, directory: nil, stdout: log, stderr: log)
    }

    /// The child's process id.
    public var pid: pid_t { child.pid }

    /// Whether the child has not exited yet.
    public var isRunning: Bool { child.exitStatus() == nil }

    /// Waits for the child to exit and returns its status (the signal's number if a signal ended it).
    @discardableResult
    public func waitUntilExit() -> Int32 { child.waitUntilExit() }

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
            if let status = child.exitStatus() {
                throw TestSupportError("process exited (status \(status)) before printing /\(pattern)/; log:\n\(text)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestSupportError("timed out waiting for /\(pattern)/; log:\n\(log)")
    }

    /// Sends SIGKILL: the process gets no chance to clean up.
    public func kill() {
        if isRunning { Glibc.kill(child.pid, SIGKILL) }
        child.waitUntilExit()
    }

    public func stop() { kill() }

    /// Sends SIGTERM and waits up to `timeout` seconds; returns the seconds it took to exit, or nil
    /// if it was still running (then it is killed).
    public func terminate(timeout: Double) -> Double? {
        guard isRunning else { return 0 }
        let start = Date()
        Glibc.kill(child.pid, SIGTERM)
        while isRunning && Date().timeIntervalSince(start) < timeout { Thread.sleep(forTimeInterval: 0.05) }
        if isRunning {
            kill()
            return nil
        }
        return Date().timeIntervalSince(start)
    }

    /// Sends SIGHUP.
    public func hangUp() { Glibc.kill(child.pid, SIGHUP) }

    deinit { stop() }
}

/// A failure inside the test support code itself, with what it saw.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
