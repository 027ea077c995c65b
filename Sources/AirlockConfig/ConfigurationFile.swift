import AirlockCatalog
import AirlockCore
import AirlockPolicy
import AirlockPublish
import Foundation

/// The keys of an upstream section that say how to reach it (see `UpstreamAccess`).
protocol UpstreamAccessKeys {
    var upstream: String? { get }
    var proxy: String? { get }
    var noProxy: String? { get }
    var caBundle: String? { get }
    var clientCertificate: String? { get }
    var clientKey: String? { get }
    var username: String? { get }
    var passwordFile: String? { get }
    var tokenFile: String? { get }
    var netrc: Bool? { get }
    var netrcFile: String? { get }
    var headers: [String: String]? { get }
    var maxRequestsPerSecond: ConfigurationFile.Number? { get }
}

/// The file as written: every key optional but where a section needs it; `Validation` checks values
/// and fills defaults.
struct ConfigurationFile: Decodable {
    /// A number written as an integer (`10`) or with a fraction (`0.5`).
    struct Number: Decodable {
        let value: Double
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            value = try (try? c.decode(Int.self)).map(Double.init) ?? c.decode(Double.self)
        }
    }

    struct PyPI: Decodable, UpstreamAccessKeys {
        var upstream: String?
        var python: [String]?
        var platform: [String]?
        var requirements: [String]?
        var requirementFiles: [String]?
        var versions: Int?
        var connections: Int?
        var maxFileSize: Int64?
        var policy: String?
        var popularityFeed: String?
        var osvFeed: String?
        var redirectHosts: [String]?
        var transferTimeout: String?
        var syncTimeout: String?
        var allowUnhashed: Bool?
        var proxy: String?
        var noProxy: String?
        var caBundle: String?
        var clientCertificate: String?
        var clientKey: String?
        var username: String?
        var passwordFile: String?
        var tokenFile: String?
        var netrc: Bool?
        var netrcFile: String?
        var headers: [String: String]?
        var maxRequestsPerSecond: Number?

        enum CodingKeys: String, CodingKey {
            case proxy, username, netrc, headers
            case noProxy = "no_proxy"
            case caBundle = "ca_bundle"
            case clientCertificate = "client_certificate"
            case clientKey = "client_key"
            case passwordFile = "password_file"
            case tokenFile = "token_file"
            case netrcFile = "netrc_file"
            case maxRequestsPerSecond = "max_requests_per_second"
            case upstream, python, platform, requirements, versions, connections, policy
            case requirementFiles = "requirement_files"
            case maxFileSize = "max_file_size"
            case popularityFeed = "popularity_feed"
            case osvFeed = "osv_feed"
            case redirectHosts = "redirect_hosts"
            case transferTimeout = "transfer_timeout"
            case syncTimeout = "sync_timeout"
            case allowUnhashed = "allow_unhashed"
        }
    }

    struct CRAN: Decodable, UpstreamAccessKeys {
        var upstream: String?
        var packages: [String]?
        var versions: Int?
        var withSuggests: Bool?
        var connections: Int?
        var maxFileSize: Int64?
        var policy: String?
        var popularityFeed: String?
        var osvFeed: String?
        var redirectHosts: [String]?
        var transferTimeout: String?
        var syncTimeout: String?
        var proxy: String?
        var noProxy: String?
        var caBundle: String?
        var clientCertificate: String?
        var clientKey: String?
        var username: String?
        var passwordFile: String?
        var tokenFile: String?
        var netrc: Bool?
        var netrcFile: String?
        var headers: [String: String]?
        var maxRequestsPerSecond: Number?
        var binaryUpstream: String?
        var binaryDistro: String?
        var binaryRVersion: String?

        enum CodingKeys: String, CodingKey {
            case proxy, username, netrc, headers
            case noProxy = "no_proxy"
            case caBundle = "ca_bundle"
            case clientCertificate = "client_certificate"
            case clientKey = "client_key"
            case passwordFile = "password_file"
            case tokenFile = "token_file"
            case netrcFile = "netrc_file"
            case maxRequestsPerSecond = "max_requests_per_second"
            case binaryUpstream = "binary_upstream"
            case binaryDistro = "binary_distro"
            case binaryRVersion = "binary_r_version"
            case upstream, packages, versions, connections, policy
            case withSuggests = "with_suggests"
            case maxFileSize = "max_file_size"
            case popularityFeed = "popularity_feed"
            case osvFeed = "osv_feed"
            case redirectHosts = "redirect_hosts"
            case transferTimeout = "transfer_timeout"
            case syncTimeout = "sync_timeout"
        }
    }

    struct Schedule: Decodable {
        var every: String?
        var jitter: String?
        var retryAfter: String?
        enum CodingKeys: String, CodingKey {
            case every, jitter
            case retryAfter = "retry_after"
        }
    }

    struct Server: Decodable {
        var host: String?
        var port: Int?
        var requireAuth: Bool?
        enum CodingKeys: String, CodingKey {
            case host, port
            case requireAuth = "require_auth"
        }
    }

    struct Daemon: Decodable {
        var host: String?
        var port: Int?
    }

    struct Build: Decodable {
        var distro: String?
        var rVersion: String?
        var sandbox: Bool?
        var timeout: String?
        var memoryGib: Int?
        var archived: Bool?
        enum CodingKeys: String, CodingKey {
            case distro, sandbox, timeout, archived
            case rVersion = "r_version"
            case memoryGib = "memory_gib"
        }
    }

    struct Retention: Decodable {
        var keepDays: Int?
        var then: String?
        var pinned: [Int64]?
        enum CodingKeys: String, CodingKey {
            case keepDays = "keep_days"
            case then, pinned
        }
    }

    struct Transfer: Decodable {
        var trust: [String]?
    }

    var data: String?
    var catalog: String?
    var pypi: PyPI?
    var cran: CRAN?
    var schedule: Schedule?
    var server: Server?
    var daemon: Daemon?
    var build: Build?
    var retention: Retention?
    var transfer: Transfer?

    /// Checks every value, naming file:line and field, and resolves paths against the file's directory.
    struct Validation {
        let path: String
        let text: String

        private func fail(_ field: [String], _ why: String) -> AirlockError {
            AirlockError(.invalidArgument, "\(path):\(StrictTOML.line(of: field, in: text)): field '\(field.joined(separator: "."))' \(why)")
        }

        private func relative(_ p: String) -> String {
            p.hasPrefix("/") ? p : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(p).standardizedFileURL.path
        }

        private func url(_ text: String, _ field: [String]) throws -> String {
            guard let u = URL(string: text), ["http", "https"].contains(u.scheme ?? ""), u.host != nil else {
                throw fail(field, "must be an http(s) URL, not '\(text)'")
            }
            return text
        }

        private func positive(_ value: Int?, _ field: [String], default d: Int) throws -> Int {
            let v = value ?? d
            guard v > 0 else { throw fail(field, "must be positive, not \(v)") }
            return v
        }

        private func policy(_ text: String?, _ field: [String]) throws -> Configuration.PolicyChoice {
            guard let text else { return .shipped }
            if text == "none" { return .none }
            let file = relative(text)
            guard FileManager.default.isReadableFile(atPath: file) else { throw fail(field, "names \(file), which cannot be read") }
            return .file(file)
        }

        private func feeds(popularity: String?, osv: String?, _ section: String) throws -> Configuration.Feeds {
            func readable(_ p: String?, _ key: String) throws -> String? {
                guard let p else { return nil }
                let file = relative(p)
                guard FileManager.default.isReadableFile(atPath: file) else { throw fail([section, key], "names \(file), which cannot be read") }
                return file
            }
            return Configuration.Feeds(popularity: try readable(popularity, "popularity_feed"), osv: try readable(osv, "osv_feed"))
        }

        private func duration(_ text: String?, _ field: [String], default d: Duration) throws -> Duration {
            guard let text else { return d }
            guard let v = DurationText.parse(text) else {
                throw fail(field, "must be a duration such as \"90s\", \"15m\", \"6h\" or \"1d\", not \"\(text)\"")
            }
            return v
        }

        /// `redirect_hosts`, `transfer_timeout`, `sync_timeout` (and `allow_unhashed`) of an upstream section.
        private func limits(_ section: String, hosts: [String]?, transfer: String?, sync: String?, allowUnhashed: Bool? = nil) throws
            -> UpstreamLimits
        {
            let defaults = UpstreamLimits()
            let transferTimeout = try duration(transfer, [section, "transfer_timeout"], default: defaults.transferTimeout)
            let syncTimeout = try duration(sync, [section, "sync_timeout"], default: defaults.syncTimeout)
            guard transferTimeout >= .seconds(1) else { throw fail([section, "transfer_timeout"], "must be at least 1s") }
            guard syncTimeout >= .seconds(1) else { throw fail([section, "sync_timeout"], "must be at least 1s") }
            if let bad = (hosts ?? []).first(where: { $0.isEmpty || $0.contains("/") || $0.contains(":") }) {
                throw fail([section, "redirect_hosts"], "names '\(bad)'; give host names only, such as \"files.pythonhosted.org\"")
            }
            return UpstreamLimits(
                redirectHosts: hosts ?? [], transferTimeout: transferTimeout, syncTimeout: syncTimeout, allowUnhashed: allowUnhashed ?? false)
        }

        /// The upstream URL (credentials written into it taken out) and how to reach it: every file
        /// named must be readable, one kind of credentials at most, headers well-formed.
        private func access(_ section: String, _ keys: some UpstreamAccessKeys, default upstream: String) throws -> (
            upstream: String, access: UpstreamAccess
        ) {
            func readable(_ p: String?, _ key: String) throws -> String? {
                guard let p else { return nil }
                let file = relative(p)
                guard FileManager.default.isReadableFile(atPath: file) else { throw fail([section, key], "names \(file), which cannot be read") }
                return file
            }
            let (bare, inURL) = UpstreamAccess.strippingCredentials(from: keys.upstream ?? upstream)
            var access = UpstreamAccess(
                noProxy: keys.noProxy, caBundle: try readable(keys.caBundle, "ca_bundle"),
                clientCertificate: try readable(keys.clientCertificate, "client_certificate"),
                clientKey: try readable(keys.clientKey, "client_key"), headers: keys.headers ?? [:],
                maxRequestsPerSecond: keys.maxRequestsPerSecond?.value)
            if let proxy = keys.proxy {
                guard let u = URLComponents(string: proxy), ["http", "https", "socks4", "socks5", "socks5h"].contains(u.scheme?.lowercased() ?? ""),
                    u.host?.isEmpty == false
                else {
                    throw fail(
                        [section, "proxy"], "must be a proxy URL such as \"http://proxy.example.com:3128\", not '\(UpstreamAccess.redacted(proxy))'")
                }
                access.proxy = proxy
            }
            var kinds: [String] = inURL == nil ? [] : ["credentials in the upstream URL"]
            access.credentials = inURL
            if let username = keys.username {
                guard let file = try readable(keys.passwordFile, "password_file") else {
                    throw fail([section, "username"], "needs password_file: the file holding the password")
                }
                access.credentials = .basic(
                    username: username, password: try UpstreamCredentials.secret(fromFile: file, field: "\(section).password_file"))
                kinds.append("username")
            } else if keys.passwordFile != nil {
                throw fail([section, "password_file"], "needs username")
            }
            if let file = try readable(keys.tokenFile, "token_file") {
                access.credentials = .bearer(token: try UpstreamCredentials.secret(fromFile: file, field: "\(section).token_file"))
                kinds.append("token_file")
            }
            if keys.netrc == true || keys.netrcFile != nil {
                access.credentials = .netrc(file: try readable(keys.netrcFile, "netrc_file"))
                kinds.append("netrc")
            }
            if kinds.count > 1 {
                throw fail([section, "username"], "gives credentials more than one way (\(kinds.joined(separator: ", "))); keep one")
            }
            for (name, value) in access.headers {
                let token = name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !Array("()<>@,;:\\\"/[]?={}".utf8).contains($0) }
                guard token, !name.isEmpty else { throw fail([section, "headers"], "has '\(name)', which is not a header name") }
                guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                    throw fail([section, "headers"], "has a value for \(name) with a line break")
                }
            }
            if let rate = keys.maxRequestsPerSecond?.value, !(rate > 0) {
                throw fail([section, "max_requests_per_second"], "must be positive, not \(rate)")
            }
            return (try url(bare, [section, "upstream"]), access)
        }

        private func port(_ value: Int?, _ field: [String], default d: Int) throws -> Int {
            let v = value ?? d
            guard (0...65535).contains(v) else { throw fail(field, "must be a port number (0-65535), not \(v)") }
            return v
        }

        /// `binary_upstream` with `binary_distro` and `binary_r_version` of `[cran]`: all three or none.
        private func binaries(_ c: CRAN) throws -> Configuration.Binaries? {
            guard let upstream = c.binaryUpstream else {
                if c.binaryDistro != nil || c.binaryRVersion != nil {
                    throw fail(["cran", c.binaryDistro != nil ? "binary_distro" : "binary_r_version"], "needs binary_upstream")
                }
                return nil
            }
            guard let distro = c.binaryDistro, Self.isName(distro) else {
                throw fail(
                    ["cran", "binary_distro"],
                    "must name the distribution the binaries are for (bookworm, jammy, rhel9), not '\(c.binaryDistro ?? "")'")
            }
            guard let r = c.binaryRVersion, Self.isRMinor(r) else {
                throw fail(
                    ["cran", "binary_r_version"],
                    "must be the R minor version the binaries are built with, such as \"4.4\", not '\(c.binaryRVersion ?? "")'")
            }
            return Configuration.Binaries(upstream: try url(upstream, ["cran", "binary_upstream"]), distro: distro, rMinor: r)
        }

        static func isName(_ s: String) -> Bool {
            !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
        }
        static func isRMinor(_ s: String) -> Bool {
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
        }

        func resolve(_ f: ConfigurationFile) throws -> Configuration {
            var pypi: Configuration.PyPI?
            if let p = f.pypi {
                for (i, line) in (p.requirements ?? []).enumerated() {
                    do { _ = try Requirement(parsing: line) } catch { throw fail(["pypi", "requirements"], "entry \(i + 1) '\(line)': \(error)") }
                }
                let python = p.python ?? ["3.10", "3.11", "3.12", "3.13"]
                let platform = p.platform ?? ["manylinux_2_28_x86_64"]
                for py in python {
                    for pl in platform {
                        do { _ = try TargetEnvironment(python: py, platform: pl) } catch { throw fail(["pypi", "python"], "\(error)") }
                    }
                }
                let files = (p.requirementFiles ?? []).map(relative)
                if let missing = files.first(where: { !FileManager.default.isReadableFile(atPath: $0) }) {
                    throw fail(["pypi", "requirement_files"], "names \(missing), which cannot be read")
                }
                if (p.requirements ?? []).isEmpty && files.isEmpty { throw fail(["pypi"], "selects nothing: give requirements or requirement_files") }
                let (upstream, access) = try access("pypi", p, default: "https://pypi.org/simple/")
                pypi = Configuration.PyPI(
                    upstream: upstream, python: python, platform: platform,
                    requirements: p.requirements ?? [], requirementFiles: files, versions: max(0, p.versions ?? 3),
                    connections: try positive(p.connections, ["pypi", "connections"], default: 8), maxFileSize: p.maxFileSize ?? (4 << 30),
                    policy: try policy(p.policy, ["pypi", "policy"]), feeds: try feeds(popularity: p.popularityFeed, osv: p.osvFeed, "pypi"),
                    limits: try limits(
                        "pypi", hosts: p.redirectHosts, transfer: p.transferTimeout, sync: p.syncTimeout, allowUnhashed: p.allowUnhashed),
                    access: access)
            }
            var cran: Configuration.CRAN?
            if let c = f.cran {
                guard let packages = c.packages, !packages.isEmpty else {
                    throw fail(["cran", "packages"], "is missing or empty: name the R packages to mirror")
                }
                let (upstream, access) = try access("cran", c, default: "https://cloud.r-project.org")
                cran = Configuration.CRAN(
                    upstream: upstream, packages: packages, versions: max(0, c.versions ?? 3),
                    withSuggests: c.withSuggests ?? false, connections: try positive(c.connections, ["cran", "connections"], default: 8),
                    maxFileSize: c.maxFileSize ?? (1 << 30), policy: try policy(c.policy, ["cran", "policy"]),
                    feeds: try feeds(popularity: c.popularityFeed, osv: c.osvFeed, "cran"),
                    limits: try limits("cran", hosts: c.redirectHosts, transfer: c.transferTimeout, sync: c.syncTimeout), access: access,
                    binaries: try binaries(c))
            }
            var build: Configuration.Build?
            if let b = f.build {
                guard let distro = b.distro, Self.isName(distro) else {
                    throw fail(
                        ["build", "distro"],
                        "must name this machine's distribution as binary repositories do (bookworm, jammy, rhel9), not '\(b.distro ?? "")'")
                }
                if let r = b.rVersion, !Self.isRMinor(r) {
                    throw fail(["build", "r_version"], "must be an R minor version such as \"4.4\", not \"\(r)\"")
                }
                let timeout = try duration(b.timeout, ["build", "timeout"], default: .seconds(1800))
                guard timeout >= .seconds(10) else { throw fail(["build", "timeout"], "must be at least 10s") }
                guard cran != nil else { throw fail(["build"], "builds binaries of the CRAN mirror: add a [cran] section") }
                build = Configuration.Build(
                    distro: distro, rMinor: b.rVersion, sandbox: b.sandbox ?? true, timeout: timeout,
                    memoryGiB: try positive(b.memoryGib, ["build", "memory_gib"], default: 4), archived: b.archived ?? false)
            }
            let every = try duration(f.schedule?.every, ["schedule", "every"], default: .seconds(6 * 3600))
            guard every >= .seconds(1) else { throw fail(["schedule", "every"], "must be at least 1s") }
            let schedule = Configuration.Schedule(
                every: every, jitter: try duration(f.schedule?.jitter, ["schedule", "jitter"], default: .zero),
                retryAfter: try duration(f.schedule?.retryAfter, ["schedule", "retry_after"], default: .seconds(60)))
            var retention: RetentionRule?
            if let r = f.retention {
                guard let days = r.keepDays, days >= 0 else {
                    throw fail(["retention", "keep_days"], "is missing or negative: how many days every snapshot is kept")
                }
                guard let then = RetentionRule.Thinning(rawValue: r.then ?? "none") else {
                    throw fail(["retention", "then"], "must be \"weekly\", \"monthly\" or \"none\", not \"\(r.then ?? "")\"")
                }
                retention = RetentionRule(keepDays: days, then: then, pinned: Set(r.pinned ?? []))
            }
            let trust = (f.transfer?.trust ?? []).map(relative)
            if let missing = trust.first(where: { !FileManager.default.isReadableFile(atPath: $0) }) {
                throw fail(["transfer", "trust"], "names \(missing), which cannot be read")
            }
            if let catalog = f.catalog {
                do {
                    _ = try CatalogLocation(catalog)
                } catch let e as AirlockError {
                    throw fail(["catalog"], "is not a catalog: \(e.message)")
                }
            }
            return Configuration(
                data: f.data.map(relative), catalog: f.catalog.map { $0.hasPrefix("sqlite:") ? "sqlite:" + relative(String($0.dropFirst(7))) : $0 },
                pypi: pypi, cran: cran, schedule: schedule, build: build, retention: retention, trust: trust,
                server: .init(
                    host: f.server?.host ?? "127.0.0.1", port: try port(f.server?.port, ["server", "port"], default: 8080),
                    requireAuth: f.server?.requireAuth ?? false),
                daemon: .init(host: f.daemon?.host ?? "127.0.0.1", port: try port(f.daemon?.port, ["daemon", "port"], default: 9090)),
                path: path)
        }
    }
}
