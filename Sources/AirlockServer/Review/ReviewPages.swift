import AirlockCatalog
import AirlockCore
import AirlockPublish
import Foundation
import Hummingbird

/// The values each UI page shows, gathered from the catalog; the templates lay them out.
extension ReviewUI {
    // MARK: Landing

    struct LandingView {
        struct Row {
            let ecosystem: String
            let id: Int64
            let published: String
            let files: Int
            let policy: String
        }
        struct Served { let rows: [Row] }
        let ecosystems: Served?
        let base: String
        let tokenBase: String
        let today: String
    }

    /// `/` (and `/ui/setup`): what is served, and the lines that point pip, uv and R here.
    func landing(_ req: Request, _ ctx: AirlockRequestContext) async throws -> Response {
        // The Host header is the client's to write: only a host[:port] is used, and the engine escapes it like all text.
        let authority = req.head.authority ?? ""
        let isHost =
            !authority.isEmpty && authority.utf8.count <= 255
            && authority.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-:[]".unicodeScalars.contains($0))
            }
        let base = "\(endpoint.options.tls == nil ? "http" : "https")://\(isHost ? authority : "airlock.internal:8080")"
        var rows: [LandingView.Row] = []
        for eco in Ecosystem.allCases {
            guard let s = try await endpoint.catalog.snapshot(eco, .latest) else { continue }
            rows.append(
                .init(
                    ecosystem: eco.rawValue, id: s.id, published: Timestamp.format(s.publishedAt), files: s.distributionCount, policy: s.policyDigest)
            )
        }
        let view = LandingView(
            ecosystems: rows.isEmpty ? nil : .init(rows: rows), base: base,
            tokenBase: base.replacingOccurrences(of: "://", with: "://__token__:TOKEN@"),
            today: Timestamp.day(Date()))
        return page("landing", "Packages, vetted", await session(req, ctx), view)
    }

    // MARK: Queue

    /// Mustache reads stored properties only: what a template tests is stored.
    struct ListView<Row> {
        let rows: [Row]
        let hasRows: Bool
        let pager: Pager

        init(rows: [Row], pager: Pager) {
            self.rows = rows
            self.hasRows = !rows.isEmpty
            self.pager = pager
        }
    }

    struct QueueRow {
        let ecosystem, project, link, version, verdict: String
        let score, demand: Int
        let lastRequested, why, unblocks: String
    }

    func queuePage(_ req: Request, _ s: Session) async throws -> Response {
        await endpoint.demand.flush()
        let rows = try await ReviewQueue(catalog: endpoint.catalog).entries().map { e in
            QueueRow(
                ecosystem: e.ecosystem.rawValue, project: e.project, link: Self.projectLink(e.ecosystem, e.project), version: e.version,
                verdict: e.verdict.rawValue,
                score: Int(e.score), demand: e.demand, lastRequested: e.lastRequested.map(Timestamp.format) ?? "",
                why: e.reason + (e.detail.map { ": " + $0 } ?? ""),
                unblocks: e.unblocks.joined(separator: ", "))
        }
        let (shown, pager) = Pager.slice(rows, page: Pager.requested(req)) { query("/ui/", [("page", String($0))]) }
        return page("queue", "Review queue", s, ListView(rows: shown, pager: pager))
    }

    static func projectLink(_ ecosystem: Ecosystem, _ project: String) -> String {
        "/ui/projects/\(ecosystem.rawValue)/" + (project.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? project)
    }

    // MARK: Projects

    struct ProjectsView {
        struct Choice {
            let value, label: String
            let selected: Bool
        }
        struct Row { let ecosystem, project, link: String }
        let q: String
        let ecosystems: [Choice]
        let rows: [Row]
        let hasRows: Bool
        let pager: Pager
    }

    /// Search across recorded projects: names containing the text (case and `-_.` folded), exact names first.
    func projectsPage(_ req: Request, _ s: Session) async throws -> Response {
        let params = req.uri.queryParameters
        let q = String((params.get("q") ?? "").prefix(100)).trimmingCharacters(in: .whitespaces)
        let chosen = params.get("ecosystem").flatMap(Ecosystem.init(rawValue:))
        let needle = ProjectName.normalize(q)
        var rows: [(exact: Bool, row: ProjectsView.Row)] = []
        for eco in Ecosystem.allCases where chosen.map({ $0 == eco }) ?? true {
            for name in try await endpoint.catalog.projectNames(eco) {
                let folded = ProjectName.normalize(name)
                guard needle.isEmpty || folded.contains(needle) else { continue }
                rows.append((folded == needle, .init(ecosystem: eco.rawValue, project: name, link: Self.projectLink(eco, name))))
            }
        }
        let ordered = rows.sorted { ($0.exact ? 0 : 1, $0.row.project) < ($1.exact ? 0 : 1, $1.row.project) }.map(\.row)
        let (shown, pager) = Pager.slice(ordered, page: Pager.requested(req)) {
            query("/ui/projects", [("q", q), ("ecosystem", chosen?.rawValue ?? ""), ("page", String($0))])
        }
        let choices =
            [ProjectsView.Choice(value: "", label: "all", selected: chosen == nil)]
            + Ecosystem.allCases.map { ProjectsView.Choice(value: $0.rawValue, label: $0.rawValue, selected: $0 == chosen) }
        let title = q.isEmpty ? "Projects" : "Projects matching “\(q)”"
        return page("projects", title, s, ProjectsView(q: q, ecosystems: choices, rows: shown, hasRows: !shown.isEmpty, pager: pager), query: q)
    }

    // MARK: Project

    struct ProjectView {
        struct Upstream { let url, status: String }
        struct Factor {
            let name, signal, points, sign: String
            let x, w: Int
        }
        struct Release {
            let version, verdict, state, publisher: String
            let score: Int
            let revoked: String?
            /// What an R package declares it needs from the system to build (`SystemRequirements`).
            let systemRequirements: String?
            let hasFactors: Bool
            let factors: [Factor]
        }
        struct Closure { let project, version, verdict, served: String }
        struct Binary { let version, distro, rMinor, platform, origin, log: String }
        struct OverrideRow {
            let id: Int64
            let action, versions, reason, actor, state: String
            let active: Bool
        }
        let ecosystem, project, newest: String
        let demand: Int
        let policy: String?
        let snapshot: Int64
        let upstream: Upstream?
        let chart: UsageChart
        let releases: [Release]
        let hasClosure: Bool
        let hasOverrides: Bool
        let hasBinaries: Bool
        let binaries: [Binary]
        let closure: [Closure]
        let overrides: [OverrideRow]
    }

    func projectPage(_ r: ProjectReport, _ s: Session) async throws -> Response {
        let latest = try await endpoint.catalog.snapshot(r.ecosystem, .latest)
        let digests = try await endpoint.catalog.recordedDigests(r.ecosystem, project: r.project).values.reduce(into: Set<Digest>()) {
            $0.formUnion($1)
        }
        let start = Date().addingTimeInterval(-Double(UsageChart.days - 1) * 86_400)
        let downloads = try await endpoint.catalog.downloads(since: DownloadCount.day(of: start)).filter { digests.contains($0.sha256) }
        let misses = try await endpoint.catalog.misses(r.ecosystem).filter { $0.project == r.project }
        let requirements =
            r.ecosystem == .cran ? try await SystemRequirements.byVersion(of: r.project, catalog: endpoint.catalog, store: endpoint.store) : [:]
        let releases = r.releases.reversed().map { release in
            let factors = release.decision?.factors ?? []
            let scale = max(factors.map { abs($0.points) }.max() ?? 0, 1)
            return ProjectView.Release(
                version: release.version, verdict: release.decision?.verdict.rawValue ?? "undecided", state: release.served ? "served" : "not served",
                publisher: release.provenance.map {
                    "\($0.publisher.summary), attested \(Timestamp.format($0.signedAt)) (Sigstore, verified offline)"
                }
                    ?? "no verified attestation",
                score: Int(release.decision?.score ?? 0), revoked: release.revocation?.reason, systemRequirements: requirements[release.version],
                hasFactors: !factors.isEmpty,
                factors: factors.map { f in
                    let w = Int((abs(f.points) / scale * 100).rounded())
                    return .init(
                        name: f.name, signal: f.signal, points: String(format: "%+.1f", f.points), sign: f.points < 0 ? "negative" : "positive",
                        x: f.points < 0 ? 102 - w : 102, w: w)
                })
        }
        let now = Date()
        let binaries = r.ecosystem == .cran ? try await endpoint.catalog.binaries(distro: nil, package: r.project) : []
        let view = ProjectView(
            ecosystem: r.ecosystem.rawValue, project: r.project, newest: r.releases.last?.version ?? "", demand: r.demand,
            policy: latest?.policyDigest,
            snapshot: latest?.id ?? 0, upstream: r.upstream.map { .init(url: $0.pageURL, status: $0.status.described) },
            chart: UsageChart(downloads: downloads, misses: misses, until: now), releases: releases,
            hasClosure: !r.closure.isEmpty, hasOverrides: !r.overrides.isEmpty, hasBinaries: !binaries.isEmpty,
            binaries: binaries.map {
                .init(
                    version: $0.version, distro: $0.distro, rMinor: $0.rMinor, platform: $0.platform.isEmpty ? "any (no compiled code)" : $0.platform,
                    origin: $0.origin,
                    log: $0.buildLog.map { "sha256 " + $0.hex } ?? "")
            },
            closure: r.closure.map {
                .init(
                    project: $0.project, version: $0.version.isEmpty ? "never synced" : $0.version, verdict: $0.decision?.verdict.rawValue ?? "",
                    served: $0.served ? "yes" : "no")
            },
            overrides: r.overrides.map { o in
                let state =
                    o.withdrawal.map { "withdrawn by \($0.actor) on \(Timestamp.format($0.at)): \($0.reason)" }
                    ?? (o.isActive(at: now) ? "in force, expires \(o.expiresAt.map(Timestamp.format) ?? "never")" : "expired")
                return .init(
                    id: o.id, action: o.action.rawValue, versions: o.versions.isEmpty ? "all" : o.versions, reason: o.reason, actor: o.actor,
                    state: state,
                    active: o.isActive(at: now))
            })
        return page("project", "\(r.project) (\(r.ecosystem.rawValue))", s, view)
    }

    // MARK: Snapshots

    struct SnapshotRow {
        let ecosystem: String
        let id: Int64
        let published: String
        let files: Int
        let policy: String
        let diff: String?
    }

    func snapshotsPage(_ req: Request, _ s: Session) async throws -> Response {
        var rows: [SnapshotRow] = []
        for eco in Ecosystem.allCases {
            let list = try await endpoint.catalog.snapshots(eco)
            for (i, snap) in list.enumerated().reversed() {
                let diff =
                    i > 0
                    ? query("/ui/snapshots/diff", [("ecosystem", eco.rawValue), ("from", String(list[i - 1].id)), ("to", String(snap.id))]) : nil
                rows.append(
                    SnapshotRow(
                        ecosystem: eco.rawValue, id: snap.id, published: Timestamp.format(snap.publishedAt), files: snap.distributionCount,
                        policy: snap.policyDigest, diff: diff))
            }
        }
        rows.sort { $0.published > $1.published }
        let (shown, pager) = Pager.slice(rows, page: Pager.requested(req)) { query("/ui/snapshots", [("page", String($0))]) }
        return page("snapshots", "Snapshots", s, ListView(rows: shown, pager: pager))
    }

    struct DiffView {
        struct Row { let project, version, files: String }
        struct Group {
            let id, label: String
            let rows: [Row]
            let count: Int
            let hasRows: Bool

            init(id: String, label: String, rows: [Row]) {
                self.id = id
                self.label = label
                self.rows = rows
                self.count = rows.count
                self.hasRows = !rows.isEmpty
            }
        }
        let summary: String
        let groups: [Group]
    }

    func diffPage(_ req: Request, _ s: Session) async throws -> Response {
        let q = req.uri.queryParameters
        let eco = try Self.ecosystem(q.get("ecosystem") ?? "pypi")
        func snapshot(_ field: String) async throws -> Snapshot {
            let text = q.get(field) ?? ""
            guard let selector = SnapshotSelector(text) else {
                throw AirlockError(.invalidArgument, "'\(text.prefix(40))' names no snapshot: use latest, a date YYYY-MM-DD or an id")
            }
            guard let found = try await endpoint.catalog.snapshot(eco, selector) else {
                throw AirlockError(.notFound, "no \(eco.rawValue) snapshot matches '\(text.prefix(40))'")
            }
            return found
        }
        let a = try await snapshot("from")
        let b = try await snapshot("to")
        let diff = try await endpoint.catalog.diff(a, b)
        func rows(_ changes: [SnapshotDiff.Change]) -> [DiffView.Row] {
            changes.map { .init(project: $0.project, version: $0.version, files: $0.files.joined(separator: ", ")) }
        }
        func rows(_ changes: [SnapshotDiff.BinaryChange]) -> [DiffView.Row] {
            changes.map { .init(project: $0.package, version: $0.version, files: "\($0.distro), R \($0.rMinor): \($0.origin)") }
        }
        var groups: [DiffView.Group] = [
            .init(id: "added", label: "Added", rows: rows(diff.added)), .init(id: "removed", label: "Removed", rows: rows(diff.removed)),
            .init(id: "changed", label: "Files changed within a release", rows: rows(diff.changed)),
        ]
        if eco == .cran {
            groups += [
                .init(id: "binaries-added", label: "Binaries added", rows: rows(diff.binariesAdded)),
                .init(id: "binaries-removed", label: "Binaries removed", rows: rows(diff.binariesRemoved)),
            ]
        }
        let view = DiffView(
            summary: "\(eco.rawValue) snapshot \(a.id) (\(Timestamp.format(a.publishedAt))) → \(b.id) (\(Timestamp.format(b.publishedAt))): "
                + "\(diff.added.count) release(s) added, \(diff.removed.count) removed, \(diff.changed.count) changed"
                + (eco == .cran ? "; \(diff.binariesAdded.count) binary(ies) added, \(diff.binariesRemoved.count) removed" : ""),
            groups: groups)
        return page("diff", "What changed: \(a.id) → \(b.id)", s, view)
    }

    // MARK: Misses, unused overrides, audit

    struct MissRow {
        let ecosystem, project, link, version, first, last: String
        let count: Int
    }

    func missesPage(_ req: Request, _ s: Session) async throws -> Response {
        await endpoint.demand.flush()
        let rows = try await endpoint.catalog.misses(nil).map {
            MissRow(
                ecosystem: $0.ecosystem.rawValue, project: $0.project, link: Self.projectLink($0.ecosystem, $0.project), version: $0.version,
                first: Timestamp.format($0.firstSeen), last: Timestamp.format($0.lastSeen), count: $0.count)
        }
        let (shown, pager) = Pager.slice(rows, page: Pager.requested(req)) { query("/ui/misses", [("page", String($0))]) }
        return page("misses", "Install misses", s, ListView(rows: shown, pager: pager))
    }

    struct StaleView {
        struct Row {
            let id: Int64
            let action, ecosystem, project, link, versions, actor, created, detail: String
        }
        let window, since: String
        let rows: [Row]
        let hasRows: Bool
    }

    func stalePage(_ req: Request, _ s: Session) async throws -> Response {
        let window = String((req.uri.queryParameters.get("unused_for") ?? "90d").prefix(20))
        guard let duration = DurationText.parse(window), duration >= .seconds(86_400) else {
            throw AirlockError(.invalidArgument, "unused for takes a duration of at least a day, such as 90d, not '\(window)'")
        }
        await endpoint.demand.flush()
        let report = try await StaleOverrides(catalog: endpoint.catalog).report(unusedFor: TimeInterval(duration.components.seconds))
        let rows = report.entries.map { e in
            let o = e.override
            return StaleView.Row(
                id: o.id, action: o.action.rawValue, ecosystem: o.ecosystem.rawValue, project: o.project,
                link: Self.projectLink(o.ecosystem, o.project),
                versions: o.versions.isEmpty ? "all" : o.versions, actor: o.actor, created: Timestamp.format(o.createdAt), detail: e.detail)
        }
        return page("stale", "Overrides nobody used", s, StaleView(window: window, since: report.since, rows: rows, hasRows: !rows.isEmpty))
    }

    struct AuditView {
        struct Row {
            let id: Int64
            let at, actor, action, object, details: String
        }
        let intact: Bool
        let events, anchors: Int
        let problems: [String]
        let rows: [Row]
        let pager: Pager
    }

    func auditPage(_ req: Request, _ s: Session) async throws -> Response {
        let anchors = try PublishedManifests.auditHeads(in: endpoint.options.dataDirectory + "/snapshots")
        let verification = try await endpoint.catalog.verifyAudit(anchors: anchors)
        let total = try await endpoint.catalog.auditCount()
        let pages = max(1, (total + Pager.size - 1) / Pager.size)
        let current = min(max(Pager.requested(req), 1), pages)
        let events = try await endpoint.catalog.auditEvents(limit: Pager.size, offset: (current - 1) * Pager.size)
        let pager = Pager(
            page: current, pages: pages, total: total, previous: current > 1 ? query("/ui/audit", [("page", String(current - 1))]) : nil,
            next: current < pages ? query("/ui/audit", [("page", String(current + 1))]) : nil)
        let view = AuditView(
            intact: verification.intact, events: verification.events, anchors: anchors.count, problems: verification.problems,
            rows: events.map { .init(id: $0.id, at: $0.at, actor: $0.actor, action: $0.action, object: $0.object, details: $0.details) }, pager: pager
        )
        return page("audit", "Audit log", s, view)
    }

    // MARK: Lockfile check and approval

    struct CheckView {
        struct Format {
            let value: String
            let selected: Bool
        }
        struct Report {
            let ecosystem, summary: String
            let answers: [LockfileCheck.Answer]
        }
        let csrf: String
        let name: String
        let content: String
        let snapshot: String
        var approved: String? = nil
        var reports: [Report] = []
        let formats: [Format]

        init(csrf: String, name: String, content: String, snapshot: String, approved: String? = nil, reports: [Report] = []) {
            self.csrf = csrf
            self.name = name
            self.content = content
            self.snapshot = snapshot
            self.approved = approved
            self.reports = reports
            self.formats = ["requirements.txt", "uv.lock", "pylock.toml", "poetry.lock", "renv.lock"].map { Format(value: $0, selected: $0 == name) }
        }
    }

    /// `POST /ui/check`: checks the pasted lockfile against a snapshot, or approves exactly its pins
    /// (then shows the check against the snapshot that published them).
    func checkLockfile(_ req: Request, _ ctx: AirlockRequestContext) async throws -> Response {
        var outcome: CheckView?
        let response = try await acting(CheckForm.self, req, ctx, limit: ReviewAPI.maxLockfileUpload) { form, token in
            var view = CheckView(csrf: "", name: form.name, content: form.content, snapshot: form.snapshot ?? "latest")
            if form.action == "approve" {
                let approval = try await endpoint.desk.approve(
                    lockfile: form.name, bytes: Array(form.content.utf8), reason: form.reason ?? "",
                    expiresAt: try ReviewAPI.date(form.expires_at, field: "expiry"),
                    actor: "ui:\(token.name)")
                view.approved =
                    "approved \(approval.pins.count) release(s) (overrides \(approval.pins.map { String($0.overrideID) }.joined(separator: ", "))); published snapshot \(approval.snapshot)"
                view.reports = [.init(ecosystem: approval.ecosystem.rawValue, summary: approval.check.summary, answers: approval.check.answers)]
            } else {
                let text = view.snapshot.isEmpty ? "latest" : view.snapshot
                guard let selector = SnapshotSelector(text) else {
                    throw AirlockError(.invalidArgument, "'\(text.prefix(40))' names no snapshot: use latest, a date YYYY-MM-DD or an id")
                }
                view.reports = try await LockfileCheck(catalog: endpoint.catalog).check([(form.name, Array(form.content.utf8))], snapshot: selector)
                    .map {
                        .init(ecosystem: $0.ecosystem.rawValue, summary: $0.summary, answers: $0.answers)
                    }
            }
            outcome = view
            return ""
        }
        // `acting` redirects after a change; a check shows its answer on the page itself.
        guard let view = outcome, let s = await session(req, ctx) else { return response }
        return page(
            "check", "Check a lockfile", s,
            CheckView(csrf: s.csrf, name: view.name, content: view.content, snapshot: view.snapshot, approved: view.approved, reports: view.reports))
    }
}

