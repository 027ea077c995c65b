public import AirlockCore
import Foundation

/// Looks at the code a distribution runs when installed or imported, statically: nothing is executed
/// or imported. Python is read as tokens (`PythonTokens`: comments and string literals are never taken
/// for code); R install scripts line by line. Reads only the members that run at install or import
/// time — `.pth` files, `setup.py` and its neighbours, top-level package `__init__.py`, entry points;
/// R's `configure`, `cleanup`, `Makevars`, `zzz.R` — each at most `maxMemberBytes`, and the first bytes
/// of every member of a source distribution (for compiled binaries).
public struct ContentScanner: Sendable {
    public enum Kind: Sendable {
        case wheel, sdist, rSource
    }

    /// Members larger than this are not read for scanning (install-time code is small).
    public static let maxMemberBytes = 1 << 20
    /// Bumped whenever the signals change, so stored scans are redone.
    public static let version = 2

    public let kind: Kind
    /// The distribution's filename, named in every finding.
    public let file: String
    /// The project's normalized name (a project may ship a command named after itself).
    public let project: String
    public private(set) var findings: [ContentFinding] = []

    public init(kind: Kind, file: String, project: String) {
        self.kind = kind
        self.file = file
        self.project = ProjectName.normalize(project)
    }

    /// When Python code runs: at install (build) time, or when the package is imported.
    enum Phase { case install, importTime }

    /// Whether `member` is read whole and scanned.
    public func wantsContent(_ member: String) -> Bool {
        let parts = member.split(separator: "/", omittingEmptySubsequences: true)
        let name = parts.last.map(String.init) ?? ""
        switch kind {
        case .wheel:
            if name.hasSuffix(".pth") { return parts.count <= 4 }
            if parts.count == 2, parts[0].hasSuffix(".dist-info"), name == "entry_points.txt" { return true }
            return phase(of: parts) != nil
        case .sdist:
            if name.hasSuffix(".pth") { return parts.count <= 4 }
            return phase(of: parts) != nil
        case .rSource:
            return Self.rInstallFile(parts)
        }
    }

    /// Whether the first bytes of every member are looked at (compiled binaries in a source distribution).
    public var checksMagic: Bool { kind == .sdist }

    private func phase(of parts: [Substring]) -> Phase? {
        guard parts.last?.hasSuffix(".py") == true else { return nil }
        switch kind {
        case .wheel:
            // Top-level modules and packages' __init__.py run on import.
            if parts.count == 1 || (parts.count == 2 && parts[1] == "__init__.py" && !parts[0].hasSuffix(".dist-info")) { return .importTime }
            return nil
        case .sdist:
            // `<root>/setup.py` and the modules beside it run at build time; packages' __init__.py on import.
            if parts.count == 2 { return .install }
            if parts.count == 3 && parts[2] == "__init__.py" { return .importTime }
            if parts.count == 4 && parts[1] == "src" && parts[3] == "__init__.py" { return .importTime }
            return nil
        case .rSource:
            return nil
        }
    }

    static func rInstallFile(_ parts: [Substring]) -> Bool {
        guard parts.count >= 2 else { return false }
        if parts.count == 2 { return ["configure", "cleanup", "configure.win", "cleanup.win", "configure.ucrt", "cleanup.ucrt"].contains(parts[1]) }
        if parts.count == 3 && parts[1] == "src" { return parts[2].hasPrefix("Makevars") }
        if parts.count == 3 && parts[1] == "R" { return parts[2].lowercased() == "zzz.r" }
        return false
    }

    /// Scans one member's bytes (as `wantsContent` chose it).
    public mutating func scan(member: String, bytes: [UInt8]) {
        let parts = member.split(separator: "/", omittingEmptySubsequences: true)
        let name = parts.last.map(String.init) ?? ""
        if kind == .rSource {
            scanR(member: member, bytes: bytes)
        } else if name.hasSuffix(".pth") {
            scanPth(member: member, bytes: bytes)
        } else if name == "entry_points.txt" {
            scanEntryPoints(member: member, bytes: bytes)
        } else if let phase = phase(of: parts) {
            scanPython(member: member, bytes: bytes, phase: phase)
        }
    }

