import AirlockConfig
import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

@Suite struct ConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theShippedExampleIsValid() throws {
        let c = try Configuration.load(Self.root + "/airlock.example.toml")
        #expect(c.pypi?.policy == .file(Self.root + "/policies/default.toml"), "relative to the file")
        #expect(c.schedule.every == .seconds(6 * 3600) && c.schedule.jitter == .seconds(900))
        #expect(c.cran?.packages == ["data.table", "ggplot2"])
        #expect(c.daemon.port == 9090 && c.server.port == 8080)
    }

    @Test func everyMistakeNamesItsLineAndField() throws {
        let cases: [(String, String)] = [
            ("data = \"/d\"\n[pypi]\nrequirements = [\"x\"]\npolicy = \"none\"\nmirror_everything = true\n", "t.toml:5: unknown field 'pypi.mirror_everything'"),
            ("[pypi]\nupstream = \"ftp://x\"\nrequirements = [\"x\"]\npolicy = \"none\"\n", "t.toml:2: field 'pypi.upstream' must be an http(s) URL"),
            ("[pypi]\nrequirements = [\"x >>= 1\"]\npolicy = \"none\"\n", "t.toml:2: field 'pypi.requirements' entry 1 'x >>= 1'"),
            ("[pypi]\nrequirements = [\"x\"]\npolicy = \"none\"\n[schedule]\nevery = \"often\"\n", "t.toml:5: field 'schedule.every' must be a duration"),
            ("[cran]\npolicy = \"none\"\n", "t.toml:1: field 'cran.packages' is missing or empty"),
            ("[server]\nport = 70000\n", "t.toml:2: field 'server.port' must be a port number"),
            ("[pypi]\nrequirements = [\"x\"]\npolicy = \"/no/such/policy.toml\"\n", "t.toml:3: field 'pypi.policy' names /no/such/policy.toml, which cannot be read"),
            ("[pypi\n", "t.toml:1: TOML syntax error"),
            ("data = \"/d\"\nx = [}\n", "t.toml:2: TOML syntax error: '}' closes nothing that is open here"),
            ("data = \"/d\"\n[\n", "t.toml:2: TOML syntax error: a table header needs a name"),
        ]
        for (text, expected) in cases {
            #expect(throws: AirlockError.self, "\(expected)") { try Configuration.parse(text, path: "t.toml") }
            do { _ = try Configuration.parse(text, path: "t.toml") } catch let e as AirlockError {
                #expect(e.message.hasPrefix(expected), "\(e.message)")
            }
        }
    }

    @Test func noPolicyKeyMeansTheBuiltInPolicyAndNoneMustBeSaid() throws {
        #expect(try Configuration.parse("[pypi]\nrequirements = [\"x\"]\n", path: "t.toml").pypi?.policy == .shipped)
        #expect(try Configuration.parse("[pypi]\nrequirements = [\"x\"]\npolicy = \"none\"\n", path: "t.toml").pypi?.policy == Configuration.PolicyChoice.none)
    }

    @Test func durations() {
        #expect(DurationText.parse("90s") == .seconds(90))
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("1d") == .seconds(86_400))
        #expect(DurationText.parse("6") == nil && DurationText.parse("h") == nil && DurationText.parse("5x") == nil)
        #expect(DurationText.format(.seconds(5400)) == "1h30m" && DurationText.format(.seconds(2)) == "2s")
    }
}
