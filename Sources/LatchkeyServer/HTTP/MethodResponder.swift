import HTTPTypes
import Hummingbird

/// Answers the methods the router has no routes for as RFC 9110 asks: `HEAD` as the `GET` of the same path
/// without its body, and every other method on a known path with 405 and `Allow` (see `answerMethodNotAllowed`).
/// The methods routes are registered for; any other becomes `TRACE`, which every known path answers with 405.
private let routedMethods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .options, .trace]

struct MethodResponder<Inner: HTTPResponder>: HTTPResponder {
    let inner: Inner

    func respond(to request: Request, context: Inner.Context) async throws -> Response {
        switch request.method {
        case .head:
            var response = try await inner.respond(to: request.withMethod(.get), context: context)
            // The GET's headers, Content-Length included, and no body bytes.
            response.body = ResponseBody(contentLength: response.body.contentLength) { writer in try await writer.finish(nil) }
            return response
        case let method where routedMethods.contains(method):
            return try await inner.respond(to: request, context: context)
        default:
            return try await inner.respond(to: request.withMethod(.trace), context: context)
        }
    }
}

extension Request {
    fileprivate func withMethod(_ method: HTTPRequest.Method) -> Request {
        var head = head
        head.method = method
        return Request(head: head, body: body)
    }
}

extension Router {
    /// Hummingbird answers a known path with an unknown method as 404; the contract wants 405 and `Allow`.
    func answerMethodNotAllowed() {
        let byPath = Dictionary(grouping: routes, by: { $0.path.description })
        for (_, routes) in byPath {
            var allowed = Set(routes.map(\.method))
            if allowed.contains(.get) { allowed.insert(.head) }
            let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            for method in routedMethods where !allowed.contains(method) {
                on(routes[0].path, method: method) { _, _ -> Response in throw MethodNotAllowed(allowed: allow) }
            }
        }
    }
}
