import AirlockCatalog
import AirlockUpstream

/// Keeps upstream index responses in the catalog, for conditional requests on the next sync.
struct CatalogResponseCache: ResponseCache {
    let catalog: any ReleaseCatalog

    func cachedResponse(for url: String) async throws -> CachedResponse? {
        try await catalog.cachedResponse(url: url).map {
            CachedResponse(
                etag: $0.etag, lastModified: $0.lastModified, contentType: $0.contentType, url: $0.finalURL, body: $0.body, serial: $0.serial)
        }
    }

    func storeResponse(_ r: CachedResponse, for url: String) async throws {
        try await catalog.storeResponse(
            url: url,
            StoredResponse(etag: r.etag, lastModified: r.lastModified, contentType: r.contentType, finalURL: r.url, body: r.body, serial: r.serial))
    }
}
