import Foundation

/// A request body as it crosses the wire: gzip when its `Content-Encoding` says so (inflated
/// up to a limit, so a small body cannot expand into gigabytes), then JSON.
public enum WireBody {
    /// Why a body was not accepted; the hub answers 413 for `tooLarge` and 400 for the rest.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The body expands to more than the limit.
        case tooLarge(String)
        /// Not gzip when it says so, not JSON, or not the message expected.
        case malformed(String)

        public var description: String {
            switch self {
            case .tooLarge(let why), .malformed(let why): return why
            }
        }
    }

    /// Decodes `Message` from `bytes` as sent, with the request's `Content-Encoding`.
    public static func decode<Message: Decodable>(
        _ type: Message.Type, from bytes: [UInt8], contentEncoding: String?, maxExpandedBytes: Int
    ) throws(Failure) -> Message {
        var bytes = bytes
        if contentEncoding?.lowercased() == "gzip" {
            do {
                bytes = try Gzip.decompress(bytes, limit: maxExpandedBytes)
            } catch let failure as Gzip.Failure {
                if case .tooLarge = failure { throw .tooLarge("the request body \(failure): send smaller batches") }
                throw .malformed("the request body \(failure)")
            } catch {
                throw .malformed("the request body could not be inflated: \(error)")
            }
        }
        // A push, the body the hub reads most: read straight from the bytes (`JSONReader`).
        if let wire = Message.self as? any WireJSONDecodable.Type {
            do throws(JSONReader.Malformed) {
                return try wire.init(wireJSON: bytes) as! Message
            } catch {
                throw .malformed("the request body is not a valid \(Message.self): \(error)")
            }
        }
        do {
            return try JSONDecoder().decode(Message.self, from: Data(bytes))
        } catch {
            throw .malformed("the request body is not a valid \(Message.self): \(error)")
        }
    }
}
