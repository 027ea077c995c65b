import AirlockCore
import AirlockStore
import AirlockUpstream

/// The fetch → verify → commit sequence every ecosystem's files go through: the download streams
/// into a staging file while it is hashed, `verify` checks it (declared size and digests, archive
/// inspection, metadata), and only then is it committed to the store under its SHA-256. Anything
/// that throws discards the staging file: nothing unverified is ever stored.
struct VerifiedDownload: Sendable {
    let store: any BlobStore
    let fetcher: HTTPFetcher
    let progress: SyncProgress
    let maxFileSize: Int64

    func fetch<T: Sendable>(
        _ url: String, headers: [String: String] = [:], verify: (_ path: String, _ download: DownloadResult) async throws -> T
    ) async throws -> T {
        let staging = try store.makeStagingPath()
        do {
            let result = try await fetcher.download(url, to: staging, maxSize: maxFileSize, headers: headers) { [progress] n in progress.addBytes(n) }
            let verified = try await verify(staging, result)
            try store.commit(stagingPath: staging, as: result.digest)
            return verified
        } catch {
            store.discard(stagingPath: staging)
            throw error
        }
    }
}

/// How many files a sync downloaded and how many it found already stored.
actor TransferCounts {
    private(set) var downloaded = 0
    private(set) var reused = 0

    func count(downloaded d: Bool) {
        if d { downloaded += 1 } else { reused += 1 }
    }
}
