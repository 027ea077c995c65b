import AirlockCatalog
import AirlockCore
import AirlockPublish
import Foundation
import HTTPTypes
import Hummingbird

extension Endpoint {
    /// `/snapshots/{ecosystem}/{snapshot}/manifest.json` and `manifest.json.sig`: each published snapshot's
    /// manifest and its detached signature, open to anyone (what they attest is public: a CI system checks
    /// a dated snapshot with `airlock snapshot verify --server`). `{snapshot}` is `latest`, a date or an id.
    func manifest(_ req: Request, _ ctx: AirlockRequestContext) async throws -> Response {
        let raw = ctx.parameters.get("ecosystem") ?? ""
        let text = ctx.parameters.get("snapshot") ?? ""
        let file = ctx.parameters.get("file") ?? ""
        guard let ecosystem = Ecosystem(rawValue: raw) else { return Responses.text(.notFound, "airlock: no ecosystem '\(raw)': pypi or cran") }
        guard file == "manifest.json" || file == "manifest.json.sig" else {
            return Responses.text(.notFound, "airlock: a snapshot has manifest.json and manifest.json.sig, nothing else")
        }
        guard let selector = SnapshotSelector(text), let snapshot = try await catalog.snapshot(ecosystem, selector) else {
            return Responses.unknownSnapshot(ecosystem, text)
        }
        let manifests = ManifestWriter(directory: options.dataDirectory + "/snapshots")
        let path = file == "manifest.json" ? manifests.path(of: snapshot) : manifests.signaturePath(of: snapshot)
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
            return Responses.text(
                .notFound,
                file == "manifest.json"
                    ? "airlock: the manifest of \(ecosystem.rawValue) snapshot \(snapshot.id) is missing"
                    : "airlock: \(ecosystem.rawValue) snapshot \(snapshot.id) was published unsigned (no key at keys/airlock.key then)")
        }
        var headers = HTTPFields()
        headers[.contentType] = file == "manifest.json" ? "application/json" : "text/plain; charset=utf-8"
        headers[.contentLength] = String(size)
        // A selector that moves (latest, today) must not be cached as if it named one snapshot for good.
        headers[.cacheControl] = String(snapshot.id) == text ? "public, max-age=31536000, immutable" : "no-cache"
        return Response(status: .ok, headers: headers, body: try await routerFileIO.loadFile(path: path, context: ctx, chunkLength: Self.routerChunk))
    }
}
