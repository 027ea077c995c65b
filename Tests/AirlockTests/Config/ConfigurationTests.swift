import AirlockConfig
import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockCatalog

@Suite struct ConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theShippedExampleIsValid() throws {
        let c = try Configuration.load(Self.root + "/airlock.example.toml")
        #expect(c.pypi?.policy == .file(Self.root + "/policies/default.toml"), "relative to the file")
        #expect(c.schedule.every == .seconds(6 * 3600) && c.schedule.jitter == .seconds(900))
        #expect(c.cran?.packages == ["data.table", "ggplot2"])
        #expect(c.daemon.port == 9090 && c.server.port == 8080)
        #expect(c.build == nil && c.cran?.binaries == nil, "binaries are opt-in")
        let built = try Configuration.parse(
            "[cran]\npackages = [\"x\"]\npolicy = \"none\"\nbinary_upstream = \"http://127.0.0.1:9/cran\"\nbinary_distro = \"jammy\"\nbinary_r_version = \"4.4\"\n[build]\ndistro = \"jammy\"\n",
            path: "t.toml")
        let binaries = try #require(built.cran?.binaries)
        let build = try #require(built.build)
        #expect(binaries.upstream == "http://127.0.0.1:9/cran" && binaries.distro == "jammy" && binaries.rMinor == "4.4")
        #expect(
            build.distro == "jammy" && build.rMinor == nil && build.sandbox && build.timeout == .seconds(1800) && build.memoryGiB == 4,
            "sandboxed by default")
    }

    @Test func everyMistakeNamesItsLineAndField() throws {
        let cases: [(String, String)] = [
            (
                "data = \"/d\"\n[pypi]\nrequirements = [\"x\"]\npolicy = \"none\"\nmirror_everything = true\n",
                "t.toml:5: unknown field 'pypi.mirror_everything'"
            ),
            ("[pypi]\nupstream = \"ftp://x\"\nrequirements = [\"x\"]\npolicy = \"none\"\n", "t.toml:2: field 'pypi.upstream' must be an http(s) URL"),
            ("[pypi]\nrequirements = [\"x >>= 1\"]\npolicy = \"none\"\n", "t.toml:2: field 'pypi.requirements' entry 1 'x >>= 1'"),
            (
                "[pypi]\nrequirements = [\"x\"]\npolicy = \"none\"\n[schedule]\nevery = \"often\"\n",
                "t.toml:5: field 'schedule.every' must be a duration"
            ),
            ("[cran]\npolicy = \"none\"\n", "t.toml:1: field 'cran.packages' is missing or empty"),
            ("[server]\nport = 70000\n", "t.toml:2: field 'server.port' must be a port number"),
            (
                "[pypi]\nrequirements = [\"x\"]\npolicy = \"/no/such/policy.toml\"\n",
                "t.toml:3: field 'pypi.policy' names /no/such/policy.toml, which cannot be read"
            ),
            ("[pypi\n", "t.toml:1: TOML syntax error"),
            ("data = \"/d\"\nx = [}\n", "t.toml:2: TOML syntax error: '}' closes nothing that is open here"),
            ("data = \"/d\"\n[\n", "t.toml:2: TOML syntax error: a table header needs a name"),
            (
                "data = \"/d\"\ncatalog = \"mysql://127.0.0.1/y\"\n",
                "t.toml:2: field 'catalog' is not a catalog: a catalog is named sqlite:PATH or postgresql://"
            ),
            (
                "catalog = \"postgresql://u@127.0.0.1/db?sslmode=maybe\"\n",
                "t.toml:1: field 'catalog' is not a catalog: sslmode 'maybe' is not one of"
            ),
            (
                "[cran]\npackages = [\"x\"]\npolicy = \"none\"\nbinary_distro = \"bookworm\"\n",
                "t.toml:4: field 'cran.binary_distro' needs binary_upstream"
            ),
            (
                "[cran]\npackages = [\"x\"]\npolicy = \"none\"\nbinary_upstream = \"http://127.0.0.1:9/b\"\nbinary_distro = \"bookworm\"\nbinary_r_version = \"4\"\n",
                "t.toml:6: field 'cran.binary_r_version' must be the R minor version"
            ),
            (
                "[cran]\npackages = [\"x\"]\npolicy = \"none\"\n[build]\nr_version = \"4.4\"\n",
                "t.toml:4: field 'build.distro' must name this machine's distribution"
            ),
            (
                "[cran]\npackages = [\"x\"]\npolicy = \"none\"\n[build]\ndistro = \"bookworm\"\ntimeout = \"1s\"\n",
                "t.toml:6: field 'build.timeout' must be at least 10s"
            ),
            ("[build]\ndistro = \"bookworm\"\n", "t.toml:1: field 'build' builds binaries of the CRAN mirror: add a [cran] section"),
        ]
        for (text, expected) in cases {
            #expect(throws: AirlockError.self, "\(expected)") { try Configuration.parse(text, path: "t.toml") }
            do { _ = try Configuration.parse(text, path: "t.toml") } catch let e as AirlockError {
                #expect(e.message.hasPrefix(expected), "\(e.message)")
            }
        }
    }

    @Test func theCatalogIsNamedOnceAndFlagsWin() throws {
        let c = try Configuration.parse("data = \"d\"\ncatalog = \"sqlite:c/catalog.sqlite\"\n", path: "/etc/airlock/t.toml")
        #expect(try c.directory().catalog.description == "sqlite:/etc/airlock/c/catalog.sqlite", "relative to the file")
        #expect(try c.directory(catalog: "sqlite:/x.sqlite").catalog.description == "sqlite:/x.sqlite")
        #expect(try DataDirectory("/d", environment: [:]).catalog.description == "sqlite:/d/catalog.sqlite")
        #expect(try DataDirectory("/d", environment: ["AIRLOCK_CATALOG": "sqlite:/e.sqlite"]).catalog.description == "sqlite:/e.sqlite")
    }

    /// A PostgreSQL URL's parts, and a password that never shows.
    @Test func postgresURLs() throws {
        let dir = try TemporaryDirectory()
        try "s3cret\n".write(toFile: dir.path + "/pw", atomically: true, encoding: .utf8)
        let fromFile = try PostgresURL("postgresql://app@127.0.0.1:6543/mirror?sslmode=require&passwordfile=\(dir.path)/pw", environment: [:])
        #expect(
            fromFile.user == "app" && fromFile.host == "127.0.0.1" && fromFile.port == 6543 && fromFile.database == "mirror"
                && fromFile.sslMode == .require)
        #expect(fromFile.password == "s3cret" && !fromFile.redacted.contains("s3cret") && !"\(fromFile)".contains("s3cret"))
        let inline = try PostgresURL("postgresql://app:hunter2@127.0.0.1/mirror", environment: ["PGPASSWORD": "fromenv"])
        #expect(inline.password == "fromenv" && inline.sslMode == .prefer && inline.port == 5432, "the environment wins over the URL")
        #expect(try PostgresURL("postgresql://app:hunter2@127.0.0.1/mirror", environment: [:]).password == "hunter2")
        #expect(try PostgresURL("postgresql://app:p%2541ss%40@127.0.0.1/mirror", environment: [:]).password == "p%41ss@", "escapes decoded once")
        #expect(try PostgresURL("postgresql://app@127.0.0.1/m?sslrootcert=/ca.pem", environment: [:]).sslMode == .verifyFull, "a CA means verify it")
        let socket = try PostgresURL("postgresql://app@:5433/m?host=/run/postgresql", environment: [:])
        #expect(
            socket.socketDirectory == "/run/postgresql" && socket.sslMode == .disable
                && socket.redacted == "postgresql://app@/run/postgresql (socket)/m")
        for bad in ["postgresql://app@127.0.0.1/m?sslmode=sometimes", "postgresql://app@127.0.0.1/m?password=x", "mysql://app@127.0.0.1/m"] {
            let error = try #require(throws: AirlockError.self) { try CatalogLocation(bad) }
            #expect(!error.message.contains("hunter2"))
        }
        let leaked = try #require(throws: AirlockError.self) { try CatalogLocation("pgsql://app:hunter2@127.0.0.1/m") }
        #expect(!leaked.message.contains("hunter2"), "\(leaked.message)")
    }

    @Test func noPolicyKeyMeansTheBuiltInPolicyAndNoneMustBeSaid() throws {
        #expect(try Configuration.parse("[pypi]\nrequirements = [\"x\"]\n", path: "t.toml").pypi?.policy == .shipped)
        #expect(
            try Configuration.parse("[pypi]\nrequirements = [\"x\"]\npolicy = \"none\"\n", path: "t.toml").pypi?.policy
                == Configuration.PolicyChoice.none)
    }

    @Test func durations() {
        #expect(DurationText.parse("90s") == .seconds(90))
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("1d") == .seconds(86_400))
        #expect(DurationText.parse("6") == nil && DurationText.parse("h") == nil && DurationText.parse("5x") == nil)
        #expect(DurationText.format(.seconds(5400)) == "1h30m" && DurationText.format(.seconds(2)) == "2s")
    }
}
