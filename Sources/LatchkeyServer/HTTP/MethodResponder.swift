import HTTPTypes
import Hummingbird

/// The methods routes are registered for (HEAD by the router itself, for every GET route); any other method
/// becomes `TRACE`, which every known path answers with 405.
private let routedMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace]

/// Answers every method the router has no routes for as RFC 9110 asks: a known path with 405 and `Allow` (see
/// `answerMethodNotAllowed`), an unknown one with 404. Hummingbird's router matches known method names only.
struct MethodResponder<Inner: HTTPResponder>: HTTPResponder {
    let inner: Inner

    func respond(to request: Request, context: Inner.Context) async throws -> Response {
        guard !routedMethods.contains(request.method) else { return try await inner.respond(to: request, context: context) }
        var head = request.head
        head.method = .trace
        return try await inner.respond(to: Request(head: head, body: request.body), context: context)
    }
}

extension Router {
    /// Hummingbird answers a known path with an unknown method as 404; the contract wants 405 and `Allow`.
    /// HEAD of a GET route is left to the router (`autoGenerateHeadEndpoints`).
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
