import AirlockCatalog
import AirlockCore
import AirlockPublish
import ArgumentParser
import Foundation

/// Who acts from the command line: the local user, recorded in the audit log.
var cliActor: String { "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown") }

struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Review what the policy could not decide: the queue, overrides and revocations.",
        subcommands: [List.self, Show.self, Approve.self, Deny.self, Withdraw.self, Stale.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The review queue, by demand then risk.")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let queue = try await ReviewQueue(catalog: common.open().catalog).entries()
                if json { return try printJSON(queue) }
                if queue.isEmpty { return print("nothing waits for review") }
                for e in queue {
                    print(
                        "\(e.ecosystem.rawValue) \(e.project) \(e.version): \(e.verdict.rawValue) (score \(Int(e.score))), \(e.demand) request(s), \(e.reason)"
                    )
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A project's versions, decisions explained, overrides and dependency closure.")
        @OptionGroup var options: EcosystemOptions
        @Argument(help: "Project name.") var project: String

        func run() async throws {
            try await reportingErrors {
                let (catalog, store) = try await options.common.open()
                let name = options.ecosystem == .pypi ? ProjectName.normalize(project) : project
                let releases = try await catalog.releaseReviews(options.ecosystem, project: name)
                guard let newest = releases.last else {
                    throw AirlockError(.notFound, "\(options.ecosystem.rawValue) project '\(name)' is not in the catalog")
                }
                let closure = try await ReviewQueue(catalog: catalog).closure(options.ecosystem, project: name, version: newest.version)
                let upstream = try await catalog.upstreamProjects(options.ecosystem)[name]
                if options.json { return try printJSON(ShowReport(releases: releases, closure: closure, upstream: upstream)) }
                if let upstream { print("\(name) mirrors \(upstream.pageURL); the upstream marks it \(upstream.status.described)") }
                let requirements = options.ecosystem == .cran ? try await SystemRequirements.byVersion(of: name, catalog: catalog, store: store) : [:]
                for r in releases {
                    let state = r.revocation.map { "REVOKED: \($0.reason)" } ?? (r.served ? "served" : "not served")
                    print(
                        "\(name) \(r.version): \(r.decision?.verdict.rawValue.uppercased() ?? "UNDECIDED") score \(Int(r.decision?.score ?? 0)), \(state)"
                    )
                    print(
                        "    published by: "
                            + (r.provenance.map { "\($0.publisher.summary), attested \(Timestamp.format($0.signedAt))" } ?? "no attestation"))
                    if let needs = requirements[r.version] { print("    system requirements: \(needs)") }
                    for f in r.decision?.factors ?? [] { print("    \(f.name): \(f.signal) (\(String(format: "%+.1f", f.points)))") }
                }
                if options.ecosystem == .cran {
                    for b in try await catalog.binaries(distro: nil, package: name) {
                        print("binary \(b.version) for \(b.distro), R \(b.rMinor)\(b.platform.isEmpty ? "" : " (\(b.platform))"): \(b.origin)")
                    }
                }
                print("dependency closure of \(newest.version):")
                for c in closure {
                    print(
                        "    \(c.project) \(c.version.isEmpty ? "(never synced)" : c.version): \(c.decision?.verdict.rawValue ?? "-"), \(c.served ? "served" : "not served")"
                    )
                }
                for o in try await catalog.overrides(options.ecosystem, project: name) {
                    let state =
                        o.withdrawal.map { "withdrawn by \($0.actor) on \(Timestamp.format($0.at)): \($0.reason)" }
                        ?? "expires \(o.expiresAt.map(Timestamp.format) ?? "never")"
                    print("override \(o.id): \(o.action.rawValue) \(o.versions.isEmpty ? "all" : o.versions) by \(o.actor): \(o.reason) (\(state))")
                }
            }
        }
    }

    /// `review show --json`: the releases, the newest one's closure, and the upstream page and status.
    struct ShowReport: Encodable {
        let releases: [ReleaseReview]
        let closure: [ReleaseReview]
        let upstream: UpstreamProject?
    }

    struct DecisionOptions: ParsableArguments {
        @OptionGroup var options: EcosystemOptions
        @Argument(help: "Project name.") var project: String?
        @Option(help: "A version or range (PyPI '>=1.0,<2', CRAN '>= 1.0, < 2.0'); all versions when omitted.") var versions = ""
        @Option(help: "Why (required; recorded in the audit log).") var reason: String
        @Option(help: "When the override stops applying (YYYY-MM-DD or RFC 3339 UTC).") var expires: String?

        var name: String {
            get throws {
                guard let project else { throw AirlockError(.invalidArgument, "name the project to decide on") }
                return options.ecosystem == .pypi ? ProjectName.normalize(project) : project
            }
        }
        var expiry: Date? {
            get throws {
                guard let expires else { return nil }
                guard let d = Timestamp.parse(expires) ?? Timestamp.parse(expires + "T00:00:00Z") else {
                    throw AirlockError(.invalidArgument, "--expires '\(expires)' is not a date: use YYYY-MM-DD or 2026-12-31T00:00:00Z")
                }
                return d
            }
        }

        func desk() async throws -> ReviewDesk {
            ReviewDesk(catalog: try await options.common.open().catalog, dataDirectory: try options.common.dataDirectory())
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a project, version or range, or exactly what a lockfile pins, and publish a snapshot at once.",
            discussion: """
                With --lockfile (requirements.txt with or without hashes, pylock.toml, uv.lock, poetry.lock, renv.lock), every \
                pinned version is approved with the unserved closure it needs, in one transaction and one audit event that \
                lists what the policy alone would have held and why; any pin not mirrored, revoked or with hashes matching \
                no recorded file refuses the whole lockfile.
                """)
        @OptionGroup var decision: DecisionOptions
        @Flag(help: "Approve the release's unserved dependency closure with it, all or nothing.") var withDependencies = false
        @Option(help: "Approve exactly the versions this lockfile pins, instead of a project.") var lockfile: String?

        func run() async throws {
            try await reportingErrors {
                if let lockfile {
                    guard decision.project == nil, decision.versions.isEmpty else {
                        throw AirlockError(.invalidArgument, "--lockfile approves what the lockfile pins: name no project or --versions with it")
                    }
                    let approval = try await decision.desk().approve(
                        lockfile: lockfile, bytes: try SnapshotCommand.read(lockfile), reason: decision.reason, expiresAt: try decision.expiry,
                        actor: cliActor)
                    if decision.options.json { return try printJSON(approval) }
                    for pin in approval.pins {
                        print("approved \(pin.project) \(pin.version) (override \(pin.overrideID), \(pin.source)); the policy alone: \(pin.policy)")
                    }
                    print("published \(approval.ecosystem.rawValue) snapshot \(approval.snapshot): \(approval.check.summary)")
                    if !approval.check.allServed {
                        for a in approval.check.answers where a.status != .served {
                            print("  \(a.project) \(a.version): \(a.status.rawValue): \(a.detail)")
                        }
                        throw ExitCode(1)
                    }
                    return
                }
                let (overrides, snapshot) = try await decision.desk().approve(
                    decision.options.ecosystem, project: try decision.name, versions: decision.versions, reason: decision.reason,
                    expiresAt: try decision.expiry,
                    withDependencies: withDependencies, actor: cliActor)
                for o in overrides { print("approved \(o.project) \(o.versions.isEmpty ? "(all versions)" : o.versions) (override \(o.id))") }
                print("published \(snapshot.ecosystem.rawValue) snapshot \(snapshot.id)")
            }
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a project, version or range, and publish a snapshot at once.")
        @OptionGroup var decision: DecisionOptions

        func run() async throws {
            try await reportingErrors {
                let (o, snapshot) = try await decision.desk().deny(
                    decision.options.ecosystem, project: try decision.name, versions: decision.versions, reason: decision.reason,
                    expiresAt: try decision.expiry,
                    actor: cliActor)
                print(
                    "denied \(o.project) \(o.versions.isEmpty ? "(all versions)" : o.versions) (override \(o.id)); published snapshot \(snapshot.id)")
            }
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw an override by id (it stays on record, no longer applying), and publish a snapshot without it.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Override id (review show and review stale list them).") var id: Int64
        @Option(help: "Why (required; recorded in the audit log).") var reason: String

        func run() async throws {
            try await reportingErrors {
                let desk = ReviewDesk(catalog: try await common.open().catalog, dataDirectory: try common.dataDirectory())
                let (o, snapshot) = try await desk.withdraw(override: id, reason: reason, actor: cliActor)
                print(
                    "withdrew override \(o.id) (\(o.action.rawValue) \(o.project) \(o.versions.isEmpty ? "all versions" : o.versions)); published \(o.ecosystem.rawValue) snapshot \(snapshot.id)"
                )
            }
        }
    }

    struct Stale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Overrides no client used in a while: approvals none of whose files was downloaded, denials of projects nobody asked for.",
            discussion: "Downloads are what the endpoint counted (per file and day); overrides younger than the window are never listed.")
        @OptionGroup var common: CommonOptions
        @Option(help: "The window, at least a day, such as 90d.") var unusedFor = "90d"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                guard let window = DurationText.parse(unusedFor), window >= .seconds(86_400) else {
                    throw AirlockError(.invalidArgument, "--unused-for takes a duration of at least a day, such as 90d, not '\(unusedFor)'")
                }
                let report = try await StaleOverrides(catalog: common.open().catalog).report(unusedFor: TimeInterval(window.components.seconds))
                if json { return try printJSON(report) }
                if report.entries.isEmpty { return print("every override in force older than \(unusedFor) was used since \(report.since)") }
                for e in report.entries {
                    let o = e.override
                    print(
                        "override \(o.id): \(o.action.rawValue) \(o.ecosystem.rawValue)/\(o.project) \(o.versions.isEmpty ? "(all versions)" : o.versions) by \(o.actor) on \(Timestamp.format(o.createdAt)): \(e.detail)"
                    )
                }
                print("withdraw with: airlock review withdraw ID --reason '…'")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a release from every snapshot, past and future (e.g. malware found after approval).")
        @OptionGroup var options: EcosystemOptions
        @Argument(help: "Project name.") var project: String
        @Argument(help: "Version.") var version: String
        @Option(help: "Why (required; shown to clients and in the audit log).") var reason: String

        func run() async throws {
            try await reportingErrors {
                let name = options.ecosystem == .pypi ? ProjectName.normalize(project) : project
                let desk = ReviewDesk(catalog: try await options.common.open().catalog, dataDirectory: try options.common.dataDirectory())
                let (r, snapshot) = try await desk.revoke(options.ecosystem, project: name, version: version, reason: reason, actor: cliActor)
                print("revoked \(r.project) \(r.version) from every snapshot; published snapshot \(snapshot.id)")
            }
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The tamper-evident audit log.", subcommands: [List.self, Verify.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Events, newest first.")
        @OptionGroup var common: CommonOptions
        @Option(help: "How many events.") var limit = 100
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let events = try await common.open().catalog.auditEvents(limit: limit)
                if json { return try printJSON(events) }
                for e in events { print("\(e.id) \(e.at) \(e.actor) \(e.action) \(e.object) \(e.details)") }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain: fails on any edited, deleted or reordered event, or on events dropped from its tail.",
            discussion: """
                Every snapshot manifest records the chain's head when it was published; the chain must still hold each \
                one (the data directory's manifests, and any --manifest copy kept elsewhere, checked with --pub first).
                """)
        @OptionGroup var common: CommonOptions
        @Option(help: "A manifest kept elsewhere whose recorded audit head the chain must still hold (repeatable).") var manifest: [String] = []
        @Option(help: "The public key (airlock.pub) a --manifest copy's signature (FILE.sig) must verify with.") var pub: String?

        func run() async throws {
            try await reportingErrors {
                var anchors = try PublishedManifests.auditHeads(in: try common.dataDirectory() + "/snapshots")
                for path in manifest {
                    let bytes = try SnapshotCommand.read(path)
                    if let pub {
                        _ = try TrustedKeys(files: [pub]).verify(
                            detached: String(decoding: try SnapshotCommand.read(path + ".sig"), as: UTF8.self), of: bytes, what: path)
                    }
                    guard let head = try PublishedManifests.auditHead(of: bytes, source: path) else {
                        throw AirlockError(.invalidArgument, "\(path) records no audit head (it was written before manifests did)")
                    }
                    anchors.append(head)
                }
                let result = try await common.open().catalog.verifyAudit(anchors: anchors)
                guard result.intact else {
                    throw AirlockError(.catalog, "the audit log has been tampered with:\n  " + result.problems.joined(separator: "\n  "))
                }
                print(
                    "audit log intact: \(result.events) events, each chained to the one before; it holds the head each of \(anchors.count) manifest(s) recorded"
                )
            }
        }
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "API tokens for the endpoint, the API and the web UI.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; its secret is printed once and stored only hashed.")
        @OptionGroup var common: CommonOptions
        @Option(help: "A name for the token (who or what uses it).") var name: String
        @Option(help: "reader, reviewer or admin.") var role: Role
        @Option(help: "Expiry (YYYY-MM-DD or RFC 3339 UTC).") var expires: String?

        func run() async throws {
            try await reportingErrors {
                let expiry = try expires.map { text -> Date in
                    guard let d = Timestamp.parse(text) ?? Timestamp.parse(text + "T00:00:00Z") else {
                        throw AirlockError(.invalidArgument, "--expires '\(text)' is not a date: use YYYY-MM-DD")
                    }
                    return d
                }
                let (token, secret) = try await common.open().catalog.createToken(
                    name: name, role: role, expiresAt: expiry, actor: cliActor, at: Date())
                FileHandle.standardError.write(
                    Data("created \(token.role.rawValue) token \(token.id) '\(token.name)'; the secret is shown once:\n".utf8))
                print(secret)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tokens (never their secrets).")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let tokens = try await common.open().catalog.tokens()
                if json { return try printJSON(tokens) }
                for t in tokens {
                    let state = t.revokedAt != nil ? "revoked" : t.isValid(at: Date()) ? "active" : "expired"
                    print("\(t.id) \(t.name) \(t.role.rawValue) \(state) expires \(t.expiresAt.map(Timestamp.format) ?? "never")")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Token id.") var id: Int64

        func run() async throws {
            try await reportingErrors {
                try await common.open().catalog.revokeToken(id: id, actor: cliActor, at: Date())
                print("revoked token \(id)")
            }
        }
    }
}

extension Role: ExpressibleByArgument {}
