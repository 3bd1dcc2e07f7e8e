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
            return AuthError(.methodNotAllowed).response(extraHeaders: [.allow: error.allowed])
        } catch let error as AuthErrorWithHeaders {
            return error.error.response(extraHeaders: error.headers)
        } catch {
            return AuthError(error, logger: context.logger).response()
        }
    }
}

/// An error whose answer carries headers of its own (the cleared refresh cookie).
struct AuthErrorWithHeaders: Error {
    var error: AuthError
    var headers: HTTPFields
}

extension AuthError {
    /// `AuthError(error)`, logging what the client will only see as `INTERNAL_ERROR`.
    init(_ error: any Error, logger: Logger) {
        self.init(error)
        if code == .internalError {
            // `describing`, not `reflecting`: PostgresNIO's reflection carries the query and its bound values
            // (hashes, mail bodies), which must not reach a log.
            logger.error("request failed", metadata: ["error": "\(String(describing: error))"])
        }
    }
}

/// Thrown for a known path with a method it does not serve.
struct MethodNotAllowed: Error {
    var allowed: String
}
