/// The formats of a simple-repository page, as PEP 691 names them.
public enum SimpleFormat: String, Sendable {
    case json
    case html
    /// `text/html`: the legacy PEP 503 type, byte-for-byte the same HTML.
    case legacyHTML

    public var contentType: String {
        switch self {
        case .json: return "application/vnd.pypi.simple.v1+json"
        case .html: return "application/vnd.pypi.simple.v1+html"
        case .legacyHTML: return "text/html; charset=utf-8"
        }
    }

    /// Picks the format from an `Accept` header by q-value (PEP 691); nil when nothing offered is acceptable.
    public static func negotiate(_ accept: String?) -> SimpleFormat? {
        guard let accept, !accept.trimmingWhitespace().isEmpty else { return .legacyHTML }
        var best: (SimpleFormat, Double)?
        for (index, item) in accept.split(separator: ",").enumerated() {
            let parts = item.split(separator: ";").map { $0.trimmingWhitespace() }
            guard let type = parts.first?.lowercased() else { continue }
            var q = 1.0
            for p in parts.dropFirst() where p.hasPrefix("q=") { q = Double(p.dropFirst(2)) ?? 0 }
            let format: SimpleFormat?
            switch type {
            case "application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json": format = .json
            case "application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html": format = .html
            case "text/html", "text/*", "*/*": format = .legacyHTML
            default: format = nil
            }
            // Ties keep the earlier entry: clients list what they prefer first.
            if let format, q > 0, q > (best?.1 ?? 0) || (best == nil) {
                best = (format, q - Double(index) * 1e-9)
            }
        }
        return best?.0
    }
}
