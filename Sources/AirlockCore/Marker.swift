/// A PEP 508 environment marker (`python_version >= "3.9" and sys_platform == "linux"`), parsed once
/// and evaluated against any number of target environments.
public indirect enum Marker: Hashable, Sendable, CustomStringConvertible {
    public enum Operand: Hashable, Sendable {
        case variable(String)
        case literal(String)
    }

    case compare(Operand, String, Operand)
    case and(Marker, Marker)
    case or(Marker, Marker)

    static let variables: Set<String> = [
        "python_version", "python_full_version", "os_name", "sys_platform", "platform_release",
        "platform_system", "platform_version", "platform_machine", "platform_python_implementation",
        "implementation_name", "implementation_version", "extra",
        // Legacy spellings still seen in old metadata.
        "os.name", "sys.platform", "platform.version", "platform.machine", "platform.python_implementation",
        "python_implementation",
    ]
    static let versionVariables: Set<String> = ["python_version", "python_full_version", "implementation_version"]

    public static func parse(_ text: String) throws -> Marker {
        var p = MarkerParser(text)
        let m = try p.parseOr()
        p.skipSpaces()
        guard p.atEnd else { throw p.error("unexpected text") }
        return m
    }

    /// Evaluates the marker in `environment` (variable → value; `extra` is set by the caller).
    public func evaluate(_ environment: [String: String]) -> Bool {
        switch self {
        case .and(let a, let b): return a.evaluate(environment) && b.evaluate(environment)
        case .or(let a, let b): return a.evaluate(environment) || b.evaluate(environment)
        case .compare(let lhs, let op, let rhs):
            var isExtra = false
            func value(_ o: Operand) -> String {
                switch o {
                case .literal(let s): return s
                case .variable(let name):
                    if name == "extra" { isExtra = true }
                    return environment[Marker.canonical(name)] ?? ""
                }
            }
            var l = value(lhs)
            var r = value(rhs)
            if isExtra {
                l = ProjectName.normalize(l)
                r = ProjectName.normalize(r)
            }
            let versionish = [lhs, rhs].contains {
                if case .variable(let n) = $0 { Marker.versionVariables.contains(Marker.canonical(n)) } else { false }
            }
            if versionish, op != "in", op != "not in", let spec = VersionSpecifier(op + r), let lv = PythonVersion(l) {
                return spec.contains(lv)
            }
            switch op {
            case "==", "===": return l == r
            case "!=": return l != r
            case "<": return l < r
            case "<=": return l <= r
            case ">": return l > r
            case ">=": return l >= r
            case "in": return r.contains(l)
            case "not in": return !r.contains(l)
            case "~=": return false
            default: return false
            }
        }
    }

    static func canonical(_ name: String) -> String {
        switch name {
        case "os.name": "os_name"
        case "sys.platform": "sys_platform"
        case "platform.version": "platform_version"
        case "platform.machine": "platform_machine"
        case "platform.python_implementation", "python_implementation": "platform_python_implementation"
        default: name
        }
    }

    /// True when the marker mentions `extra` anywhere.
    public var mentionsExtra: Bool {
        switch self {
        case .and(let a, let b), .or(let a, let b): return a.mentionsExtra || b.mentionsExtra
        case .compare(let l, _, let r): return l == .variable("extra") || r == .variable("extra")
        }
    }

    public var description: String {
        func show(_ o: Operand) -> String {
            switch o {
            case .variable(let v): return v
            // PEP 508 strings have no escapes: a parsed one holds at most one kind of quote.
            case .literal(let s): return s.contains("\"") ? "'\(s)'" : "\"\(s)\""
            }
        }
        switch self {
        case .compare(let l, let op, let r): return "\(show(l)) \(op) \(show(r))"
        case .and(let a, let b): return "(\(a) and \(b))"
        case .or(let a, let b): return "(\(a) or \(b))"
        }
    }
}

struct MarkerParser {
    let chars: [Character]
    var i = 0
    let text: String

    init(_ text: String) {
        self.text = text
        self.chars = Array(text)
    }

    var atEnd: Bool { i >= chars.count }

    func error(_ what: String) -> AirlockError {
        AirlockError(.invalidArgument, "invalid marker '\(text)': \(what) at column \(i + 1)")
    }

    mutating func skipSpaces() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

    mutating func keyword(_ word: String) -> Bool {
        skipSpaces()
        let w = Array(word)
        guard i + w.count <= chars.count, Array(chars[i..<i + w.count]) == w else { return false }
        let after = i + w.count
        if after < chars.count, chars[after].isLetter || chars[after] == "_" { return false }
        i = after
        return true
    }

    mutating func parseOr() throws -> Marker {
        var lhs = try parseAnd()
        while keyword("or") { lhs = .or(lhs, try parseAnd()) }
        return lhs
    }

    mutating func parseAnd() throws -> Marker {
        var lhs = try parseAtom()
        while keyword("and") { lhs = .and(lhs, try parseAtom()) }
        return lhs
    }

    mutating func parseAtom() throws -> Marker {
        skipSpaces()
        if i < chars.count, chars[i] == "(" {
            i += 1
            let m = try parseOr()
            skipSpaces()
            guard i < chars.count, chars[i] == ")" else { throw error("expected ')'") }
            i += 1
            return m
        }
        let lhs = try operand()
        let op = try parseOperator()
        let rhs = try operand()
        return .compare(lhs, op, rhs)
    }

    mutating func operand() throws -> Marker.Operand {
        skipSpaces()
        guard i < chars.count else { throw error("expected a variable or a quoted string") }
        if chars[i] == "\"" || chars[i] == "'" {
            let quote = chars[i]
            i += 1
            let start = i
            while i < chars.count, chars[i] != quote { i += 1 }
            guard i < chars.count else { throw error("unterminated string") }
            let s = String(chars[start..<i])
            i += 1
            return .literal(s)
        }
        let start = i
        while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." { i += 1 }
        let name = String(chars[start..<i])
        guard Marker.variables.contains(name) else {
            i = start
            throw error("unknown marker variable '\(name)'")
        }
        return .variable(name)
    }

    mutating func parseOperator() throws -> String {
        skipSpaces()
        for op in ["===", "==", "!=", "<=", ">=", "~=", "<", ">"] {
            let o = Array(op)
            if i + o.count <= chars.count, Array(chars[i..<i + o.count]) == o {
                i += o.count
                return op
            }
        }
        if keyword("in") { return "in" }
        if keyword("not") {
            guard keyword("in") else { throw error("expected 'in' after 'not'") }
            return "not in"
        }
        throw error("expected a comparison operator")
    }
}