    /// Looks at a member's first bytes for an executable or shared object.
    public mutating func checkMagic(member: String, prefix: [UInt8]) {
        // Test fixtures (`tests/…/hello-world-armv7l`) are data, not something the package installs.
        let dirs = member.lowercased().split(separator: "/").dropLast()
        guard prefix.count >= 4, !dirs.contains(where: { ["tests", "test", "testing", "testdata", "test_data", "fixtures"].contains($0) }) else {
            return
        }
        let head = Array(prefix.prefix(4))
        let what: String?
        switch head {
        case [0x7F, 0x45, 0x4C, 0x46]: what = "an ELF executable or shared object"
        case [0xFE, 0xED, 0xFA, 0xCE], [0xFE, 0xED, 0xFA, 0xCF], [0xCE, 0xFA, 0xED, 0xFE], [0xCF, 0xFA, 0xED, 0xFE]:
            what = "a Mach-O executable or library"
        default:
            // `MZ` and a PE header offset inside the prefix read: a Windows executable or DLL.
            what = head[0] == 0x4D && head[1] == 0x5A && prefix.count >= 64 && Self.isPE(prefix) ? "a Windows executable or DLL" : nil
        }
        guard let what else { return }
        add(
            .binaryInSdist, member: member, line: nil, excerpt: String(member.split(separator: "/").last ?? ""),
            detail: "the source distribution ships \(what)")
    }

    private static func isPE(_ bytes: [UInt8]) -> Bool {
        let offset = Int(bytes[60]) | Int(bytes[61]) << 8 | Int(bytes[62]) << 16 | Int(bytes[63]) << 24
        guard offset >= 64, offset + 4 <= bytes.count else { return true }  // a DOS stub too long to see: still MZ
        return bytes[offset] == 0x50 && bytes[offset + 1] == 0x45 && bytes[offset + 2] == 0 && bytes[offset + 3] == 0
    }

    private mutating func add(_ signal: ContentSignal, member: String, line: Int?, excerpt: String, detail: String) {
        let short = excerpt.trimmingWhitespace()
        let finding = ContentFinding(
            signal: signal, file: file, member: member, line: line, excerpt: short.count > 120 ? String(short.prefix(117)) + "..." : short,
            detail: detail)
        // One finding per signal and member: the first place it shows is evidence enough.
        if !findings.contains(where: { $0.signal == signal && $0.member == member }) { findings.append(finding) }
    }

    // MARK: Python

