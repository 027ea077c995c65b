import Foundation
import Logging
import Synchronization

/// Shows a sync's progress: a redrawn bar on a terminal, periodic structured log lines otherwise.
public final class SyncProgress: Sendable {
    private struct State {
        var phase = "resolving"
        var filesDone = 0
        var filesTotal = 0
        var bytes: Int64 = 0
        var lastDraw = Date.distantPast
    }

    private let state = Mutex(State())
    private let interactive: Bool
    private let logger: Logger
    private let started = Date()

    public init(interactive: Bool = isatty(STDERR_FILENO) == 1, logger: Logger) {
        self.interactive = interactive
        self.logger = logger
    }

    func phase(_ name: String, total: Int = 0) {
        state.withLock {
            $0.phase = name
            $0.filesTotal = total
            $0.filesDone = 0
        }
        if interactive { draw(force: true) } else { logger.info("sync phase", metadata: ["phase": "\(name)", "files": "\(total)"]) }
    }

    func addBytes(_ n: Int) {
        state.withLock { $0.bytes += Int64(n) }
        draw(force: false)
    }

    func fileDone() {
        state.withLock { $0.filesDone += 1 }
        draw(force: false)
    }

    func finish() {
        if interactive {
            draw(force: true)
            FileHandle.standardError.write(Data("\n".utf8))
        }
    }

    private func draw(force: Bool) {
        let now = Date()
        let (line, due): (String, Bool) = state.withLock { s in
            let interval = interactive ? 0.1 : 5.0
            guard force || now.timeIntervalSince(s.lastDraw) >= interval else { return ("", false) }
            s.lastDraw = now
            let mib = Double(s.bytes) / 1_048_576
            let rate = mib / max(now.timeIntervalSince(started), 0.001)
            let width = 28
            let filled = s.filesTotal > 0 ? width * s.filesDone / s.filesTotal : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            let counts = s.filesTotal > 0 ? "\(s.filesDone)/\(s.filesTotal) files" : ""
            return (String(format: "%@ [%@] %@ %.1f MiB %.1f MiB/s", s.phase, bar, counts, mib, rate), true)
        }
        guard due else { return }
        if interactive {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        } else {
            logger.info("sync progress", metadata: ["status": "\(line)"])
        }
    }
}
