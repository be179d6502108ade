import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Arbitrary requests to the hub, for tests that send what no well-behaved client would.
public enum RawHTTP {
    public struct Reply: Sendable {
        public let status: Int
        public let body: String
    }

    private final class Box: @unchecked Sendable {
        // @unchecked: written once by the completion handler before the semaphore is signalled.
        var reply: Reply?
    }

    public static func send(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil) throws -> Reply {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, _ in
            if let response = response as? HTTPURLResponse {
                box.reply = Reply(status: response.statusCode, body: String(decoding: data ?? Data(), as: UTF8.self))
            }
            done.signal()
        }.resume()
        done.wait()
        guard let reply = box.reply else { throw ClusterError("\(method) \(url): no answer") }
        return reply
    }
}
