import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

@testable import AirlockUpstream

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

    /// Real archives written by Python's tarfile and zipfile: link chains that only a file system
    /// reading of the names catches, in an sdist, an R tarball and a wheel; and links that stay inside.
    @Test(arguments: [
        ("chain", "tar", false), ("chain-reordered", "tar", false), ("hardlink-through-link", "tar", false), ("absolute-link", "tar", false),
        ("link-then-write", "tar", false), ("inside", "tar", true), ("wheel-symlink", "zip", false),
    ])
    func linksResolvedAsExtractionWould(_ variant: String, _ format: String, _ accepted: Bool) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/pkg-1.0" + (format == "zip" ? "-py3-none-any.whl" : ".tar.gz")
        let r = try Subprocess.run(FixtureScripts.python, ["-c", Self.linkArchives, path, variant])
        #expect(r.succeeded, "\(r.output)")
        let kind: ArchiveInspector.MetadataMember = format == "zip" ? .wheelMetadata : .sdistPKGINFO
        if accepted {
            #expect(throws: Never.self) { try inspector.inspect(path: path, displayName: (path as NSString).lastPathComponent, metadata: kind) }
        } else {
            #expect {
                try inspector.inspect(path: path, displayName: (path as NSString).lastPathComponent, metadata: kind)
            } throws: { error in
                (error as? AirlockError)?.code == .hostileArchive && "\(error)".contains("unsafe member name")
            }
        }
    }

    static let linkArchives = #"""
        import io, sys, tarfile, zipfile
        path, variant = sys.argv[1], sys.argv[2]
        def link(t, name, target, kind=tarfile.SYMTYPE):
            i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; t.addfile(i)
        def file(t, name, data=b"x\n"):
            i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
        if variant == "wheel-symlink":
            with zipfile.ZipFile(path, "w") as z:
                z.writestr("pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
                info = zipfile.ZipInfo("pkg/link"); info.external_attr = (0o120777 << 16); info.create_system = 3
                z.writestr(info, "../../../etc")
            sys.exit(0)
        with tarfile.open(path, "w:gz") as t:
            file(t, "pkg-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
            if variant == "chain":
                link(t, "pkg-1.0/a", ".."); link(t, "pkg-1.0/a/b", ".."); link(t, "pkg-1.0/a/b/c", "..")
                file(t, "pkg-1.0/a/b/c/escaped.txt")
            elif variant == "chain-reordered":
                link(t, "pkg-1.0/x", "y/../.."); link(t, "pkg-1.0/y", "..")
            elif variant == "hardlink-through-link":
                link(t, "pkg-1.0/up", ".."); link(t, "pkg-1.0/up2", "up/..")
                link(t, "pkg-1.0/h", "pkg-1.0/up2/etc/passwd", tarfile.LNKTYPE)
            elif variant == "absolute-link":
                link(t, "pkg-1.0/etc", "/etc")
            elif variant == "link-then-write":
                link(t, "pkg-1.0/a", ".."); link(t, "pkg-1.0/a/b", "..")
                file(t, "pkg-1.0/a/b/x.txt")
            elif variant == "inside":
                file(t, "pkg-1.0/LICENSE"); link(t, "pkg-1.0/docs/LICENSE", "../LICENSE")
                link(t, "pkg-1.0/include", "src"); file(t, "pkg-1.0/src/h.h"); file(t, "pkg-1.0/include/i.h")
                link(t, "pkg-1.0/COPYING", "pkg-1.0/LICENSE", tarfile.LNKTYPE)
        """#
}