    /// `.pth` lines starting with `import` are executed by `site` at every interpreter start.
    private mutating func scanPth(member: String, bytes: [UInt8]) {
        for (index, raw) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let line = String(decoding: raw, as: UTF8.self)
            let trimmed = line.trimmingWhitespace()
            guard trimmed.hasPrefix("import ") || trimmed.hasPrefix("import\t") else { continue }
            let facts = PythonFacts(PythonTokens.tokenize(Array(raw)))
            if let why = facts.dangerousCall {
                add(.pthExec, member: member, line: index + 1, excerpt: line, detail: "runs at every Python start and \(why)")
            }
            stringSignals(facts, member: member, lineOffset: index) { _ in line }
        }
    }

    private mutating func scanPython(member: String, bytes: [UInt8], phase: Phase) {
        let facts = PythonFacts(PythonTokens.tokenize(bytes))
        let lines = String(decoding: bytes, as: UTF8.self).textLines
        func text(_ line: Int) -> String { line >= 1 && line <= lines.count ? String(lines[line - 1]) : "" }
        let when = phase == .install ? "at install" : "on import"
        if let e = facts.decodedExec {
            add(.decodeExec, member: member, line: e.line, excerpt: text(e.line), detail: "\(when), executes \(e.what)")
        }
        if phase == .install {
            if let shell = facts.shellCommand {
                add(.installShell, member: member, line: shell.line, excerpt: text(shell.line), detail: "at install, runs \(shell.what)")
            }
            if let net = facts.network.first {
                add(.installNetwork, member: member, line: net.line, excerpt: text(net.line), detail: "at install, reaches the network (\(net.what))")
            }
            if let hook = facts.installOverride, let action = facts.command.first ?? facts.network.first ?? facts.exec.first {
                add(
                    .installHook, member: member, line: hook.line, excerpt: text(hook.line),
                    detail: "overrides the \(hook.what) command with code that calls \(action.what) (line \(action.line))")
            }
        }
        stringSignals(facts, member: member, lineOffset: 0, excerpt: text)
        if phase == .install, let long = lines.enumerated().first(where: { $0.element.utf8.count > 20_000 }) {
            add(
                .obfuscation, member: member, line: long.offset + 1, excerpt: String(long.element.prefix(80)),
                detail: "a \(long.element.utf8.count)-character line in install-time code")
        }
    }

    /// Credential stores, exfiltration hosts and encoded blobs named in string literals; `excerpt`
    /// gives the source line a token's line number names.
    private mutating func stringSignals(_ facts: PythonFacts, member: String, lineOffset: Int, excerpt: (Int) -> String) {
        for s in facts.strings {
            let line = s.line + lineOffset
            if let marker = Self.credentialMarker(s.text) {
                add(.credentialAccess, member: member, line: line, excerpt: excerpt(s.line), detail: "names \(marker)")
            }
            if let host = Self.exfiltrationMarker(s.text) {
                add(.exfiltrationHost, member: member, line: line, excerpt: excerpt(s.line), detail: "names \(host)")
            }
            if let blob = Self.encodedBlob(s.text) {
                add(.obfuscation, member: member, line: line, excerpt: String(s.text.prefix(60)), detail: blob)
            }
        }
    }

    static func credentialMarker(_ s: String) -> String? {
        let lower = s.lowercased()
        let markers = [
            (".ssh/id_", "SSH private keys"), ("/.ssh", "the SSH directory"), (".aws/credentials", "AWS credentials"),
            (".pypirc", "PyPI credentials"),
            (".netrc", "netrc credentials"), (".docker/config.json", "Docker credentials"), (".kube/config", "Kubernetes credentials"),
            ("login data", "a browser's saved passwords"), ("local state", "a browser's key store"),
            ("\\google\\chrome\\user data", "Chrome profiles"),
            ("/google-chrome/", "Chrome profiles"), ("discord/local storage", "Discord tokens"), ("\\discord\\local storage", "Discord tokens"),
            ("leveldb", "browser or Discord token stores"), ("wallet.dat", "a crypto wallet"), ("exodus", "a crypto wallet"),
            (".gnupg", "GnuPG keys"), ("aws_secret_access_key", "AWS secrets"), ("github_token", "GitHub tokens"),
        ]
        return markers.first { lower.contains($0.0) }?.1
    }

    static func exfiltrationMarker(_ s: String) -> String? {
        let lower = s.lowercased()
        let hosts = [
            "discord.com/api/webhooks", "discordapp.com/api/webhooks", "api.telegram.org/bot", "pastebin.com", "hastebin", "paste.ee", "transfer.sh",
            "ngrok.io", "ngrok-free.app", "webhook.site", "requestbin", "pipedream.net", "oastify.com", "burpcollaborator", "interact.sh", "oast.",
            "anonfiles", "gofile.io", "file.io", "temp.sh", "bashupload", "0x0.st", "trycloudflare.com", "serveo.net", "localtunnel",
        ]
        if let host = hosts.first(where: { lower.contains($0) }) { return "the exfiltration or paste host \(host)" }
        // A URL to a raw IPv4 address (not a loopback or private one).
        for scheme in ["http://", "https://"] {
            guard let r = lower.range(of: scheme) else { continue }
            let host = lower[r.upperBound...].prefix { $0 != "/" && $0 != ":" && $0 != "\"" && $0 != "'" }
            let octets = host.split(separator: ".")
            if octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }), !host.hasPrefix("127."), !host.hasPrefix("10."),
                !host.hasPrefix("192.168."), host != "0.0.0.0"
            {
                return "a URL to the raw IP address \(host)"
            }
        }
        return nil
    }

    /// A long literal of base64 or hex with high entropy, or a long run of `\x` escapes.
    static func encodedBlob(_ s: String) -> String? {
        let bytes = Array(s.utf8)
        if bytes.count >= 64 {
            var run = 0
            var best = 0
            var i = 0
            while i + 3 < bytes.count {
                if bytes[i] == UInt8(ascii: "\\") && bytes[i + 1] == UInt8(ascii: "x") {
                    run += 1
                    best = max(best, run)
                    i += 4
                } else {
                    run = 0
                    i += 1
                }
            }
            if best >= 64 { return "a string of \(best) \\x escapes" }
        }
        guard bytes.count >= 1024 else { return nil }
        let encoded = bytes.filter { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "+") || b == UInt8(ascii: "/")
                || b == UInt8(ascii: "=") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
        }.count
        guard Double(encoded) / Double(bytes.count) > 0.97 else { return nil }
        var counts = [Int](repeating: 0, count: 256)
        for b in bytes { counts[Int(b)] += 1 }
        let entropy = counts.reduce(0.0) { h, c in
            guard c > 0 else { return h }
            let p = Double(c) / Double(bytes.count)
            return h - p * log2(p)
        }
        guard entropy >= 4.5 else { return nil }
        return "a \(bytes.count)-character encoded string (entropy \(String(format: "%.1f", entropy)) bits/char)"
    }

    // MARK: Entry points

    static let shadowedCommands: Set<String> = [
        "pip", "pip3", "python", "python3", "ls", "git", "sudo", "ssh", "scp", "curl", "wget", "bash", "sh", "zsh", "cd", "cp", "mv", "rm", "cat",
        "chmod", "chown", "apt", "apt-get", "yum", "dnf", "brew", "npm", "node", "docker", "kubectl", "openssl", "gpg", "su", "env", "which", "uv",
    ]

    private mutating func scanEntryPoints(member: String, bytes: [UInt8]) {
        var section = ""
        for (index, raw) in String(decoding: bytes, as: UTF8.self).textLines.enumerated() {
            let line = raw.trimmingWhitespace()
            if line.hasPrefix("[") {
                section = line
                continue
            }
            guard section == "[console_scripts]" || section == "[gui_scripts]", let eq = line.firstIndex(of: "=") else { continue }
            let command = line[..<eq].trimmingWhitespace()
            let base = command.lowercased()
            // A project may install commands named after itself (`pip`, `pip3`).
            guard Self.shadowedCommands.contains(base), !base.hasPrefix(project), !project.hasPrefix(base + "-") else { continue }
            add(
                .shadowingEntryPoint, member: member, line: index + 1, excerpt: line,
                detail: "installs a command named '\(command)', which shadows the system's")
        }
    }

    // MARK: R

    private mutating func scanR(member: String, bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).textLines
        let isLoadCode = member.lowercased().hasSuffix("/zzz.r")
        for (index, raw) in lines.enumerated() {
            var line = raw.trimmingWhitespace()
            if let hash = line.firstIndex(of: "#") { line = String(line[..<hash]) }  // comments (shell, make and R alike)
            let lower = line.lowercased()
            let hasURL = lower.contains("http://") || lower.contains("https://") || lower.contains("ftp://")
            let downloads =
                (Self.word("curl", in: lower) || Self.word("wget", in: lower) || lower.contains("download.file(")
                    || lower.contains("invoke-webrequest")) && hasURL
            let runs =
                isLoadCode && (lower.contains("system(") || lower.contains("system2("))
                && (lower.contains("curl") || lower.contains("wget") || lower.contains("bash")
                    || lower.contains("powershell") || lower.contains(" sh "))
            if downloads || runs {
                let what = downloads ? "downloads from the network" : "runs a system command"
                let when = isLoadCode ? "when the package loads" : "at install"
                add(.rInstallCode, member: member, line: index + 1, excerpt: String(raw), detail: "\(when), \(what)")
            }
        }
    }

    /// `word` standing alone in `text` (not inside `curl-config` or `libcurl`).
    static func word(_ word: String, in text: String) -> Bool {
        var search = text[...]
        while let r = search.range(of: word) {
            let before = r.lowerBound == text.startIndex ? " " : text[text.index(before: r.lowerBound)]
            let after = r.upperBound == text.endIndex ? " " : text[r.upperBound]
            let isBoundary: (Character) -> Bool = { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." || $0 == "/") }
            if isBoundary(before) && isBoundary(after) { return true }
            search = text[r.upperBound...]
        }
        return false
    }
}

