import AirlockCore
import CChildProcess
import Foundation
import Glibc

/// Runs one command of a build: `posix_spawn`ed in its own process group, input from /dev/null,
/// output and errors appended to a log file, killed (the whole group) after `timeout`. Spawning and
/// waiting happen on a thread of its own, never on the cooperative pool.
enum BuildCommand {
    struct Outcome: Sendable {
        /// The exit status, or 128 + the signal that ended it.
        let status: Int32
        let timedOut: Bool
        var succeeded: Bool { status == 0 && !timedOut }
    }

    static func run(_ argv: [String], directory: String, environment: [String: String], log: String, timeout: Duration) async throws -> Outcome {
        guard let executable = argv.first.flatMap(Self.which) else {
            throw AirlockError(.notFound, "\(argv.first ?? "") is not installed (not found on PATH)")
        }
        // Spawned and waited for by one thread that lives as long as the child: a parent-death signal
        // (`bwrap --die-with-parent`) follows the spawning *thread*, and a pool thread may retire mid-build.
        return try await withCheckedThrowingContinuation { done in
            Thread {
                done.resume(
                    with: Result { try spawnAndWait(executable, argv, directory: directory, environment: environment, log: log, timeout: timeout) })
            }.start()
        }
    }

    private static func spawnAndWait(
        _ executable: String, _ argv: [String], directory: String, environment: [String: String], log: String, timeout: Duration
    ) throws -> Outcome {
        let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AirlockError(.storage, "cannot open the build log \(log): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        airlock_spawn_addchdir(&actions, directory)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        airlock_spawnattr_fresh(&attributes, 1)
        let args = argv.map { strdup($0) } + [nil]
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            args.forEach { free($0) }
            env.forEach { free($0) }
        }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, &attributes, args, env)
        guard spawned == 0 else { throw AirlockError(.storage, "cannot start \(executable): \(String(cString: strerror(spawned)))") }
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
        var status: Int32 = 0
        var timedOut = false
        while true {
            let r = waitpid(child, &status, WNOHANG)
            if r == child || (r < 0 && errno != EINTR) { break }
            if !timedOut, Date() > deadline {
                timedOut = true
                kill(-child, SIGKILL)
            }
            usleep(20_000)
        }
        let signal = status & 0x7f
        return Outcome(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal, timedOut: timedOut)
    }

    /// The absolute path of a command on PATH (or the path itself when it has a slash).
    static func which(_ command: String) -> String? {
        if command.contains("/") { return command }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(command)"
            if access(path, X_OK) == 0 { return path }
        }
        return nil
    }
}
