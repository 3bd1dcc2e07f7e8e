import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// Verifies `Authorization: Bearer …` (scheme case-insensitive, RFC 6750) and sets `context.identity`.
/// A request without a bearer token passes through; `AuthenticatedContext` then answers `TOKEN_MISSING`.
struct BearerAuthenticator: RouterMiddleware {
    let sessions: SessionService

    func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let token = request.bearerToken else { return try await next(request, context) }
        var context = context
        context.identity = try await sessions.authenticate(accessToken: token)
        return try await next(request, context)
    }
}

extension Request {
    /// The token of an `Authorization: Bearer` header, nil when absent, empty or of another scheme.
    var bearerToken: String? {
        AccessTokenRules.bearerToken(headers[.authorization])
    }
}