/// What a Python file's tokens do, as far as the signals need: calls that execute (and what they
/// execute), run commands or reach the network, the install commands it overrides, its string literals.
struct PythonFacts {
    struct Call {
        let what: String
        let line: Int
    }

    var exec: [Call] = []
    var command: [Call] = []
    var network: [Call] = []
    var strings: [(text: String, line: Int)] = []
    var decodedExec: Call?
    var shellCommand: Call?
    var installOverride: Call?

    static let decoders: Set<String> = [
        "b64decode", "b32decode", "b16decode", "b85decode", "a85decode", "decodebytes", "decodestring", "unhexlify", "fromhex", "decompress",
        "decrypt", "urlsafe_b64decode",
    ]
    static let commandCalls: Set<String> = [
        "subprocess.Popen", "subprocess.call", "subprocess.run", "subprocess.check_call", "subprocess.check_output", "subprocess.getoutput",
        "subprocess.getstatusoutput", "os.system", "os.popen", "os.startfile", "os.execv", "os.execve", "os.execl", "os.execlp", "os.execvp",
        "os.spawnl", "os.spawnv", "pty.spawn", "Popen", "check_output", "check_call", "getoutput",
    ]
    static let networkPrefixes = ["requests.", "httpx.", "urllib3.", "aiohttp.", "http.client.", "urllib.request.", "socket.", "ftplib.", "smtplib."]
    static let networkNames: Set<String> = ["urlopen", "urlretrieve", "create_connection", "HTTPSConnection", "HTTPConnection"]
    static let shellMarkers = [
        "powershell", "-encodedcommand", "-enc ", "cmd.exe", "cmd /c", "/bin/sh", "/bin/bash", "bash -c", "sh -c", "| sh", "|sh", "| bash", "curl ",
        "wget ", "invoke-webrequest", "iex(", "iex (", "certutil", "mshta", "bitsadmin", "start /b", ".exe", "chmod +x", "nohup ",
    ]

