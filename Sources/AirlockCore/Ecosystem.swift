/// A package ecosystem airlock mirrors: each is one upstream reader plus one repository renderer.
public enum Ecosystem: String, Codable, Sendable, CaseIterable, Hashable {
    case pypi
    case cran
}
