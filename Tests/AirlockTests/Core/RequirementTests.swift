import AirlockCore
import Testing

@Suite struct RequirementTests {
    @Test func parsesNameExtrasSpecifierAndMarker() throws {
        let r = try Requirement(parsing: #"Pandas[Performance, excel] >=2.0, <3 ; python_version >= "3.9""#)
        #expect(r.name == ProjectName("pandas"))
        #expect(r.extras == ["performance", "excel"])
        #expect(r.specifier.contains(PythonVersion("2.5")!))
        #expect(!r.specifier.contains(PythonVersion("3.0")!))
        #expect(r.marker != nil)
    }

    @Test func parenthesizedSpecifiers() throws {
        let r = try Requirement(parsing: "requests (>=2.8.1, ==2.8.*)")
        #expect(r.specifier.contains(PythonVersion("2.8.3")!))
        #expect(!r.specifier.contains(PythonVersion("2.9")!))
    }

    @Test func directReference() throws {
        let r = try Requirement(parsing: "pip @ https://example.invalid/pip-1.0.whl ; python_version > '3'")
        #expect(r.url == "https://example.invalid/pip-1.0.whl")
        #expect(r.marker != nil)
    }

    @Test(arguments: ["", ">=1.0", "name[", "name >=1.0 junk", "name; python_version >>> '3'", "name; unknown_var == '1'"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: AirlockError.self) { try Requirement(parsing: text) }
    }

    @Test func requirementsFile() throws {
        let text = """
            # comment
            numpy>=1.26  # trailing comment
            requests \\
              [socks]
            --index-url https://example.invalid/simple
            -r more.txt
            pkg==1.0 --hash=sha256:abcd
            """
        let reqs = try Requirement.parseFile(at: "/x/req.txt", contents: text) { path in
            #expect(path == "/x/more.txt")
            return "six\n"
        }
        #expect(reqs.map(\.name.normalized) == ["numpy", "requests", "six", "pkg"])
        #expect(reqs[1].extras == ["socks"])
    }

    @Test func fileErrorsNameFileAndLine() {
        #expect {
            try Requirement.parseFile(at: "req.txt", contents: "ok\nbad name!\n") { _ in "" }
        } throws: { error in
            (error as? AirlockError)?.message.hasPrefix("req.txt:2:") == true
        }
    }
}

@Suite struct MarkerTests {
    let linux311 = try! TargetEnvironment(python: "3.11", platform: "manylinux_2_28_x86_64").markerEnvironment
    let windows39 = try! TargetEnvironment(python: "3.9", platform: "win_amd64").markerEnvironment

    @Test func versionAndPlatform() throws {
        let m = try Marker.parse(#"python_version >= "3.10" and sys_platform == "linux""#)
        #expect(m.evaluate(linux311))
        #expect(!m.evaluate(windows39))
    }

    @Test func versionComparisonIsNumericNotTextual() throws {
        #expect(try Marker.parse(#"python_version > "3.9""#).evaluate(linux311), "3.11 > 3.9 as versions, not as strings")
    }

    @Test func orAndParentheses() throws {
        let m = try Marker.parse(#"(os_name == "nt" or platform_machine == "x86_64") and python_full_version < "3.12""#)
        #expect(m.evaluate(linux311))
        #expect(m.evaluate(windows39))
    }

    @Test func inAndNotIn() throws {
        #expect(try Marker.parse(#""linux" in sys_platform"#).evaluate(linux311))
        #expect(try Marker.parse(#"platform_system not in "Windows Darwin""#).evaluate(linux311))
    }

    @Test func extrasNormalize() throws {
        var env = linux311
        env["extra"] = "Socks_Proxy"
        #expect(try Marker.parse(#"extra == "socks-proxy""#).evaluate(env))
    }

    @Test func malformedMarkerNamesColumn() {
        #expect {
            try Marker.parse(#"python_version >= "3" and"#)
        } throws: { error in
            (error as? AirlockError)?.message.contains("column") == true
        }
    }
}
