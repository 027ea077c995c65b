import CChildProcess
import Foundation
import Glibc
import Synchronization

/// A child started with `posix_spawn`, its descriptors handled here alone: Foundation's `Process`
/// closes descriptors it no longer owns when many children start at once (swiftlang/swift#57827),
/// and a descriptor closed twice is one some other thread of the test process has just opened (a
/// server's file, a socket). The child gets /dev/null for input, the given descriptors for output,
/// default signal handling and an empty signal mask (the test runner blocks some signals, and a
/// spawned child would otherwise inherit that).
final class ChildProcess: Sendable {
    let pid: pid_t
    /// The exit status once reaped; reaped at most once.
    private let reaped = Mutex<Int32?>(nil)

    init(_ executable: String, _ args: [String], environment: [String: String]?, directory: String?, stdout: Int32, stderr: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        if let directory { airlock_spawn_addchdir(&actions, directory) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        airlock_spawnattr_fresh(&attributes, 0)
        var environment = environment
        if executable == AirlockCommand.binary {
            let catalog = try TestCatalog.environment(forAirlock: args)
            if !catalog.isEmpty { environment = (environment ?? ProcessInfo.processInfo.environment).merging(catalog) { $1 } }
        }
        let argv = ([executable] + args).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status =
            envp.map { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { throw TestSupportError("cannot start \(executable): \(String(cString: strerror(status)))") }
        self.pid = pid
    }

    /// A pipe whose ends are closed in every child (`O_CLOEXEC`); `posix_spawn`'s dup2 clears it on the copy.
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard airlock_pipe_cloexec(&fds) == 0 else { throw TestSupportError("pipe2 failed: \(String(cString: strerror(errno)))") }
        return (fds[0], fds[1])
    }

    /// The exit status if the child has exited (reaping it), nil while it runs.
    func exitStatus() -> Int32? {
        reaped.withLock { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            var r: pid_t
            repeat { r = waitpid(pid, &status, WNOHANG) } while r < 0 && errno == EINTR
            guard r != 0 else { return nil }
            let signal = status & 0x7f
            reaped = r < 0 ? -1 : signal == 0 ? (status >> 8) & 0xff : signal
            return reaped
        }
    }

    /// Waits for the child to exit (without holding the lock, so others may still ask or kill);
    /// its status, or the number of the signal that ended it.
    @discardableResult
    func waitUntilExit() -> Int32 {
        while true {
            if let status = exitStatus() { return status }
            var info = siginfo_t()
            _ = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)  // returns once it has exited; exitStatus reaps
        }
    }
}
