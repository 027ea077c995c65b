public import AirlockCatalog
public import AirlockCore
import AirlockPolicy
public import AirlockPublish
import Foundation

/// `airlock.toml`: what the mirror holds and how it runs, written down once. Read strictly (every
/// error names file:line and the field); command-line flags win over it. See `airlock.example.toml`.
public struct Configuration: Sendable, Equatable {
    /// The data directory: catalog, blob store, snapshot manifests.
    public var data: String?
    /// Where the catalog lives when not in the data directory: `postgresql://…` or `sqlite:PATH`.
    public var catalog: String?
    public var pypi: PyPI?
    public var cran: CRAN?
    public var schedule: Schedule
    /// R binaries the daemon builds after each CRAN sync (`airlock build cran`); nil builds none.
    public var build: Build?
    /// Which snapshots `airlock gc` and the daemon keep; nil keeps every snapshot.
    public var retention: RetentionRule?
    /// Public keys (`airlock.pub`) whose bundles `airlock import` accepts, besides those given with `--trust`.
    public var trust: [String]
    public var server: Server
    public var daemon: Daemon
    /// The file it was read from.
    public var path: String

    /// The data directory and catalog it names (`--data` and `--catalog` given on a command line win).
    public func directory(data: String? = nil, catalog: String? = nil) throws -> DataDirectory {
        try DataDirectory(data ?? self.data, catalog: catalog ?? self.catalog)
    }

    /// What to mirror from a PyPI-like index.
    public struct PyPI: Sendable, Equatable {
        public var upstream: String
        public var python: [String]
        public var platform: [String]
        /// Requirement lines (PEP 508).
        public var requirements: [String]
        /// Requirements files (`-r` includes are followed), relative to the configuration file.
        public var requirementFiles: [String]
        public var versions: Int
        public var connections: Int
        public var maxFileSize: Int64
        public var policy: PolicyChoice
        public var feeds: Feeds
        /// Redirect hosts, time limits and (PyPI) unhashed files.
        public var limits: UpstreamLimits
        /// Proxy, CA, client certificate, credentials, headers, request rate.
        public var access: UpstreamAccess
    }

    /// Feed files re-imported before every sync, so the policy decides on current data.
    public struct Feeds: Sendable, Equatable {
        /// Download counts: JSON rows or CSV `project,downloads`.
        public var popularity: String?
        /// OSV advisories: a record, a directory or the per-ecosystem zip.
        public var osv: String?
    }

    /// What to mirror from a CRAN-like repository.
    public struct CRAN: Sendable, Equatable {
        public var upstream: String
        public var packages: [String]
        public var versions: Int
        public var withSuggests: Bool
        public var connections: Int
        public var maxFileSize: Int64
        public var policy: PolicyChoice
        public var feeds: Feeds
        /// Redirect hosts, time limits and (PyPI) unhashed files.
        public var limits: UpstreamLimits
        /// Proxy, CA, client certificate, credentials, headers, request rate.
        public var access: UpstreamAccess
        /// A binary repository in Posit Package Manager's layout to mirror binaries of the served releases from.
        public var binaries: Binaries?
    }

    /// `binary_upstream`, `binary_distro`, `binary_r_version` of `[cran]` (as `sync cran --binary-upstream`).
    public struct Binaries: Sendable, Equatable {
        public var upstream: String
        public var distro: String
        public var rMinor: String
    }

    /// `[build]`: after each CRAN sync, the daemon builds the binaries the served current releases lack
    /// (as `airlock build cran`), then publishes a snapshot serving them.
    public struct Build: Sendable, Equatable {
        public var distro: String
        /// The R minor version to build for; nil: this machine's R.
        public var rMinor: String?
        /// False only when written `sandbox = false`: builds then reach the network.
        public var sandbox: Bool
        public var timeout: Duration
        public var memoryGiB: Int
        /// Also the archived versions the snapshot serves.
        public var archived: Bool
    }

    /// When the daemon syncs: every `every`, each time moved by up to `jitter`; after a failure,
    /// again after `retry_after`, doubling up to `every`.
    public struct Schedule: Sendable, Equatable {
        public var every: Duration
        public var jitter: Duration
        public var retryAfter: Duration
    }

    /// `airlock serve`.
    public struct Server: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var requireAuth: Bool
    }

    /// The daemon's own HTTP port: `/healthz`, `/readyz`, `/metrics`.
    public struct Daemon: Sendable, Equatable {
        public var host: String
        public var port: Int
    }

    /// A policy file, the policy shipped in the binary (no `policy` key), or none at all (said
    /// explicitly: `policy = "none"`).
    public enum PolicyChoice: Sendable, Equatable {
        case file(String)
        case shipped
        case none

        /// As `--policy` takes it: a path, `none`, or nil for the shipped policy.
        public var argument: String? {
            switch self {
            case .file(let p): p
            case .shipped: nil
            case .none: "none"
            }
        }
    }

    /// Reads and validates `path`.
    public static func load(_ path: String) throws -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AirlockError(.invalidArgument, "cannot read configuration file \(path)")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses configuration text; relative paths in it are taken from the file's directory.
    public static func parse(_ text: String, path: String) throws -> Configuration {
        let file = try StrictTOML.decode(ConfigurationFile.self, from: text, path: path)
        return try ConfigurationFile.Validation(path: path, text: text).resolve(file)
    }
}
