import CZlib

/// gzip for the small index files repositories publish compressed (CRAN's `PACKAGES.gz`).
public enum Gzip {
    /// Compresses `bytes` into one gzip member.
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        precondition(airlock_deflate_init_gzip(&stream, level) == Z_OK, "zlib deflateInit2 failed")
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
        var input = bytes
        let written: Int = input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END, "zlib deflate did not finish within deflateBound")
                return Int(stream.total_out)
            }
        }
        return Array(out[..<written])
    }

    /// Decompresses gzip (or zlib) data; `source` names it in errors. Refuses output beyond `maxSize`.
    public static func decompress(_ bytes: [UInt8], source: String, maxSize: Int = 256 << 20) throws -> [UInt8] {
        var stream = z_stream()
        guard airlock_inflate_init_auto(&stream) == Z_OK else { throw AirlockError(.malformedIndex, "\(source): zlib could not start") }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var input = bytes
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = uInt(c.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                out += chunk[..<(chunk.count - Int(stream.avail_out))]
                if out.count > maxSize { throw AirlockError(.malformedIndex, "\(source): expands beyond \(maxSize) bytes") }
                if status == Z_STREAM_END { return }
                if status != Z_OK || (stream.avail_in == 0 && stream.avail_out != 0) {
                    throw AirlockError(.malformedIndex, "\(source): not valid gzip data (truncated or corrupt)")
                }
            }
        }
        return out
    }
}
