import AirlockCore
import AirlockPolicy
import Foundation
import Testing

@Suite struct PolicyFileTests {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies/default.toml").path

    @Test func shippedDefaultLoads() throws {
        let loaded = try PolicyFile.load(Self.shipped)
        #expect(loaded.policy.thresholds.approveAt == 70)
        #expect(loaded.policy.typosquat.protected.contains("requests"))
        #expect(loaded.digest.count == "sha256:".count + 64)
    }

    private func error(_ edit: (String) -> String) throws -> String {
        let text = edit(try String(contentsOfFile: Self.shipped, encoding: .utf8))
        do {
            _ = try PolicyFile.parse(text, path: "policies/broken.toml")
            return "no error"
        } catch let e as AirlockError {
            return e.message
        }
    }

    private func lineOf(_ needle: String) throws -> Int {
        let lines = try String(contentsOfFile: Self.shipped, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        return lines.firstIndex { $0.hasPrefix(needle) }! + 1
    }

    @Test func wrongTypeNamesFileLineAndField() throws {
        let message = try error { $0.replacingOccurrences(of: "cooldown_days = 7", with: "cooldown_days = \"a week\"") }
        #expect(message == "policies/broken.toml:\(try lineOf("cooldown_days")): field 'age.cooldown_days' should be a number", "\(message)")
    }

    @Test func unknownField() throws {
        let message = try error { $0.replacingOccurrences(of: "approve_at = 70", with: "approve_at = 70\napprove_above = 80") }
        #expect(message == "policies/broken.toml:\(try lineOf("approve_at") + 1): unknown field 'thresholds.approve_above'", "\(message)")
    }

    @Test func missingField() throws {
        let message = try error { $0.replacingOccurrences(of: "deny_below = 30", with: "") }
        #expect(message.hasPrefix("policies/broken.toml:") && message.contains("missing field 'thresholds.deny_below'"), "\(message)")
    }

    @Test func outOfRangeValue() throws {
        let message = try error { $0.replacingOccurrences(of: "approve_at = 70", with: "approve_at = 170") }
        #expect(
            message == "policies/broken.toml:\(try lineOf("approve_at")): field 'thresholds.approve_at' must be between 0 and 100, not 170.0",
            "\(message)")
    }

    @Test func badVerdict() throws {
        let message = try error { $0.replacingOccurrences(of: "yanked = \"deny\"", with: "yanked = \"maybe\"") }
        #expect(message.contains(":\(try lineOf("yanked")): field 'rules.yanked'"), "\(message)")
    }

    @Test func syntaxError() throws {
        let message = try error { $0.replacingOccurrences(of: "max_distance = 2", with: "max_distance = = 2") }
        #expect(message.hasPrefix("policies/broken.toml:\(try lineOf("max_distance")): TOML syntax error"), "\(message)")
    }
}
