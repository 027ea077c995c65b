public import AirlockCatalog
public import AirlockCore
import Foundation

/// Published manifests read back: the audit heads they recorded anchor `audit verify` (a chain cut
/// short no longer reaches them), and their detached signatures are what `snapshot verify` checks.
public enum PublishedManifests {
    /// The audit head a manifest recorded; nil for manifests written before manifests recorded one.
    public static func auditHead(of bytes: [UInt8], source: String) throws -> AuditHead? {
        struct Head: Decodable { let audit_head: AuditHead? }
        do {
            return try JSONDecoder().decode(Head.self, from: Data(bytes)).audit_head
        } catch {
            throw AirlockError(.invalidArgument, "\(source) is not an airlock snapshot manifest: \(error)")
        }
    }

    /// The audit heads every manifest in `directory` (a data directory's `snapshots/`) recorded.
    public static func auditHeads(in directory: String) throws -> [AuditHead] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return try names.filter { $0.hasSuffix(".json") && $0 != "manifest.schema.json" }.sorted().compactMap { name in
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { throw AirlockError(.storage, "cannot read \(path)") }
            return try auditHead(of: [UInt8](data), source: path)
        }
    }
}
