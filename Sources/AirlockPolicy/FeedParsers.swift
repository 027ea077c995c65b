public import AirlockCore
import Foundation

/// Reads the public feed formats airlock imports. Every malformed entry is an error naming the
/// source and the place (line, row or record) and the field.
public enum FeedParsers {
    /// Download counts: the JSON published for top PyPI packages (`{"rows": [{"project", "download_count"}]}`
    /// or a bare list of such rows), or CSV `project,downloads` (a header line is optional).
    public static func popularity(_ bytes: [UInt8], source: String) throws -> [String: Int] {
        let text = String(decoding: bytes, as: UTF8.self)
        let trimmed = text.trimmingWhitespace()
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            return try popularityJSON(bytes, source: source)
        }
        var out: [String: Int] = [:]
        for (index, raw) in text.textLines.enumerated() {
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace().trimmingQuotes() }
            guard fields.count >= 2 else {
                throw AirlockError(.invalidArgument, "\(source):\(index + 1): expected 'project,downloads', got '\(line.prefix(80))'")
            }
            guard let count = Int(fields[1]) else {
                if index == 0 { continue }  // header
                throw AirlockError(.invalidArgument, "\(source):\(index + 1): field 'downloads' is not a whole number: '\(fields[1])'")
            }
            guard ProjectName.isValid(fields[0]) else {
                throw AirlockError(.invalidArgument, "\(source):\(index + 1): field 'project' is not a valid name: '\(fields[0])'")
            }
            // Saturating: a count no feed could hold is still "very popular", not a crash.
            let key = ProjectName.normalize(fields[0])
            let (sum, overflow) = out[key, default: 0].addingReportingOverflow(count)
            out[key] = overflow ? Int.max : sum
        }
        return out
    }

    private static func popularityJSON(_ bytes: [UInt8], source: String) throws -> [String: Int] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw AirlockError(.invalidArgument, "\(source): not valid JSON: \(error.localizedDescription)")
        }
        let rows = (object as? [String: Any])?["rows"] ?? object
        guard let list = rows as? [[String: Any]] else {
            throw AirlockError(.invalidArgument, "\(source): expected a list of {\"project\", \"download_count\"} rows (or {\"rows\": [...]})")
        }
        var out: [String: Int] = [:]
        for (index, row) in list.enumerated() {
            guard let name = (row["project"] ?? row["package"]) as? String, ProjectName.isValid(name) else {
                throw AirlockError(.invalidArgument, "\(source): row \(index): field 'project' is missing or not a valid name")
            }
            guard let count = (row["download_count"] ?? row["downloads"] ?? row["count"]) as? Int else {
                throw AirlockError(.invalidArgument, "\(source): row \(index) (\(name)): field 'download_count' is missing or not a whole number")
            }
            out[ProjectName.normalize(name), default: 0] += count
        }
        return out
    }

    private struct OSVRecord: Decodable {
        struct Affected: Decodable {
            struct Package: Decodable {
                let ecosystem: String
                let name: String
            }
            struct Range: Decodable {
                struct Event: Decodable {
                    let introduced: String?
                    let fixed: String?
                    let last_affected: String?
                }
                let type: String
                let events: [Event]
            }
            struct Specific: Decodable {
                let severity: String?
            }
            let package: Package
            let ranges: [Range]?
            let versions: [String]?
            let database_specific: Specific?
        }
        struct Specific: Decodable {
            let severity: String?
        }
        struct SeverityScore: Decodable {
            let type: String
            let score: String
        }
        let id: String
        let summary: String?
        let details: String?
        let affected: [Affected]?
        let database_specific: Specific?
        let severity: [SeverityScore]?
    }

    /// The advisories about `ecosystem` in one OSV record (`PyPI`, `CRAN`).
    public static func osv(_ bytes: [UInt8], source: String, ecosystem: Ecosystem) throws -> [Advisory] {
        let record: OSVRecord
        do {
            record = try JSONDecoder().decode(OSVRecord.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw AirlockError(.invalidArgument, "\(source): OSV record lacks field '\(path)'")
        } catch let DecodingError.typeMismatch(type, context) {
            throw AirlockError(
                .invalidArgument, "\(source): OSV field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' should be \(type)")
        } catch {
            throw AirlockError(.invalidArgument, "\(source): not a valid OSV record: \(error)")
        }
        let wanted = ecosystem == .pypi ? "pypi" : "cran"
        let recordSeverity =
            record.database_specific?.severity.flatMap(Severity.init(name:)) ?? record.severity?.compactMap { cvssSeverity($0.score) }.max()
        return (record.affected ?? []).filter { $0.package.ecosystem.lowercased() == wanted }.map { a in
            Advisory(
                id: record.id, project: ProjectName.normalize(a.package.name), summary: record.summary ?? String((record.details ?? "").prefix(200)),
                severity: a.database_specific?.severity.flatMap(Severity.init(name:)) ?? recordSeverity,
                malicious: record.id.hasPrefix("MAL-"),
                ranges: (a.ranges ?? []).filter { $0.type != "GIT" }.map { r in
                    r.events.map { Advisory.Event(introduced: $0.introduced, fixed: $0.fixed, lastAffected: $0.last_affected) }
                },
                versions: a.versions ?? [])
        }
    }

    /// A CVSS score given as a plain number (some feeds do); vectors are not scored here.
    static func cvssSeverity(_ score: String) -> Severity? {
        guard let value = Double(score) else { return nil }
        switch value {
        case 9...: return .critical
        case 7..<9: return .high
        case 4..<7: return .moderate
        case 0.1..<4: return .low
        default: return nil
        }
    }
}

extension String {
    func trimmingQuotes() -> String {
        count >= 2 && hasPrefix("\"") && hasSuffix("\"") ? String(dropFirst().dropLast()) : self
    }
}
