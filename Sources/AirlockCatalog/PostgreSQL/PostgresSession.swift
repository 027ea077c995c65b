import AirlockCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A value bound to a `$n` parameter; nil binds a typed NULL.
protocol PostgresArgument: Sendable {
    func bind(to bindings: inout PostgresBindings) throws
}

extension String: PostgresArgument {
    /// PostgreSQL text holds no NUL character (SQLite's does): such a value is refused as bad input, naming it.
    func bind(to bindings: inout PostgresBindings) throws {
        guard !utf8.contains(0) else {
            throw AirlockError(
                .invalidArgument, "'\(replacingOccurrences(of: "\0", with: "\\0").prefix(80))' holds a NUL character, which no catalog field holds")
        }
        bindings.append(self)
    }
}
extension Int64: PostgresArgument {
    func bind(to bindings: inout PostgresBindings) { bindings.append(self) }
}
extension Int: PostgresArgument {
    func bind(to bindings: inout PostgresBindings) { bindings.append(Int64(self)) }
}
extension Double: PostgresArgument {
    func bind(to bindings: inout PostgresBindings) { bindings.append(self) }
}
extension Bool: PostgresArgument {
    func bind(to bindings: inout PostgresBindings) { bindings.append(self) }
}
extension Array: PostgresArgument where Element == UInt8 {
    func bind(to bindings: inout PostgresBindings) { bindings.append(ByteBuffer(bytes: self)) }
}
extension Optional: PostgresArgument where Wrapped: PostgresArgument {
    /// NULL takes its type from where it is used (a column, a comparison).
    func bind(to bindings: inout PostgresBindings) throws {
        switch self {
        case .some(let value): try value.bind(to: &bindings)
        case .none: bindings.appendNull()
        }
    }
}

/// One connection's statements, in or out of a transaction: `$1`-style SQL with positional arguments,
/// rows read by column name.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger
    /// Where the catalog lives (the URL without its password), for error messages.
    let location: String

    func query(_ sql: String, _ arguments: [any PostgresArgument] = []) async throws -> [PostgresRandomAccessRow] {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments { try argument.bind(to: &bindings) }
        do {
            var rows: [PostgresRandomAccessRow] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) {
                rows.append(row.makeRandomAccess())
            }
            return rows
        } catch let error as PSQLError {
            throw AirlockError(
                .catalog,
                "catalog statement failed in \(location): \(error.serverInfo?[.message] ?? String(reflecting: error.code)) — \(sql.prefix(160))",
                underlying: error)
        }
    }

    /// Runs a statement; how many rows it returned (with `RETURNING`, the rows it changed).
    @discardableResult
    func execute(_ sql: String, _ arguments: [any PostgresArgument] = []) async throws -> Int {
        try await query(sql, arguments).count
    }

    /// Rows decoded as `T` (a `Decodable` row type, columns by snake_case name).
    func fetch<T: Decodable>(_ type: T.Type, _ sql: String, _ arguments: [any PostgresArgument] = []) async throws -> [T] {
        try await query(sql, arguments).map { try T(from: PostgresRowDecoder(row: $0)) }
    }

    func fetchOne<T: Decodable>(_ type: T.Type, _ sql: String, _ arguments: [any PostgresArgument] = []) async throws -> T? {
        try await fetch(type, sql, arguments).first
    }

    /// The first column of every row.
    func column<T: PostgresDecodable>(_ type: T.Type, _ sql: String, _ arguments: [any PostgresArgument] = []) async throws -> [T] {
        try await query(sql, arguments).map { try $0[0].decode(T.self) }
    }

    /// The first column of the first row, if any row (and the value may itself be NULL: `T` optional).
    func value<T: PostgresDecodable>(_ type: T.Type, _ sql: String, _ arguments: [any PostgresArgument] = []) async throws -> T? {
        try await query(sql, arguments).first.map { try $0[0].decode(T.self) }
    }
}

extension PostgresRandomAccessRow {
    /// A column by name, decoded strictly: a missing column or a value of another type is an error.
    func get<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard contains(column) else { throw AirlockError(.catalog, "catalog row has no column \(column)") }
        return try self[column].decode(T.self)
    }
}

