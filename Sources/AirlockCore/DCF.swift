/// One record of a Debian Control File, the format of R's `DESCRIPTION` and CRAN's `PACKAGES`:
/// ordered `Field: value` pairs; a value continues on lines that start with white space.
public struct DCFRecord: Sendable, Hashable {
    public private(set) var fields: [(name: String, value: String)]
    /// The line the record starts on, for errors.
    public let line: Int

    public init(fields: [(name: String, value: String)] = [], line: Int = 1) {
        self.fields = fields
        self.line = line
    }

    /// The value of a field (field names are case-sensitive, as in R), or nil.
    public subscript(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    public mutating func set(_ name: String, _ value: String) {
        if let i = fields.firstIndex(where: { $0.name == name }) { fields[i].value = value } else { fields.append((name, value)) }
    }

    /// The record as DCF text, ending with a newline; continuation lines are indented by 4 spaces and
    /// an empty one is written as `.` (DCF's blank line), so a value can never end the record.
    public var text: String {
        var out = ""
        for (name, value) in fields {
            let lines = value.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            out +=
                name + ": "
                + lines.enumerated().map { $0.offset > 0 && $0.element.allSatisfy(\.isWhitespace) ? "." : $0.element }.joined(separator: "\n    ")
                + "\n"
        }
        return out
    }

    public static func == (a: DCFRecord, b: DCFRecord) -> Bool {
        a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
    }

    public func hash(into h: inout Hasher) {
        for (n, v) in fields {
            h.combine(n)
            h.combine(v)
        }
    }
}

/// Reads DCF text: records separated by blank lines. Lines are UTF-8, or Latin-1 where they are not
/// valid UTF-8 (old `DESCRIPTION` files declaring `Encoding: latin1`); the result is always UTF-8.
public enum DCF {
    /// Parses every record; `source` names the file in errors, which give the line number.
    public static func parse(_ bytes: [UInt8], source: String) throws -> [DCFRecord] {
        var records: [DCFRecord] = []
        var current: [(name: String, value: String)] = []
        var start = 1
        func close() {
            if !current.isEmpty { records.append(DCFRecord(fields: current, line: start)) }
            current = []
        }
        var lineNumber = 0
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var slice = raw[...]
            if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
            if slice.contains(UInt8(ascii: "\r")) {
                // R's read.dcf ends a line at a lone CR: a value could start a field, or a record, nobody sees here.
                throw AirlockError(
                    .malformedIndex,
                    "\(source):\(lineNumber): a carriage return inside the line (R reads it as a line break, so it could forge fields); refusing the file"
                )
            }
            let line = String(validating: slice, as: UTF8.self) ?? String(slice.map { Character(Unicode.Scalar($0)) })
            if line.allSatisfy(\.isWhitespace) {
                close()
                continue
            }
            if line.first == " " || line.first == "\t" {
                guard !current.isEmpty else {
                    throw AirlockError(.malformedIndex, "\(source):\(lineNumber): continuation line with no field before it: '\(line.prefix(60))'")
                }
                let piece = line.trimmingWhitespace()
                current[current.count - 1].value += current[current.count - 1].value.isEmpty ? piece : "\n" + piece
                continue
            }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                !line[..<colon].contains(where: { $0.isWhitespace })
            else {
                throw AirlockError(.malformedIndex, "\(source):\(lineNumber): expected 'Field: value', got '\(line.prefix(60))'")
            }
            let name = String(line[..<colon])
            if current.isEmpty { start = lineNumber }
            if current.contains(where: { $0.name == name }) {
                throw AirlockError(.malformedIndex, "\(source):\(lineNumber): field '\(name)' appears twice in the record starting on line \(start)")
            }
            current.append((name, line[line.index(after: colon)...].trimmingWhitespace()))
        }
        close()
        return records
    }
}