/// Downloads per day of a project's files over the last `days` days, with the days its unserved
/// requests were last seen, as a small SVG bar chart drawn on the server.
struct UsageChart {
    struct Bar {
        let x, y, w, h: Int
        let label: String
    }
    static let days = 60
    let days = UsageChart.days
    let width = 600, height = 120
    let baseline = 119
    let bars: [Bar]
    let demandMarks: [Bar]
    let summary: String

    init(downloads: [DownloadCount], misses: [Miss], until now: Date) {
        let dayNames = (0..<Self.days).map { DownloadCount.day(of: now.addingTimeInterval(-Double(Self.days - 1 - $0) * 86_400)) }
        var perDay: [String: Int] = [:]
        for d in downloads { perDay[d.day, default: 0] += d.count }
        var demand: [String: Int] = [:]
        for m in misses { demand[DownloadCount.day(of: m.lastSeen), default: 0] += m.count }
        let top = max(perDay.values.max() ?? 0, demand.values.max() ?? 0, 1)
        let slot = 600 / Self.days
        let height = 120
        func bar(_ i: Int, _ value: Int, _ what: String, offset: Int) -> Bar? {
            guard value > 0 else { return nil }
            let h = max(2, Int((Double(value) / Double(top) * Double(height - 10)).rounded()))
            return Bar(x: i * slot + offset, y: height - 1 - h, w: max(1, slot / 2 - 1), h: h, label: "\(dayNames[i]): \(value) \(what)")
        }
        bars = dayNames.enumerated().compactMap { bar($0.offset, perDay[$0.element] ?? 0, "download(s)", offset: 0) }
        demandMarks = dayNames.enumerated().compactMap { bar($0.offset, demand[$0.element] ?? 0, "request(s) it could not serve", offset: slot / 2) }
        let total = perDay.values.reduce(0, +)
        let asked = misses.reduce(0) { $0 + $1.count }
        summary = "\(total) download(s) of its files from \(dayNames.first ?? "") to \(dayNames.last ?? ""); \(asked) request(s) it could not serve."
    }
}
