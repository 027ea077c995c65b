import Foundation

/// What kind of licence an SPDX identifier is, from the ScanCode LicenseDB (generated into
/// `Resources/license-categories.json` by `scripts/generate-license-data`, CC-BY-4.0 data): permissive,
/// public-domain, weak-copyleft, strong-copyleft, network-copyleft, non-commercial, source-available,
/// restricted, proprietary, or unknown.
public enum LicenseCategories {
    /// Every category a policy may name.
    public static let all: Set<String> = [
        "permissive", "public-domain", "weak-copyleft", "strong-copyleft", "network-copyleft", "non-commercial", "source-available", "restricted",
        "proprietary", "unknown",
    ]

    private struct Table: Decodable {
        let source: String
        let attribution: String
        let categories: [String: String]
    }

    private static let table: Table = {
        guard let url = Bundle.module.url(forResource: "license-categories", withExtension: "json"), let data = try? Data(contentsOf: url),
            let table = try? JSONDecoder().decode(Table.self, from: data)
        else { fatalError("the licence categories are missing from the AirlockPolicy bundle") }
        return table
    }()

    private static let folded: [String: String] = Dictionary(
        table.categories.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })

    /// The category of an SPDX identifier (case-insensitive); "unknown" when the table does not know it.
    public static func category(of id: String) -> String {
        table.categories[id] ?? folded[id.lowercased()] ?? "unknown"
    }

    /// Where the table comes from, for explanations and the NOTICE.
    public static var source: String { "\(table.source); \(table.attribution)" }
}
