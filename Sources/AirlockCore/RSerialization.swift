/// An R value, as far as the repository index files R's tools read need one: character, integer,
/// logical and double vectors, lists, and attributes (names, class, dim, row.names …).
public indirect enum RValue: Sendable {
    case null
    /// A character vector; nil is `NA_character_`.
    case strings([String?])
    /// An integer vector; nil is `NA_integer_`.
    case integers([Int32?])
    case logicals([Bool])
    case doubles([Double])
    /// A generic vector (`list`).
    case list([RValue])
    /// A value with attributes, in order.
    case attributed(RValue, [(name: String, value: RValue)])

    /// A `data.frame` with these columns (equal lengths) and character row names.
    public static func dataFrame(_ columns: [(name: String, value: RValue)], rowNames: [String]) -> RValue {
        .attributed(
            .list(columns.map(\.value)),
            [("names", .strings(columns.map(\.name))), ("class", .strings(["data.frame"])), ("row.names", .strings(rowNames))])
    }

    /// A named list.
    public static func namedList(_ items: [(name: String, value: RValue)]) -> RValue {
        .attributed(.list(items.map(\.value)), [("names", .strings(items.map(\.name)))])
    }

    /// A character matrix, rows of equal length, with column names and no row names.
    public static func characterMatrix(_ rows: [[String?]], columns: [String]) -> RValue {
        var cells: [String?] = []
        cells.reserveCapacity(rows.count * columns.count)
        for c in columns.indices { for row in rows { cells.append(row[c]) } }  // column-major, as R stores it
        return .attributed(
            .strings(cells),
            [("dim", .integers([Int32(rows.count), Int32(columns.count)])), ("dimnames", .list([.null, .strings(columns.map { $0 })]))])
    }

    /// Seconds since 1970 as `POSIXct` (UTC).
    public static func posixct(_ seconds: [Double]) -> RValue {
        .attributed(.doubles(seconds), [("class", .strings(["POSIXct", "POSIXt"])), ("tzone", .strings(["UTC"]))])
    }
}

/// Writes R's serialization format (`saveRDS`, XDR, format version 2, which every R since 1.4 reads):
/// what `readRDS` returns is the `RValue` written. No R runs; the format is R Internals §1.8.
public enum RSerialization {
    private enum SEXPType: UInt32 {
        case symbol = 1, pairList = 2, char = 9, logical = 10, integer = 13, real = 14, string = 16, vector = 19
        case nilValue = 254
    }

    /// The serialized bytes, uncompressed (`readRDS` also reads them gzipped: see `Gzip.compress`).
    public static func serialize(_ value: RValue) -> [UInt8] {
        var out: [UInt8] = Array("X\n".utf8)
        int(2, &out)  // format version
        int(0x0004_0401, &out)  // written as by R 4.4.1
        int(0x0002_0300, &out)  // readable from R 2.3.0 on
        write(value, &out)
        return out
    }

    private static func write(_ value: RValue, _ out: inout [UInt8]) {
        var attributes: [(name: String, value: RValue)] = []
        var bare = value
        if case .attributed(let inner, let attrs) = value {
            bare = inner
            attributes = attrs
        }
        let object = attributes.contains { $0.name == "class" }
        func header(_ type: SEXPType) {
            var flags = type.rawValue
            if object { flags |= 1 << 8 }
            if !attributes.isEmpty { flags |= 1 << 9 }
            int(flags, &out)
        }
        switch bare {
        case .null:
            int(SEXPType.nilValue.rawValue, &out)
            return  // NULL carries no attributes
        case .strings(let items):
            header(.string)
            int(UInt32(items.count), &out)
            for item in items { charsxp(item, &out) }
        case .integers(let items):
            header(.integer)
            int(UInt32(items.count), &out)
            for item in items { int(item.map { UInt32(bitPattern: $0) } ?? 0x8000_0000, &out) }
        case .logicals(let items):
            header(.logical)
            int(UInt32(items.count), &out)
            for item in items { int(item ? 1 : 0, &out) }
        case .doubles(let items):
            header(.real)
            int(UInt32(items.count), &out)
            for item in items {
                let bits = item.bitPattern
                for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
            }
        case .list(let items):
            header(.vector)
            int(UInt32(items.count), &out)
            for item in items { write(item, &out) }
        case .attributed:
            preconditionFailure("attributes nest in one level")
        }
        // The attributes: a pairlist of (tag, value) cells, ended by NULL.
        for (name, attribute) in attributes {
            int(SEXPType.pairList.rawValue | 1 << 10, &out)  // with a tag
            int(SEXPType.symbol.rawValue, &out)
            charsxp(name, &out)
            write(attribute, &out)
        }
        if !attributes.isEmpty { int(SEXPType.nilValue.rawValue, &out) }
    }

    /// One string (a CHARSXP): NA as length -1; marked ASCII or UTF-8 so R never re-encodes it.
    private static func charsxp(_ text: String?, _ out: inout [UInt8]) {
        guard let text else {
            int(SEXPType.char.rawValue, &out)
            int(UInt32(bitPattern: -1), &out)
            return
        }
        let bytes = Array(text.utf8)
        let encoding: UInt32 = bytes.allSatisfy { $0 < 0x80 } ? 64 : 8  // ASCII_MASK or UTF8_MASK, in the levels field
        int(SEXPType.char.rawValue | encoding << 12, &out)
        int(UInt32(bytes.count), &out)
        out += bytes
    }

    private static func int(_ v: UInt32, _ out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }
}