/// Decodes a row type (`DistributionRow`, `SnapshotRow`, …) from a PostgreSQL row, its properties
/// named in camelCase and its columns in snake_case, as GRDB does for SQLite.
struct PostgresRowDecoder: Decoder {
    let row: PostgresRandomAccessRow
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Columns<Key>(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "a catalog row is read by column name"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "a catalog row is read by column name"))
    }

    static func column(_ key: any CodingKey) -> String {
        var out = ""
        for c in key.stringValue {
            if c.isUppercase {
                out.append("_")
                out.append(contentsOf: c.lowercased())
            } else {
                out.append(c)
            }
        }
        return out
    }

    struct Columns<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: PostgresRandomAccessRow
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }

        func contains(_ key: Key) -> Bool { row.contains(PostgresRowDecoder.column(key)) }

        private func cell(_ key: Key) throws -> PostgresCell {
            let name = PostgresRowDecoder.column(key)
            guard row.contains(name) else { throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription: "no column \(name)")) }
            return row[name]
        }

        func decodeNil(forKey key: Key) throws -> Bool { try cell(key).bytes == nil }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try cell(key).decode(Bool.self) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try cell(key).decode(String.self) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try cell(key).decode(Double.self) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try cell(key).decode(Int.self) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try cell(key).decode(Int64.self) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            // Enums stored as text (`Ecosystem`, `Verdict`, `Role`, …) decode from their raw value, strictly.
            try T(from: TextDecoder(text: try cell(key).decode(String.self), key: key))
        }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            throw DecodingError.typeMismatch(N.self, .init(codingPath: [key], debugDescription: "catalog columns are flat"))
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "catalog columns are flat"))
        }
        func superDecoder() throws -> any Decoder {
            throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "catalog columns are flat"))
        }
        func superDecoder(forKey key: Key) throws -> any Decoder { try superDecoder() }
    }

    /// One text column as a single value (for `RawRepresentable` enums).
    struct TextDecoder: Decoder, SingleValueDecodingContainer {
        let text: String
        let key: any CodingKey
        var codingPath: [any CodingKey] { [key] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<K: CodingKey>(keyedBy type: K.Type) throws -> KeyedDecodingContainer<K> {
            throw DecodingError.typeMismatch(K.self, .init(codingPath: [key], debugDescription: "column \(key.stringValue) is text"))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "column \(key.stringValue) is text"))
        }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
        func decodeNil() -> Bool { false }
        func decode(_ type: String.Type) throws -> String { text }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            throw DecodingError.typeMismatch(T.self, .init(codingPath: [key], debugDescription: "column \(key.stringValue) is text, not \(T.self)"))
        }
        func decode(_ type: Bool.Type) throws -> Bool { throw mismatch(type) }
        func decode(_ type: Double.Type) throws -> Double { throw mismatch(type) }
        func decode(_ type: Float.Type) throws -> Float { throw mismatch(type) }
        func decode(_ type: Int.Type) throws -> Int { throw mismatch(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { throw mismatch(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { throw mismatch(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { throw mismatch(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { throw mismatch(type) }
        func decode(_ type: UInt.Type) throws -> UInt { throw mismatch(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { throw mismatch(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { throw mismatch(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { throw mismatch(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { throw mismatch(type) }
        private func mismatch(_ type: Any.Type) -> DecodingError {
            .typeMismatch(type, .init(codingPath: [key], debugDescription: "column \(key.stringValue) is text, not \(type)"))
        }
    }
}

extension PostgresSession {
    /// Statements without parameters, one after another (a migration; BEGIN, COMMIT): each ends with
    /// `;` at the end of a line (a `;` inside a line, as in a function body, does not end one).
    func simple(_ sql: String) async throws {
        for statement in sql.split(separator: /;[ \t]*(\n|$)/) where !statement.allSatisfy(\.isWhitespace) {
            try await execute(String(statement))
        }
    }
}

/// An array parameter (`text[]`, `bigint[]`, `boolean[]`), for `unnest` and `= ANY`.
struct PostgresArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable & Sendable>: PostgresArgument {
    let values: [Element]
    init(_ values: [Element]) { self.values = values }
    func bind(to bindings: inout PostgresBindings) { bindings.append(values) }
}
