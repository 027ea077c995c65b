import AirlockCore
import Foundation

/// Renders a snapshot as a PEP 503/691 simple repository (API version 1.4: PEP 592 yanked,
/// PEP 658/714 core metadata, PEP 700 versions, size and upload-time, PEP 708 tracks, PEP 740
/// provenance, PEP 792 project status).
enum SimpleRepositoryRenderer {
    static let apiVersion = "1.4"

    /// The URL of a file's bytes: immutable, named by digest.
    static func fileURL(_ f: Distribution) -> String {
        "/files/sha256/\(f.digest.hex)/\(percentEncode(f.filename))"
    }

    /// The URL of a file's PEP 740 provenance, beside the file, when it has one.
    static func provenanceURL(_ f: Distribution) -> String? {
        f.provenanceDigest == nil ? nil : fileURL(f) + ".provenance"
    }

    static func index(_ view: SnapshotView, format: SimpleFormat) -> [UInt8] {
        switch format {
        case .json:
            let projects = view.projectNames.map { ["name": $0.display] }
            return json(["meta": ["api-version": apiVersion, "_last-serial": view.snapshot.id] as [String: Any], "projects": projects])
        case .html, .legacyHTML:
            var html = head(title: "Simple index")
            for name in view.projectNames {
                html += "<a href=\"\(escape(name.normalized))/\">\(escape(name.display))</a><br/>\n"
            }
            return Array((html + "</body>\n</html>\n").utf8)
        }
    }

    /// A project's page: its served files, the upstream project it tracks, and its status when not active.
    static func project(_ project: SnapshotView.Project, upstream: UpstreamProject?, snapshot: Snapshot, format: SimpleFormat) -> [UInt8] {
        let status = upstream.flatMap { $0.status.isActive ? nil : $0.status }
        switch format {
        case .json:
            let files: [[String: Any]] = project.files.map { f in
                var entry: [String: Any] = [
                    "filename": f.filename, "url": fileURL(f), "hashes": ["sha256": f.digest.hex], "size": f.size,
                    "yanked": f.yanked.map { $0.isEmpty ? true as Any : $0 as Any } ?? false,
                ]
                if let rp = f.requiresPython { entry["requires-python"] = rp }
                if let t = f.uploadTime { entry["upload-time"] = Timestamp.format(t) }
                let metadata: Any = f.metadataDigest.map { ["sha256": $0.hex] as Any } ?? false
                entry["core-metadata"] = metadata
                entry["dist-info-metadata"] = metadata
                entry["provenance"] = provenanceURL(f) ?? NSNull()
                return entry
            }
            var page: [String: Any] = [
                "meta": ["api-version": apiVersion, "_last-serial": snapshot.id] as [String: Any], "name": project.name.normalized,
                "versions": project.versions, "files": files,
            ]
            if let upstream { page["tracks"] = [upstream.pageURL] }
            if let status { page["project-status"] = status.reason.map { ["status": status.status, "reason": $0] } ?? ["status": status.status] }
            return json(page)
        case .html, .legacyHTML:
            var meta = upstream.map { "<meta name=\"pypi:tracks\" content=\"\(escape($0.pageURL))\">\n" } ?? ""
            if let status {
                meta += "<meta name=\"pypi:project-status\" content=\"\(escape(status.status))\">\n"
                if let reason = status.reason { meta += "<meta name=\"pypi:project-status-reason\" content=\"\(escape(reason))\">\n" }
            }
            var html = head(title: "Links for \(escape(project.name.display))", meta: meta)
            for f in project.files {
                var attributes = "href=\"\(fileURL(f))#sha256=\(f.digest.hex)\""
                if let rp = f.requiresPython { attributes += " data-requires-python=\"\(escape(rp))\"" }
                if let m = f.metadataDigest {
                    attributes += " data-dist-info-metadata=\"sha256=\(m.hex)\" data-core-metadata=\"sha256=\(m.hex)\""
                }
                if let y = f.yanked { attributes += " data-yanked=\"\(escape(y))\"" }
                if let p = provenanceURL(f) { attributes += " data-provenance=\"\(p)\"" }
                html += "<a \(attributes)>\(escape(f.filename))</a><br/>\n"
            }
            return Array((html + "</body>\n</html>\n").utf8)
        }
    }

    private static func head(title: String, meta: String = "") -> String {
        """
        <!DOCTYPE html>
        <html>
        <head>
        <meta name="pypi:repository-version" content="\(apiVersion)">
        \(meta)<title>\(title)</title>
        </head>
        <body>
        <h1>\(title)</h1>

        """
    }

    private static func json(_ object: [String: Any]) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return [UInt8](data)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func percentEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~+!")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
