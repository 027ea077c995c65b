import Foundation
import Hummingbird
import Mustache

/// The web UI's Mustache templates (`Resources/templates/*.mustache`) and its one stylesheet. Every
/// page extends `layout`; values are escaped by the template engine (`{{…}}`), never by hand.
enum UITemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in files(withExtension: "mustache") {
            do { try library.register(text, named: name) } catch { fatalError("UI template \(name) does not parse: \(error)") }
        }
        return library
    }()

    static let style: String = {
        guard let css = files(withExtension: "css")["style"] else { fatalError("the UI stylesheet is missing from the AirlockServer bundle") }
        return css
    }()

    private static func files(withExtension ext: String) -> [String: String] {
        guard let dir = Bundle.module.url(forResource: "templates", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
        else { fatalError("the UI templates are missing from the AirlockServer bundle") }
        var out: [String: String] = [:]
        for name in names where name.hasSuffix("." + ext) {
            guard let data = FileManager.default.contents(atPath: dir.path + "/" + name) else { continue }
            out[String(name.dropLast(ext.count + 1))] = String(decoding: data, as: UTF8.self)
        }
        return out
    }

    /// A page: `template` rendered with the layout's fields and the page's own (`page`).
    static func response(_ template: String, _ view: PageView, status: HTTPResponse.Status = .ok) -> Response {
        guard let html = library.render(view, withTemplate: template) else { fatalError("no UI template named \(template)") }
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}

/// What the layout shows on every page, and the page's own values under `page`.
struct PageView {
    struct Reviewer {
        let name: String
    }

    let title: String
    /// The signed-in reviewer (nil: signed out).
    let reviewer: Reviewer?
    /// The session's CSRF token, for every form on the page.
    let csrf: String?
    let error: String?
    /// The search box's text.
    var query = ""
    let page: Any
}

/// A page of a long list, with the links to its neighbours.
struct Pager {
    let page: Int
    let pages: Int
    let total: Int
    let previous: String?
    let next: String?

    static let size = 50

    /// The slice of `items` that page `page` (1-based, clamped) shows; `link` makes a page's URL.
    static func slice<T>(_ items: [T], page: Int, link: (Int) -> String) -> ([T], Pager) {
        let pages = max(1, (items.count + size - 1) / size)
        let current = min(max(page, 1), pages)
        let start = (current - 1) * size
        return (
            Array(items[min(start, items.count)..<min(start + size, items.count)]),
            Pager(
                page: current, pages: pages, total: items.count, previous: current > 1 ? link(current - 1) : nil,
                next: current < pages ? link(current + 1) : nil)
        )
    }

    /// The page number a request asks for (`?page=N`), 1 when absent or not a number.
    static func requested(_ req: Request) -> Int { req.uri.queryParameters.get("page").flatMap { Int($0) } ?? 1 }
}

/// Builds a query string, each value percent-encoded.
func query(_ path: String, _ items: [(String, String)]) -> String {
    var c = URLComponents()
    c.path = path
    c.queryItems = items.filter { !$0.1.isEmpty }.map { URLQueryItem(name: $0.0, value: $0.1) }
    return c.string ?? path
}
