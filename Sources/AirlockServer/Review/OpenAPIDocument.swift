import Foundation

/// The OpenAPI 3.1 description of `/api/v1`, a checked-in resource (`Resources/openapi.json`) served
/// as it is at `/api/v1/openapi.json`. A test checks its paths and methods against the routes the
/// endpoint registers, both ways.
enum OpenAPIDocument {
    static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            fatalError("the OpenAPI document is missing from the AirlockServer bundle")
        }
        return String(decoding: data, as: UTF8.self)
    }()
}
