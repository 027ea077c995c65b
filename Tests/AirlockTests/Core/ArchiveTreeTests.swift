import AirlockCore
import Testing

/// `ArchiveTree` places members as extraction would: the variants an attacker can spell, and the
/// shapes real packages have.
@Suite struct ArchiveTreeTests {
    typealias M = ArchiveTree.Member

    private func places(_ members: [(String, M)], rule: ArchiveTree.LinkRule = .linksInside) -> Bool {
        (try? ArchiveTree.check(members, archive: "t.tar.gz", rule: rule)) != nil
    }

    @Test(arguments: [
        // The reported chain: each link one level up, a file written through all three.
        [("p/a", M.symlink(target: "..")), ("p/a/b", .symlink(target: "..")), ("p/a/b/c", .symlink(target: "..")), ("p/a/b/c/escaped.txt", .file)],
        [("p/l", M.symlink(target: "../..")), ("p/l/x", .file)],
        [("p/l", M.symlink(target: "/etc"))],
        [("p/l", M.symlink(target: "sub/../../.."))],
        [("p/l", M.symlink(target: "./../../x"))],
        // A later link changes where an earlier one leads.
        [("p/x", M.symlink(target: "y/../..")), ("p/y", .symlink(target: ".."))],
        // A link to a link to outside.
        [("p/up", M.symlink(target: "..")), ("p/out", .symlink(target: "up/.."))],
        // Written through a directory link that leaves, with '.' and empty segments.
        [("p/d", M.symlink(target: "..")), ("p/./d//d2", .symlink(target: "..")), ("p/d/d2/f", .file)],
        // A file placed where a link already stands is written through it.
        [("p/up", M.symlink(target: "..")), ("p/up2", .symlink(target: "up/..")), ("p/up2", .file)],
        // Hard links: through links, to outside, to a directory, to nothing.
        [("p/up", M.symlink(target: "..")), ("h", .hardlink(target: "p/up/../etc/passwd"))],
        [("h", M.hardlink(target: "../etc/passwd"))],
        [("p/dir", M.directory), ("h", .hardlink(target: "p/dir"))],
        [("h", M.hardlink(target: "p/missing"))],
        // Names.
        [("../x", M.file)], [("/etc/passwd", M.file)], [("p\\..\\..\\x", M.file)], [("C:/x", M.file)], [("p/dev", M.special)],
        // Loops.
        [("p/a", M.symlink(target: "b")), ("p/b", .symlink(target: "a")), ("p/a/x", .file)],
    ])
    func refuses(_ members: [(String, M)]) {
        #expect(!places(members))
    }

    @Test(arguments: [
        [("p/", M.directory), ("p/LICENSE", .file), ("p/docs/LICENSE", .symlink(target: "../LICENSE"))],
        [("p/src/h.h", M.file), ("p/include", .symlink(target: "src")), ("p/include/i.h", .file)],
        [("p/a", M.symlink(target: "..")), ("p/a/p/x", .file)],  // back into the tree: stays inside
        [("p/LICENSE", M.file), ("p/COPYING", .hardlink(target: "p/LICENSE"))],
        [("./", M.directory), ("./p/x", .file), ("p/dangling", .symlink(target: "nowhere"))],
    ])
    func accepts(_ members: [(String, M)]) {
        #expect(places(members))
    }

    @Test func wheelsAndBundlesHoldNoLinks() {
        #expect(!places([("p/l", .symlink(target: "x")), ("p/x", .file)], rule: .noLinks))
        #expect(!places([("p/x", .file), ("p/h", .hardlink(target: "p/x"))], rule: .noLinks))
        #expect(places([("p/x", .file), ("p/", .directory)], rule: .noLinks))
    }
}
