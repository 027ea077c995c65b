import AirlockCatalog
import AirlockCore
import AirlockProvenance
import AirlockStore
import AirlockUpstream
import Foundation

/// Brings a file's PEP 740 provenance in with the file, wherever the upstream offers it: fetched,
/// verified offline against the trusted root, stored as a blob (served beside the file) and recorded
/// with its publisher. A provenance that fails verification sets the file aside, naming the check, as
/// a hash mismatch does. Runs in every sync, whatever the policy.
struct ProvenanceCheck: Sendable {
    let verifier: AttestationVerifier
    let fetcher: HTTPFetcher
    let store: any BlobStore
    let catalog: any ReleaseCatalog
    /// Provenance documents are a few kilobytes per attestation; anything larger is not one.
    static let maxDocumentSize: Int64 = 1 << 20

    /// The recorded provenance of the file with `digest`, verifying and recording it first if the
    /// upstream offers one not yet recorded; nil for a file published without provenance.
    func ensure(_ file: UpstreamFile, digest: Digest) async throws -> FileProvenance? {
        if let known = try await catalog.provenance(ofFile: digest) { return known }
        guard let url = file.provenanceURL else { return nil }
        let response = try await fetcher.get(url, headers: ["Accept": "application/json"], maxSize: Self.maxDocumentSize)
        guard response.status == 200 else {
            throw AirlockError(.provenance, "\(file.filename): the index links provenance at \(url), which answered HTTP \(response.status)")
        }
        do {
            let provenance = try Provenance(json: response.body)
            let verified = try await verifier.verify(provenance, filename: file.filename, sha256: digest)
            let record = FileProvenance(document: try store.put(response.body), publisher: verified.publisher, signedAt: verified.signedAt)
            try await catalog.storeProvenance(record, ofFile: digest)
            return record
        } catch let error as ProvenanceError {
            throw AirlockError(.provenance, "\(file.filename): \(error) (provenance from \(url))", underlying: error)
        }
    }

}