    init(_ tokens: [PythonToken]) {
        var classBases: [(name: String, line: Int)] = []
        var mentionsCmdclass = false
        for (i, t) in tokens.enumerated() {
            switch t.kind {
            case .string:
                strings.append((t.text, t.line))
            case .name:
                if t.text == "cmdclass" { mentionsCmdclass = true }
                if t.text == "class", i + 3 < tokens.count, tokens[i + 2].text == "(" {
                    var j = i + 3
                    while j < tokens.count, tokens[j].text != ")" && tokens[j].text != ":" {
                        if tokens[j].kind == .name { classBases.append((tokens[j].text, t.line)) }
                        j += 1
                    }
                }
                // A call: the name before `(` (the last part of a dotted name, which `dotted` reads back).
                guard i + 1 < tokens.count, tokens[i + 1].text == "(" else { continue }
                let dotted = Self.dotted(tokens, endingAt: i)
                let last = String(dotted.split(separator: ".").last ?? "")
                let call = Call(what: dotted + "()", line: t.line)
                if ["exec", "eval", "compile", "builtins.exec", "builtins.eval"].contains(dotted) {
                    exec.append(call)
                    if decodedExec == nil, let inner = Self.suspiciousArgument(tokens, openingAt: i + 1) {
                        decodedExec = Call(what: "\(inner) with \(dotted)()", line: t.line)
                    }
                }
                if Self.commandCalls.contains(dotted) || Self.commandCalls.contains(last) && dotted.hasPrefix("subprocess.") {
                    command.append(call)
                    if shellCommand == nil, let marker = Self.shellMarker(tokens, openingAt: i + 1) {
                        shellCommand = Call(what: "a command line with \(marker) through \(dotted)()", line: t.line)
                    }
                }
                if Self.networkNames.contains(last) || Self.networkPrefixes.contains(where: { dotted.hasPrefix($0) }) { network.append(call) }
            default:
                break
            }
        }
        if mentionsCmdclass, let base = classBases.first(where: { ["install", "develop", "egg_info", "_install", "install_orig"].contains($0.name) })
        {
            installOverride = Call(what: base.name, line: base.line)
        }
    }

