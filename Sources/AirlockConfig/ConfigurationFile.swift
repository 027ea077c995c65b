import AirlockCatalog
import AirlockCore
import AirlockPolicy
import AirlockPublish
import Foundation

/// The file as written: every key optional but where a section needs it; `Validation` checks values
/// and fills defaults.
struct ConfigurationFile: Decodable {
    struct PyPI: Decodable {
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

        enum CodingKeys: String, CodingKey {
            case upstream, python, platform, requirements, versions, connections, policy
            case requirementFiles = "requirement_files", maxFileSize = "max_file_size", popularityFeed = "popularity_feed", osvFeed = "osv_feed"
            case redirectHosts = "redirect_hosts", transferTimeout = "transfer_timeout", syncTimeout = "sync_timeout", allowUnhashed = "allow_unhashed"
        }
    }

    struct CRAN: Decodable {
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

        enum CodingKeys: String, CodingKey {
            case upstream, packages, versions, connections, policy
            case withSuggests = "with_suggests", maxFileSize = "max_file_size", popularityFeed = "popularity_feed", osvFeed = "osv_feed"
            case redirectHosts = "redirect_hosts", transferTimeout = "transfer_timeout", syncTimeout = "sync_timeout"
        }
    }

    struct Schedule: Decodable {
        var every: String?
        var jitter: String?
        var retryAfter: String?
        enum CodingKeys: String, CodingKey { case every, jitter, retryAfter = "retry_after" }
    }

    struct Server: Decodable {
        var host: String?
        var port: Int?
        var requireAuth: Bool?
        enum CodingKeys: String, CodingKey { case host, port, requireAuth = "require_auth" }
    }

    struct Daemon: Decodable {
        var host: String?
        var port: Int?
    }

    struct Retention: Decodable {
        var keepDays: Int?
        var then: String?
        var pinned: [Int64]?
        enum CodingKeys: String, CodingKey { case keepDays = "keep_days", then, pinned }
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
            guard let v = DurationText.parse(text) else { throw fail(field, "must be a duration such as \"90s\", \"15m\", \"6h\" or \"1d\", not \"\(text)\"") }
            return v
        }

        /// `redirect_hosts`, `transfer_timeout`, `sync_timeout` (and `allow_unhashed`) of an upstream section.
        private func limits(_ section: String, hosts: [String]?, transfer: String?, sync: String?, allowUnhashed: Bool? = nil) throws -> UpstreamLimits {
            let defaults = UpstreamLimits()
            let transferTimeout = try duration(transfer, [section, "transfer_timeout"], default: defaults.transferTimeout)
            let syncTimeout = try duration(sync, [section, "sync_timeout"], default: defaults.syncTimeout)
            guard transferTimeout >= .seconds(1) else { throw fail([section, "transfer_timeout"], "must be at least 1s") }
            guard syncTimeout >= .seconds(1) else { throw fail([section, "sync_timeout"], "must be at least 1s") }
            if let bad = (hosts ?? []).first(where: { $0.isEmpty || $0.contains("/") || $0.contains(":") }) {
                throw fail([section, "redirect_hosts"], "names '\(bad)'; give host names only, such as \"files.pythonhosted.org\"")
            }
            return UpstreamLimits(redirectHosts: hosts ?? [], transferTimeout: transferTimeout, syncTimeout: syncTimeout, allowUnhashed: allowUnhashed ?? false)
        }

        private func port(_ value: Int?, _ field: [String], default d: Int) throws -> Int {
            let v = value ?? d
            guard (0...65535).contains(v) else { throw fail(field, "must be a port number (0-65535), not \(v)") }
            return v
        }

        func resolve(_ f: ConfigurationFile) throws -> Configuration {
            var pypi: Configuration.PyPI?
            if let p = f.pypi {
                for (i, line) in (p.requirements ?? []).enumerated() {
                    do { _ = try Requirement(parsing: line) } catch { throw fail(["pypi", "requirements"], "entry \(i + 1) '\(line)': \(error)") }
                }
                let python = p.python ?? ["3.10", "3.11", "3.12", "3.13"], platform = p.platform ?? ["manylinux_2_28_x86_64"]
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
                pypi = Configuration.PyPI(
                    upstream: try url(p.upstream ?? "https://pypi.org/simple/", ["pypi", "upstream"]), python: python, platform: platform,
                    requirements: p.requirements ?? [], requirementFiles: files, versions: max(0, p.versions ?? 3),
                    connections: try positive(p.connections, ["pypi", "connections"], default: 8), maxFileSize: p.maxFileSize ?? (4 << 30),
                    policy: try policy(p.policy, ["pypi", "policy"]), feeds: try feeds(popularity: p.popularityFeed, osv: p.osvFeed, "pypi"),
                    limits: try limits("pypi", hosts: p.redirectHosts, transfer: p.transferTimeout, sync: p.syncTimeout, allowUnhashed: p.allowUnhashed))
            }
            var cran: Configuration.CRAN?
            if let c = f.cran {
                guard let packages = c.packages, !packages.isEmpty else { throw fail(["cran", "packages"], "is missing or empty: name the R packages to mirror") }
                cran = Configuration.CRAN(
                    upstream: try url(c.upstream ?? "https://cloud.r-project.org", ["cran", "upstream"]), packages: packages, versions: max(0, c.versions ?? 3),
                    withSuggests: c.withSuggests ?? false, connections: try positive(c.connections, ["cran", "connections"], default: 8),
                    maxFileSize: c.maxFileSize ?? (1 << 30), policy: try policy(c.policy, ["cran", "policy"]),
                    feeds: try feeds(popularity: c.popularityFeed, osv: c.osvFeed, "cran"),
                    limits: try limits("cran", hosts: c.redirectHosts, transfer: c.transferTimeout, sync: c.syncTimeout))
            }
            let every = try duration(f.schedule?.every, ["schedule", "every"], default: .seconds(6 * 3600))
            guard every >= .seconds(1) else { throw fail(["schedule", "every"], "must be at least 1s") }
            let schedule = Configuration.Schedule(
                every: every, jitter: try duration(f.schedule?.jitter, ["schedule", "jitter"], default: .zero),
                retryAfter: try duration(f.schedule?.retryAfter, ["schedule", "retry_after"], default: .seconds(60)))
            var retention: RetentionRule?
            if let r = f.retention {
                guard let days = r.keepDays, days >= 0 else { throw fail(["retention", "keep_days"], "is missing or negative: how many days every snapshot is kept") }
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
                data: f.data.map(relative), catalog: f.catalog.map { $0.hasPrefix("sqlite:") ? "sqlite:" + relative(String($0.dropFirst(7))) : $0 }, pypi: pypi, cran: cran, schedule: schedule, retention: retention, trust: trust,
                server: .init(host: f.server?.host ?? "127.0.0.1", port: try port(f.server?.port, ["server", "port"], default: 8080), requireAuth: f.server?.requireAuth ?? false),
                daemon: .init(host: f.daemon?.host ?? "127.0.0.1", port: try port(f.daemon?.port, ["daemon", "port"], default: 9090)),
                path: path)
        }
    }
}
