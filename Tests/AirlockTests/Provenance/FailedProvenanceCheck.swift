import AirlockProvenance

/// The name of the verification check `body` failed (`ProvenanceError.failed`), nil when it verified,
/// or `other: …` for any other error.
func failedProvenanceCheck(_ body: () async throws -> AttestationVerifier.Verified) async -> String? {
    do {
        _ = try await body()
        return nil
    } catch ProvenanceError.failed(let check, _) {
        return check
    } catch {
        return "other: \(error)"
    }
}
