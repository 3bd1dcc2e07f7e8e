import Hummingbird
import LatchkeyCore
import Logging

/// Turns every error, the framework's own included, into the contract's body. Unexpected errors are
/// logged with the request id and answered as `INTERNAL_ERROR`, never echoed.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as MethodNotAllowed {
            return AuthError(.methodNotAllowed, "Method not allowed").response(extraHeaders: [.allow: error.allowed])
        } catch {
            let authError = AuthError(error)
            if authError.code == .internalError {
                // `describing`, not `reflecting`: PostgresNIO's reflection carries the query and its bound values
                // (hashes, mail bodies), which must not reach a log.
                context.logger.error("request failed", metadata: ["error": "\(String(describing: error))"])
            }
            return authError.response()
        }
    }
}

/// Thrown for a known path with a method it does not serve.
struct MethodNotAllowed: Error {
    var allowed: String
}
