public import AirlockCore

/// An SPDX licence expression (`MIT OR Apache-2.0`, `GPL-2.0-or-later WITH Classpath-exception-2.0`),
/// read from what packages actually declare: SPDX expressions, common free-text names, trove classifiers.
public indirect enum LicenseExpression: Sendable, Hashable, CustomStringConvertible {
    case license(String)
    case and(LicenseExpression, LicenseExpression)
    case or(LicenseExpression, LicenseExpression)

    /// How an expression fares against allow and deny lists.
    public enum Standing: Sendable, Equatable {
        case allowed
        case denied(String)
        case unknown(String)
    }

    /// Parses an SPDX expression, after mapping a free-text licence to its identifier; nil when unreadable.
    public static func parse(_ text: String) -> LicenseExpression? {
        let trimmed = text.trimmingWhitespace()
        if let known = freeText[trimmed.lowercased()] { return .license(known) }
        var tokens: [String] = []
        var current = ""
        for ch in trimmed {
            if ch == "(" || ch == ")" || ch.isWhitespace {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                if !ch.isWhitespace { tokens.append(String(ch)) }
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        var position = 0
        guard let expression = parseOr(tokens, &position), position == tokens.count else { return nil }
        return expression
    }

    private static func parseOr(_ t: [String], _ i: inout Int) -> LicenseExpression? {
        guard var lhs = parseAnd(t, &i) else { return nil }
        while i < t.count, t[i].uppercased() == "OR" {
            i += 1
            guard let rhs = parseAnd(t, &i) else { return nil }
            lhs = .or(lhs, rhs)
        }
        return lhs
    }

    private static func parseAnd(_ t: [String], _ i: inout Int) -> LicenseExpression? {
        guard var lhs = parseAtom(t, &i) else { return nil }
        while i < t.count, t[i].uppercased() == "AND" {
            i += 1
            guard let rhs = parseAtom(t, &i) else { return nil }
            lhs = .and(lhs, rhs)
        }
        return lhs
    }

    private static func parseAtom(_ t: [String], _ i: inout Int) -> LicenseExpression? {
        guard i < t.count else { return nil }
        if t[i] == "(" {
            i += 1
            guard let inner = parseOr(t, &i), i < t.count, t[i] == ")" else { return nil }
            i += 1
            return inner
        }
        let id = t[i]
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || "-.+:".contains($0) }), !["AND", "OR", "WITH"].contains(id.uppercased()) else {
            return nil
        }
        i += 1
        // An exception narrows the licence; the licence itself is what the lists judge.
        if i + 1 < t.count, t[i].uppercased() == "WITH" { i += 2 }
        return .license(id)
    }

    /// Allowed when some way of satisfying the expression uses only allowed licences; denied when
    /// every way needs a denied one; unknown otherwise. `judge` decides one identifier.
    public func standing(_ judge: (String) -> Standing) -> Standing {
        switch self {
        case .license(let id):
            return judge(id)
        case .or(let a, let b):
            let x = a.standing(judge)
            let y = b.standing(judge)
            if x == .allowed || y == .allowed { return .allowed }
            if case .unknown = x { return x }
            if case .unknown = y { return y }
            return x
        case .and(let a, let b):
            let x = a.standing(judge)
            let y = b.standing(judge)
            if case .denied = x { return x }
            if case .denied = y { return y }
            if case .unknown = x { return x }
            return y
        }
    }

    public var description: String {
        switch self {
        case .license(let id): return id
        case .and(let a, let b): return "(\(a) AND \(b))"
        case .or(let a, let b): return "(\(a) OR \(b))"
        }
    }

    /// The licence a release declares, best source first: `License-Expression` (PEP 639), a short
    /// `License` field, then `License ::` classifiers.
    public static func declared(expression: String?, license: String?, classifiers: [String]) -> LicenseExpression? {
        if let expression, let e = parse(expression) { return e }
        if let license, license.count <= 100, !license.contains("\n"), let e = parse(license) { return e }
        let fromClassifiers = classifiers.compactMap { c -> String? in
            guard c.hasPrefix("License ::") else { return nil }
            return classifierNames[String(c.split(separator: ":").last ?? "").trimmingWhitespace()]
        }
        guard let first = fromClassifiers.first else { return nil }
        return fromClassifiers.dropFirst().reduce(LicenseExpression.license(first)) { .or($0, .license($1)) }
    }

    /// The licence of an R package's `License` field: alternatives joined by `|`, each a short name
    /// from R's license database (`GPL-2`, `GPL (>= 2)`, `MIT + file LICENSE`, `Apache License (== 2.0)`),
    /// possibly restricted by `+ file LICENSE`. nil when some alternative cannot be read.
    public static func declared(rLicense field: String) -> LicenseExpression? {
        let alternatives = field.split(separator: "|").map { alternative -> LicenseExpression? in
            var name = alternative.trimmingWhitespace()
            for suffix in ["+ file LICENSE", "+ file LICENCE"] where name.hasSuffix(suffix) {
                name = String(name.dropLast(suffix.count)).trimmingWhitespace()
            }
            let key = String(name.lowercased().map { $0 == "_" ? "-" : $0 })
            if let known = rNames[key] ?? freeText[key] { return .license(known) }
            // `file LICENSE` as one alternative among others: terms only a person can read (category unknown),
            // so `Apache License (== 2.0) | file LICENSE` is still served under Apache-2.0.
            if key == "file license" || key == "file licence" { return field.contains("|") ? .license("LicenseRef-file-LICENSE") : nil }
            return parse(name)
        }
        guard let first = alternatives.first, !alternatives.contains(where: { $0 == nil }) else { return nil }
        return alternatives.dropFirst().reduce(first!) { .or($0, $1!) }
    }

    /// R's short licence names (share/licenses/license.db) that differ from SPDX.
    static let rNames: [String: String] = [
        "gpl-2": "GPL-2.0-only", "gpl-3": "GPL-3.0-only", "gpl (>= 2)": "GPL-2.0-or-later", "gpl (>= 2.0)": "GPL-2.0-or-later",
        "gpl (>= 3)": "GPL-3.0-or-later", "gpl": "GPL-2.0-or-later", "lgpl-2": "LGPL-2.0-only", "lgpl-2.1": "LGPL-2.1-only",
        "lgpl-3": "LGPL-3.0-only", "lgpl (>= 2)": "LGPL-2.0-or-later", "lgpl (>= 2.1)": "LGPL-2.1-or-later", "lgpl (>= 3)": "LGPL-3.0-or-later",
        "agpl-3": "AGPL-3.0-only", "agpl (>= 3)": "AGPL-3.0-or-later", "mit": "MIT", "bsd-2-clause": "BSD-2-Clause",
        "bsd-3-clause": "BSD-3-Clause", "apache license 2.0": "Apache-2.0", "apache license (== 2.0)": "Apache-2.0",
        "apache license (>= 2)": "Apache-2.0", "apache license": "Apache-2.0", "artistic-2.0": "Artistic-2.0", "cc0": "CC0-1.0",
        "cc by 4.0": "CC-BY-4.0", "cc by-nc 4.0": "CC-BY-NC-4.0", "mpl-2.0": "MPL-2.0", "bsl-1.0": "BSL-1.0",
    ]

    /// Free-text licence names seen in the wild, mapped to SPDX.
    static let freeText: [String: String] = [
        "mit": "MIT", "mit license": "MIT", "the mit license": "MIT", "mit + file license": "MIT", "expat": "MIT",
        "apache 2.0": "Apache-2.0", "apache-2": "Apache-2.0", "apache 2": "Apache-2.0", "apache license 2.0": "Apache-2.0",
        "apache license, version 2.0": "Apache-2.0", "apache software license": "Apache-2.0", "asl 2.0": "Apache-2.0",
        "bsd": "BSD-3-Clause", "bsd license": "BSD-3-Clause", "new bsd": "BSD-3-Clause", "3-clause bsd": "BSD-3-Clause",
        "bsd-3": "BSD-3-Clause", "bsd 3-clause": "BSD-3-Clause", "simplified bsd": "BSD-2-Clause", "bsd-2": "BSD-2-Clause",
        "isc": "ISC", "isc license": "ISC", "psf": "PSF-2.0", "psfl": "PSF-2.0", "python software foundation license": "PSF-2.0",
        "mpl 2.0": "MPL-2.0", "mpl-2": "MPL-2.0", "gplv2": "GPL-2.0-only", "gpl-2": "GPL-2.0-only", "gplv3": "GPL-3.0-only",
        "gpl-3": "GPL-3.0-only", "gpl (>= 2)": "GPL-2.0-or-later", "gpl (>= 3)": "GPL-3.0-or-later", "lgpl-2.1": "LGPL-2.1-only",
        "lgplv3": "LGPL-3.0-only", "agpl-3": "AGPL-3.0-only", "agplv3": "AGPL-3.0-only", "unlicense": "Unlicense", "cc0": "CC0-1.0",
        "apache": "Apache-2.0", "apache license": "Apache-2.0", "apache software license 2.0": "Apache-2.0",
        "apache license version 2.0": "Apache-2.0",
        "apache-2.0 license": "Apache-2.0", "bsd-3-clause license": "BSD-3-Clause", "bsd 3-clause license": "BSD-3-Clause",
        "modified bsd license": "BSD-3-Clause", "bsd-2-clause license": "BSD-2-Clause", "mit-license": "MIT", "mit/x11": "MIT",
        "psf license": "PSF-2.0", "psf-2.0": "PSF-2.0", "python software foundation": "PSF-2.0", "lgpl": "LGPL-2.1-or-later",
        "lgplv2": "LGPL-2.1-only", "lgplv2+": "LGPL-2.1-or-later", "lgplv3+": "LGPL-3.0-or-later", "gpl": "GPL-2.0-or-later",
        "gplv2+": "GPL-2.0-or-later",
        "gplv3+": "GPL-3.0-or-later", "gnu gpl": "GPL-2.0-or-later", "gnu lgpl": "LGPL-2.1-or-later", "mpl": "MPL-2.0", "mpl-2.0 license": "MPL-2.0",
        "public domain": "Unlicense", "zlib": "Zlib", "zlib/libpng": "Zlib", "hpnd": "HPND", "boost": "BSL-1.0", "zpl 2.1": "ZPL-2.1",
        "eclipse public license 2.0": "EPL-2.0", "epl-2.0": "EPL-2.0",
    ]

    static let classifierNames: [String: String] = [
        "MIT License": "MIT", "Apache Software License": "Apache-2.0", "BSD License": "BSD-3-Clause", "ISC License (ISCL)": "ISC",
        "Python Software Foundation License": "PSF-2.0", "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
        "GNU General Public License v2 (GPLv2)": "GPL-2.0-only", "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
        "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later", "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
        "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
        "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
        "GNU Affero General Public License v3": "AGPL-3.0-only", "The Unlicense (Unlicense)": "Unlicense",
        "GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later", "GNU General Public License (GPL)": "GPL-2.0-or-later",
        "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only", "GNU Library or Lesser General Public License (LGPL)": "LGPL-2.1-or-later",
        "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later", "Public Domain": "Unlicense",
        "Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0", "Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
        "Academic Free License (AFL)": "AFL-3.0",
        "Zope Public License": "ZPL-2.1", "Historical Permission Notice and Disclaimer (HPND)": "HPND",
        "Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
        "zlib/libpng License": "Zlib", "Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1", "European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
        "MIT No Attribution License (MIT-0)": "MIT-0", "Artistic License": "Artistic-2.0", "ISC License": "ISC",
        "Python Software Foundation License (PSF-2.0)": "PSF-2.0", "Universal Permissive License (UPL)": "UPL-1.0",
    ]
}
