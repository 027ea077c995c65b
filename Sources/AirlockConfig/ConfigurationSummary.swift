import AirlockCatalog
import AirlockCore
import AirlockPublish

/// The settings in effect, as `airlock config check` prints them (TOML, defaults filled in).
public enum ConfigurationSummary {
    public static func text(_ c: Configuration) throws -> String {
        func list(_ xs: [String]) -> String { "[" + xs.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        func policy(_ p: Configuration.PolicyChoice) -> String {
            switch p {
            case .file(let path): "\"\(path)\""
            case .shipped: "# the built-in default policy (policies/default.toml)"
            case .none: "\"none\"  # every selected release is served"
            }
        }
        func limits(_ l: UpstreamLimits, unhashed: Bool) -> [String] {
            [
                "redirect_hosts = \(list(l.redirectHosts))", "transfer_timeout = \"\(DurationText.format(l.transferTimeout))\"",
                "sync_timeout = \"\(DurationText.format(l.syncTimeout))\"",
            ]
                + (unhashed ? ["allow_unhashed = \(l.allowUnhashed)"] : [])
        }
        func access(_ a: UpstreamAccess) -> [String] { a.summary.map { "# upstream access: \($0)" } }
        func feeds(_ f: Configuration.Feeds) -> [String] {
            (f.popularity.map { ["popularity_feed = \"\($0)\""] } ?? []) + (f.osv.map { ["osv_feed = \"\($0)\""] } ?? [])
        }
        let directory = try c.directory()
        var out = ["# \(c.path): valid", "data = \"\(directory.path)\"", "catalog = \"\(directory.catalog)\""]
        if let p = c.pypi {
            out +=
                [
                    "", "[pypi]", "upstream = \"\(p.upstream)\"", "python = \(list(p.python))", "platform = \(list(p.platform))",
                    "requirements = \(list(p.requirements))", "requirement_files = \(list(p.requirementFiles))", "versions = \(p.versions)",
                    "connections = \(p.connections)", "max_file_size = \(p.maxFileSize)",
                    (p.policy == .shipped ? "" : "policy = ") + policy(p.policy),
                ] + limits(p.limits, unhashed: true) + access(p.access) + feeds(p.feeds)
        }
        if let r = c.cran {
            out +=
                [
                    "", "[cran]", "upstream = \"\(r.upstream)\"", "packages = \(list(r.packages))", "versions = \(r.versions)",
                    "with_suggests = \(r.withSuggests)", "connections = \(r.connections)", "max_file_size = \(r.maxFileSize)",
                    (r.policy == .shipped ? "" : "policy = ") + policy(r.policy),
                ] + limits(r.limits, unhashed: false) + access(r.access) + feeds(r.feeds)
                + (r.binaries.map {
                    ["binary_upstream = \"\($0.upstream)\"", "binary_distro = \"\($0.distro)\"", "binary_r_version = \"\($0.rMinor)\""]
                } ?? [])
        }
        if let b = c.build {
            out += [
                "", "[build]", "distro = \"\(b.distro)\"", b.rMinor.map { "r_version = \"\($0)\"" } ?? "# r_version: this machine's R",
                "sandbox = \(b.sandbox)" + (b.sandbox ? "" : "  # builds can reach the network"), "timeout = \"\(DurationText.format(b.timeout))\"",
                "memory_gib = \(b.memoryGiB)", "archived = \(b.archived)",
            ]
        }
        out += [
            "", "[schedule]", "every = \"\(DurationText.format(c.schedule.every))\"", "jitter = \"\(DurationText.format(c.schedule.jitter))\"",
            "retry_after = \"\(DurationText.format(c.schedule.retryAfter))\"",
        ]
        if let r = c.retention {
            out += [
                "", "[retention]", "keep_days = \(r.keepDays)", "then = \"\(r.then.rawValue)\"",
                "pinned = [\(r.pinned.sorted().map(String.init).joined(separator: ", "))]",
            ]
        } else {
            out += ["", "# [retention]: none; every snapshot is kept"]
        }
        out += ["", "[transfer]", "trust = [\(c.trust.map { "\"\($0)\"" }.joined(separator: ", "))]"]
        out += [
            "", "[server]", "host = \"\(c.server.host)\"", "port = \(c.server.port)", "require_auth = \(c.server.requireAuth)",
            "", "[daemon]", "host = \"\(c.daemon.host)\"", "port = \(c.daemon.port)",
        ]
        return out.joined(separator: "\n")
    }
}
