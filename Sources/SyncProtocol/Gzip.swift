import CGzip

/// gzip bodies over zlib: every request and response body of the sync API is compressed.
public enum Gzip {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case corrupt(String)
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case .corrupt(let detail): return "the body is not valid gzip (\(detail))"
            case .tooLarge(let limit): return "the body expands to more than \(limit) bytes"
            }
        }
    }

    /// Level 5 by measurement: on a 5,000-change push body (196 KB of JSON) zlib's level 5
    /// gives the bytes of level 6 (4.8 per change) in 60 % of its time; 4 costs 9 % more bytes,
    /// 1 a third more, which a commune's slow link pays for longer than the CPU saves.
    public static func compress(_ input: [UInt8], level: Int32 = 5) -> [UInt8] {
        var stream = z_stream()
        guard communesync_deflate_init_gzip(&stream, level) == Z_OK else { preconditionFailure("zlib: deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let produced = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "zlib: deflate with a bound-sized buffer did not finish")
                return target.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Decompresses, refusing to produce more than `limit` bytes (a small body must not be
    /// allowed to expand into gigabytes).
    public static func decompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard communesync_inflate_init_gzip(&stream) == Z_OK else { throw Failure.corrupt("inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, target.count - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk[..<produced])
                if output.count > limit { throw Failure.tooLarge(limit: limit) }
                switch status {
                case Z_STREAM_END:
                    return
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 { throw Failure.corrupt("truncated") }
                case Z_BUF_ERROR:
                    throw Failure.corrupt("truncated")
                default:
                    throw Failure.corrupt(stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")
                }
            }
        }
        return output
    }
}