    /// The most dangerous thing a `.pth` line's code does, in words, if anything.
    var dangerousCall: String? {
        if let e = decodedExec { return "executes \(e.what)" }
        if let c = command.first { return "runs a command (\(c.what))" }
        if let n = network.first { return "reaches the network (\(n.what))" }
        if let e = exec.first { return "executes code (\(e.what))" }
        return nil
    }

    /// `a.b.c` for the name at `end` and the dotted names before it.
    static func dotted(_ tokens: [PythonToken], endingAt end: Int) -> String {
        var parts = [tokens[end].text]
        var j = end - 1
        while j >= 1, tokens[j].text == ".", tokens[j - 1].kind == .name {
            parts.insert(tokens[j - 1].text, at: 0)
            j -= 2
        }
        return parts.joined(separator: ".")
    }

    /// The tokens from the `(` at `open` to its matching `)`.
    static func argument(_ tokens: [PythonToken], openingAt open: Int) -> ArraySlice<PythonToken> {
        var depth = 0
        var j = open
        while j < tokens.count {
            if tokens[j].text == "(" { depth += 1 }
            if tokens[j].text == ")" {
                depth -= 1
                if depth == 0 { break }
            }
            j += 1
        }
        return tokens[open..<min(j + 1, tokens.count)]
    }

    /// What makes an `exec` argument data rather than a file of the project: a decoder, a decryption,
    /// a download, or a long literal.
    static func suspiciousArgument(_ tokens: [PythonToken], openingAt open: Int) -> String? {
        let arg = argument(tokens, openingAt: open)
        if arg.count > 200 { return "a \(arg.count)-token expression" }
        for t in arg {
            if t.kind == .name && t.text == "chr" { return "text rebuilt from character codes" }
            if t.kind == .name && (decoders.contains(t.text) || t.text == "loads") { return "data decoded by \(t.text)()" }
            if t.kind == .name && (networkNames.contains(t.text) || ["requests", "urllib", "httpx", "socket"].contains(t.text)) {
                return "data fetched with \(t.text)"
            }
            if t.kind == .string && t.text.utf8.count >= 200 { return "a \(t.text.utf8.count)-character literal" }
        }
        return nil
    }

    /// A shell or downloader marker in a command call's string arguments.
    static func shellMarker(_ tokens: [PythonToken], openingAt open: Int) -> String? {
        for t in argument(tokens, openingAt: open) where t.kind == .string {
            let lower = t.text.lowercased()
            if let m = shellMarkers.first(where: { lower.contains($0) }) { return "'\(m.trimmingWhitespace())'" }
        }
        return nil
    }
}
