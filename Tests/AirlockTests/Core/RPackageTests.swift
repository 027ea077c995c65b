import AirlockCore
import AirlockPolicy
import Testing

@Suite struct DCFTests {
    @Test func recordsFieldsAndContinuationLines() throws {
        let text = "Package: a\nVersion: 1.0\nDepends: R (>= 3.5),\n    b (>= 1.2),\n\tc\n\n\nPackage: b\r\nVersion: 1.2-3\r\n"
        let records = try DCF.parse(Array(text.utf8), source: "PACKAGES")
        #expect(records.count == 2)
        #expect(records[0]["Depends"] == "R (>= 3.5),\nb (>= 1.2),\nc")
        #expect(records[1]["Version"] == "1.2-3" && records[1].line == 8)
        #expect(records[0].text.hasPrefix("Package: a\nVersion: 1.0\nDepends: R (>= 3.5),\n    b (>= 1.2),\n    c\n"))
    }

    @Test func latin1LinesAreReadAsLatin1() throws {
        let bytes: [UInt8] = Array("Package: a\nAuthor: Fran".utf8) + [0xE7] + Array("ois\nEncoding: latin1\n".utf8)
        #expect(try DCF.parse(bytes, source: "DESCRIPTION")[0]["Author"] == "François")
    }

    @Test func malformedLinesNameTheFileAndLine() {
        for (text, expected) in [
            ("Package: a\nthis is not a field\n", "PACKAGES:2: expected 'Field: value'"),
            ("  orphan continuation\n", "PACKAGES:1: continuation line"),
            ("Package: a\nPackage: b\n", "PACKAGES:2: field 'Package' appears twice"),
        ] {
            #expect {
                try DCF.parse(Array(text.utf8), source: "PACKAGES")
            } throws: { ($0 as? AirlockError)?.message.contains(expected) == true }
        }
    }
}

@Suite struct RVersionTests {
    @Test func comparesComponentsNumerically() {
        let v = { (s: String) in RVersion(s)! }
        #expect(v("1.10") > v("1.9"))
        #expect(v("1.2-3") == v("1.2.3"))
        #expect(v("1.0") < v("1.0.1"))
        #expect(v("0.10.1") > v("0.9.99"))
        #expect(RVersion("1.0a") == nil && RVersion("") == nil && RVersion("1..2") == nil)
    }

    @Test func dependencyFieldsParseWithConstraints() throws {
        let deps = try RDependency.parseField("R (>= 3.5.0), methods,\nRcpp (>= 1.0.7), data.table(>=1.14), cli (!= 3.0)", source: "DESCRIPTION")
        #expect(deps.map(\.description) == ["R (>= 3.5.0)", "methods", "Rcpp (>= 1.0.7)", "data.table (>= 1.14)", "cli (!= 3.0)"])
        #expect(deps[2].accepts(RVersion("1.0.12")!) && !deps[2].accepts(RVersion("1.0.6")!))
        #expect(!deps[4].accepts(RVersion("3.0")!) && deps[4].accepts(RVersion("3.1")!))
        #expect(RDependency.shippedWithR.contains("methods") && RDependency.shippedWithR.contains("MASS"))
        #expect {
            try RDependency.parseField("Rcpp (>= one)", source: "x.tar.gz Imports")
        } throws: { ($0 as? AirlockError)?.message.contains("x.tar.gz Imports: cannot read the version constraint") == true }
        #expect {
            try RDependency.parseField("not a name!", source: "PACKAGES")
        } throws: { ($0 as? AirlockError)?.message.contains("'not a name!' is not a package name") == true }
    }

    @Test func rLicenceFieldsMapToSPDX() {
        let spdx = { (s: String) in LicenseExpression.declared(rLicense: s)?.description }
        #expect(spdx("GPL-2 | GPL-3") == "(GPL-2.0-only OR GPL-3.0-only)")
        #expect(spdx("MIT + file LICENSE") == "MIT")
        #expect(spdx("GPL (>= 2)") == "GPL-2.0-or-later")
        #expect(spdx("Apache License (== 2.0)") == "Apache-2.0")
        #expect(spdx("BSD_3_clause + file LICENSE") == "BSD-3-Clause")
        #expect(spdx("file LICENSE") == nil, "a licence only in a file cannot be judged")
    }

    @Test func gzipRoundTripsAndRejectsGarbage() throws {
        let text = Array(String(repeating: "Package: a\nVersion: 1.0\n\n", count: 1000).utf8)
        let packed = Gzip.compress(text)
        #expect(packed.count < text.count / 10 && packed.prefix(2) == [0x1f, 0x8b])
        #expect(try Gzip.decompress(packed, source: "PACKAGES.gz") == text)
        #expect {
            try Gzip.decompress(Array(packed.prefix(packed.count / 2)), source: "PACKAGES.gz")
        } throws: { ($0 as? AirlockError)?.message.contains("PACKAGES.gz: not valid gzip data") == true }
    }
}
