import AirlockCore
import Testing

@Suite struct TargetEnvironmentTests {
    let linux = try! TargetEnvironment(python: "3.11", platform: "manylinux_2_28_x86_64")

    private func accepts(_ env: TargetEnvironment, _ filename: String) -> Bool {
        env.accepts(DistributionFilename(filename)!.tags)
    }

    @Test func pureAndBinaryWheels() {
        #expect(accepts(linux, "six-1.16.0-py2.py3-none-any.whl"))
        #expect(accepts(linux, "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"))
        #expect(accepts(linux, "cryptography-43.0.0-cp39-abi3-manylinux_2_28_x86_64.whl"), "abi3 from an older CPython")
        #expect(!accepts(linux, "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.whl"), "another CPython")
        #expect(!accepts(linux, "numpy-2.1.0-cp311-cp311-manylinux_2_34_x86_64.whl"), "newer glibc than the target")
        #expect(!accepts(linux, "numpy-2.1.0-cp311-cp311-win_amd64.whl"))
        #expect(!accepts(linux, "pkg-1.0-py2-none-any.whl"))
        #expect(accepts(linux, "pkg-1.0-py310-none-any.whl"))
    }

    @Test func macosVersionsAndUniversal() throws {
        let mac = try TargetEnvironment(python: "3.12", platform: "macosx_14_0_arm64")
        #expect(accepts(mac, "x-1.0-cp312-cp312-macosx_11_0_arm64.whl"))
        #expect(accepts(mac, "x-1.0-cp312-cp312-macosx_10_9_universal2.whl"))
        #expect(!accepts(mac, "x-1.0-cp312-cp312-macosx_15_0_arm64.whl"))
        #expect(!accepts(mac, "x-1.0-cp312-cp312-macosx_11_0_x86_64.whl"))
    }

    @Test func requiresPython() {
        #expect(linux.satisfies(requiresPython: ">=3.8"))
        #expect(!linux.satisfies(requiresPython: ">=3.12"))
        #expect(linux.satisfies(requiresPython: nil))
    }

    @Test func rejectsBadTargets() {
        #expect(throws: AirlockError.self) { try TargetEnvironment(python: "2.7", platform: "any") }
        #expect(throws: AirlockError.self) { try TargetEnvironment(python: "3.11", platform: "solaris") }
    }

    @Test func sdistFilenames() throws {
        let f = try #require(DistributionFilename("zope.interface-6.0.tar.gz", project: ProjectName("zope-interface")))
        #expect(f.kind == .sdist)
        #expect(f.version == PythonVersion("6.0"))
        let dashed = try #require(DistributionFilename("backports-zoneinfo-0.2.1.tar.gz", project: ProjectName("backports.zoneinfo")))
        #expect(dashed.version == PythonVersion("0.2.1"))
    }
}

@Suite struct CoreMetadataTests {
    @Test func parsesRepeatedAndContinuedHeaders() throws {
        let text =
            "Metadata-Version: 2.1\nName: Alpha\nVersion: 1.0\nRequires-Dist: beta>=1\nRequires-Dist: gamma; extra == 'x'\nLicense: MIT\n  continued\n\nBody: not a header\n"
        let m = try CoreMetadata(parsing: text, source: "alpha.whl")
        #expect(m.name == "Alpha")
        #expect(try m.requirements(source: "t").map(\.name.normalized) == ["beta", "gamma"])
        #expect(m.value("License") == "MIT\ncontinued")
        #expect(m.value("Body") == nil)
    }

    @Test func crlfMetadataReadsLikeLF() throws {
        // nest_asyncio2 1.7.4's METADATA: CRLF line ends, which core metadata allows and pip reads.
        let text =
            "Metadata-Version: 2.1\r\nName: nest_asyncio2\r\nVersion: 1.7.4\r\nRequires-Dist: beta>=1\r\nSummary: a\r\n  folded\r\n\r\nBody\r\n"
        let m = try CoreMetadata(bytes: Array(text.utf8), source: "nest_asyncio2-1.7.4-py3-none-any.whl")
        #expect(m.name == "nest_asyncio2" && m.version == "1.7.4")
        #expect(try m.requirements(source: "t").map(\.name.normalized) == ["beta"])
        #expect(m.value("Summary") == "a\nfolded")
        let cr = try CoreMetadata(parsing: "Name: a\rVersion: 1\r\rBody", source: "old")
        #expect(cr.version == "1")
    }

    @Test func nonUTF8MetadataIsReadAsLatin1() throws {
        let bytes = Array("Name: caf".utf8) + [0xE9] + Array("\nVersion: 1.0\nAuthor: Fran".utf8) + [0xE7] + Array("ois\n".utf8)
        let m = try CoreMetadata(bytes: bytes, source: "old.tar.gz")
        #expect(m.name == "café" && m.value("Author") == "François")
    }

    @Test func missingNameIsAnError() {
        #expect(throws: AirlockError.self) { try CoreMetadata(parsing: "Version: 1\n", source: "x") }
    }
}

@Suite struct SnapshotSelectorTests {
    @Test func forms() {
        #expect(SnapshotSelector("latest") == .latest)
        #expect(SnapshotSelector("2026-11-22") == .date(year: 2026, month: 11, day: 22))
        #expect(SnapshotSelector("17") == .id(17))
        #expect(SnapshotSelector("2026-13-01") == nil)
        #expect(SnapshotSelector("yesterday") == nil)
        #expect(SnapshotSelector("-3") == nil)
        #expect(SnapshotSelector("2026-11-22")?.endOfDay.map(Timestamp.format) == "2026-11-23T00:00:00.000Z")
    }
}
