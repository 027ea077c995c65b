import AirlockCore
import AirlockTestSupport
import Foundation
@testable import AirlockUpstream
import Testing

@Suite struct ArchiveInspectorTests {
    let inspector = ArchiveInspector()

    private func build(_ spec: PackageSpec, in dir: TemporaryDirectory) throws -> [String] {
        try FixtureScripts.build([spec], into: dir.path).map { dir.path + "/" + $0 }
    }

    @Test func readsWheelAndSdistMetadata() throws {
        let dir = try TemporaryDirectory()
        let paths = try build(PackageSpec("alpha", "1.0", requires: ["beta"], kinds: ["wheel", "sdist"]), in: dir)
        let wheel = try inspector.inspect(path: paths[0], displayName: "alpha-1.0-py3-none-any.whl", metadata: .wheelMetadata)
        #expect(wheel.metadataMember == "alpha-1.0.dist-info/METADATA")
        #expect(String(decoding: wheel.metadata ?? [], as: UTF8.self).contains("Requires-Dist: beta"))
        let sdist = try inspector.inspect(path: paths[1], displayName: "alpha-1.0.tar.gz", metadata: .sdistPKGINFO)
        #expect(sdist.metadataMember == "alpha-1.0/PKG-INFO")
    }

    @Test func rejectsTraversalInWheelAndSdist() throws {
        let dir = try TemporaryDirectory()
        let paths = try build(PackageSpec("evil", "1.0", kinds: ["wheel", "sdist"], hostile: "traversal"), in: dir)
        for (path, member) in zip(paths, [ArchiveInspector.MetadataMember.wheelMetadata, .sdistPKGINFO]) {
            #expect {
                try inspector.inspect(path: path, displayName: "evil", metadata: member)
            } throws: { error in
                let e = error as? AirlockError
                return e?.code == .hostileArchive && e!.message.contains("unsafe member name '../")
            }
        }
    }

    @Test func rejectsZipBomb() throws {
        let dir = try TemporaryDirectory()
        let paths = try build(PackageSpec("bomb", "1.0", hostile: "zipbomb", bombMiB: 64), in: dir)
        #expect {
            try inspector.inspect(path: paths[0], displayName: "bomb-1.0-py3-none-any.whl", metadata: .wheelMetadata)
        } throws: { error in
            let e = error as? AirlockError
            return e?.code == .hostileArchive && e!.message.contains("decompression bomb")
        }
    }

    @Test func capsMetadataSize() throws {
        let dir = try TemporaryDirectory()
        let paths = try build(PackageSpec("alpha", "1.0"), in: dir)
        var limits = ArchiveLimits()
        limits.maxMetadataBytes = 16
        #expect(throws: AirlockError.self) {
            try ArchiveInspector(limits: limits).inspect(path: paths[0], displayName: "alpha", metadata: .wheelMetadata)
        }
    }

    @Test func reportsMissingMetadata() throws {
        let dir = try TemporaryDirectory()
        let paths = try build(PackageSpec("bare", "1.0", hostile: "no-metadata"), in: dir)
        let report = try inspector.inspect(path: paths[0], displayName: "bare", metadata: .wheelMetadata)
        #expect(report.metadata == nil)
    }

    @Test func garbageIsNotAnArchive() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/junk.whl"
        try "not a zip".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: AirlockError.self) { try inspector.inspect(path: path, displayName: "junk.whl", metadata: .wheelMetadata) }
    }

    @Test func linkEscapes() {
        #expect(throws: AirlockError.self) { try ArchiveInspector().checkLink("../../etc/passwd", from: "pkg/link", in: "t") }
        #expect(throws: Never.self) { try ArchiveInspector().checkLink("../sibling", from: "pkg/sub/link", in: "t") }
    }
}
