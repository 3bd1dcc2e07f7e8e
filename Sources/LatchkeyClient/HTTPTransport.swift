import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What carries the client's requests, in URLSession's own terms: `URLSessionTransport`, the default on Apple
/// platforms, or `AsyncHTTPClientTransport`, the default elsewhere. Bring your own to add tracing or a proxy.
///
/// ```swift
/// let client = LatchkeyClient(serverURL: server, transport: URLSessionTransport(session: mySession))
/// ```
public protocol HTTPTransport: Sendable {
    /// Sends `request` and collects the whole answer; an HTTP error status is an answer, not a thrown error.
    func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse)
}

extension HTTPTransport where Self == URLSessionTransport {
    /// URLSession with no cookies and no cache.
    public static var urlSession: URLSessionTransport { URLSessionTransport() }
}

extension HTTPTransport where Self == AsyncHTTPClientTransport {
    /// AsyncHTTPClient's shared client.
    public static var asyncHTTPClient: AsyncHTTPClientTransport { AsyncHTTPClientTransport() }
}

/// The platform's own HTTP stack. On Linux it is swift-corelibs-foundation's, which needs libcurl at run time.
///
/// ```swift
/// let client = LatchkeyClient(serverURL: server, transport: .urlSession)
/// ```
public struct URLSessionTransport: HTTPTransport {
    public let session: URLSession

    /// A session of its own keeps no cookies and no cache: the tokens travel in bodies and the `Authorization` header
    /// (the server's cookie mode is for browsers), and no answer carrying them is written to disk.
    public init(session: URLSession = URLSessionTransport.privateSession) {
        self.session = session
    }

    public static let privateSession: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        return URLSession(configuration: configuration)
    }()

    public func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        let (data, response) = try await session.data(for: request)
        guard let response = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        return (data, response)
    }
}

/// SwiftNIO's HTTP client, for servers and command-line tools.
///
/// ```swift
/// let client = LatchkeyClient(serverURL: server, transport: AsyncHTTPClientTransport(client: myHTTPClient))
/// ```
public struct AsyncHTTPClientTransport: HTTPTransport {
    public let client: HTTPClient
    /// Answers longer than this are refused, so a wrong URL cannot fill the memory.
    public let maxBodySize: Int

    public init(client: HTTPClient = .shared, maxBodySize: Int = 16 << 20) {
        self.client = client
        self.maxBodySize = maxBodySize
    }

    public func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        guard let url = request.url else { throw URLError(.badURL) }
        var outgoing = HTTPClientRequest(url: url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.httpMethod ?? "GET")
        for (name, value) in request.allHTTPHeaderFields ?? [:] { outgoing.headers.add(name: name, value: value) }
        if let body = request.httpBody { outgoing.body = .bytes(ByteBuffer(data: body)) }
        // URLRequest's timeout is an idle one; here it bounds the whole exchange, which is stricter.
        let response = try await client.execute(outgoing, timeout: .milliseconds(Int64(request.timeoutInterval * 1000)))
        let body = try await response.body.collect(upTo: maxBodySize)
        // HTTPURLResponse holds one value per field: repeated fields are joined, as RFC 9110 §5.3 allows.
        let fields = Dictionary(response.headers.map { ($0.name, $0.value) }) { "\($0), \($1)" }
        guard let answer = HTTPURLResponse(url: url, statusCode: Int(response.status.code), httpVersion: "HTTP/1.1", headerFields: fields) else {
            throw URLError(.badServerResponse)
        }
        return (Data(buffer: body), answer)
    }
}
