public import AirlockCatalog
import AirlockCore
public import AirlockStore

/// What an R package declares it needs from the system to build (`SystemRequirements`: libraries,
/// tools), by version, read from the `PACKAGES` records the syncs stored. Reviewers see it beside
/// the binaries; a build record names it.
public enum SystemRequirements {
    /// Each recorded version's `SystemRequirements`, on one line; versions that declare none are absent.
    public static func byVersion(of package: String, catalog: any ReviewCatalog, store: any BlobStore) async throws -> [String: String] {
        var out: [String: String] = [:]
        for (version, digest) in try await catalog.recordedMetadata(.cran, project: package) {
            guard let bytes = try? store.read(digest), let record = try DCF.parse(bytes, source: "\(package) \(version) PACKAGES record").first,
                let declared = line(record["SystemRequirements"])
            else { continue }
            out[version] = declared
        }
        return out
    }

    /// A field's value on one line (DCF continuation lines joined), or nil when empty.
    public static func line(_ value: String?) -> String? {
        guard let value else { return nil }
        let joined = value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return joined.isEmpty ? nil : joined
    }
}
