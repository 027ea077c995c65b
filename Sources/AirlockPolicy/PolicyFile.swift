public import AirlockCore
import Foundation
import TOMLKit

/// Reads a policy file. Every problem — TOML syntax, a missing or mistyped field, an unknown key, a
/// value out of range — is an error naming the file, the line and the field, and nothing half-loaded
/// is ever returned.
public enum PolicyFile {
    /// Loads and validates the policy at `path`.
    public static func load(_ path: String) throws -> LoadedPolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AirlockError(.invalidArgument, "cannot read policy file \(path)")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// The policy shipped in the binary (`policies/default.toml`): what a sync decides under when no
    /// policy is named. Serving without any policy takes an explicit `none`.
    public static func shipped() throws -> LoadedPolicy {
        guard let url = Bundle.module.url(forResource: "default-policy", withExtension: "toml"), let data = try? Data(contentsOf: url) else {
            throw AirlockError(.storage, "the built-in default policy is missing from the AirlockPolicy bundle")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: "built-in default policy")
    }

    /// What `--policy` / `policy =` says: a file, `none`, or (nil) the shipped default.
    public static func choose(_ text: String?) throws -> LoadedPolicy? {
        switch text {
        case nil: return try shipped()
        case "none": return nil
        case let path?: return try load(path)
        }
    }

    /// Parses policy text; `path` names it in errors.
    public static func parse(_ text: String, path: String) throws -> LoadedPolicy {
        let policy = try StrictTOML.decode(Policy.self, from: text, path: path)
        try validate(policy, path: path, text: text)
        return LoadedPolicy(policy: policy, digest: "sha256:" + Digest.of(Array(text.utf8)).hex, path: path, text: text)
    }

    private static func validate(_ p: Policy, path: String, text: String) throws {
        func fail(_ field: [String], _ why: String) -> AirlockError {
            AirlockError(.invalidArgument, "\(path):\(StrictTOML.line(of: field, in: text)): field '\(field.joined(separator: "."))' \(why)")
        }
        let t = p.thresholds
        for (key, value) in [("approve_at", t.approveAt), ("deny_below", t.denyBelow)] where !(0...100).contains(value) {
            throw fail(["thresholds", key], "must be between 0 and 100, not \(value)")
        }
        if t.denyBelow > t.approveAt { throw fail(["thresholds", "deny_below"], "(\(t.denyBelow)) must not exceed approve_at (\(t.approveAt))") }
        let w = p.weights
        for (key, value) in [
            ("maturity", w.maturity), ("release_age", w.releaseAge), ("activity", w.activity), ("maintainers", w.maintainers),
            ("popularity", w.popularity),
        ]
        where value < 0 {
            throw fail(["weights", key], "must not be negative")
        }
        if w.maturity + w.releaseAge + w.activity + w.maintainers + w.popularity <= 0 {
            throw fail(["weights"], "must give some factor a positive weight")
        }
        let a = p.age
        for (key, value) in [
            ("mature_after_days", a.matureAfterDays), ("settled_after_days", a.settledAfterDays), ("abandoned_after_days", a.abandonedAfterDays),
        ]
        where value <= 0 {
            throw fail(["age", key], "must be a positive number of days")
        }
        if a.cooldownDays < 0 { throw fail(["age", "cooldown_days"], "must not be negative") }
        for (key, names) in [("allow_categories", p.licenses.allowCategories), ("deny_categories", p.licenses.denyCategories)] {
            if let bad = names.first(where: { !LicenseCategories.all.contains($0) }) {
                throw fail(
                    ["licenses", key],
                    "names '\(bad)', which is not a licence category; use \(LicenseCategories.all.sorted().joined(separator: ", "))")
            }
        }
        if p.typosquat.maxDistance < 0 || p.typosquat.maxDistance > 3 { throw fail(["typosquat", "max_distance"], "must be 0 to 3") }
        for key in ["deny_at", "review_at", "unknown_severity"] {
            let value =
                key == "deny_at" ? p.vulnerabilities.denyAt : key == "review_at" ? p.vulnerabilities.reviewAt : p.vulnerabilities.unknownSeverity
            if Severity(name: value) == nil { throw fail(["vulnerabilities", key], "must be one of low, moderate, high, critical, not '\(value)'") }
        }
        if p.popularity.dependentsAt < 1 { throw fail(["popularity", "dependents_at"], "must be at least 1") }
        if p.popularity.popularAt < 10 { throw fail(["popularity", "popular_at"], "must be at least 10 downloads") }
        if p.typosquat.popularTop < 0 { throw fail(["typosquat", "popular_top"], "must not be negative") }
        for name in p.rules.allow + p.rules.deny + p.typosquat.protected where !ProjectName.isValid(name) {
            throw fail(["rules"], "names an invalid project '\(name)'")
        }
    }
}

/// A validated policy with the digest of the file it came from (recorded with every decision).
public struct LoadedPolicy: Sendable {
    public let policy: Policy
    public let digest: String
    public let path: String
    /// The file's text, kept so the catalog can record the policy a snapshot was decided under.
    public let text: String
}
