import Hummingbird
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
    /// Works on the UTF-8 bytes: it runs on every authenticated request, and Foundation's trimming is slow here.
    var bearerToken: String? {
        guard let header = headers[.authorization] else { return nil }
        let bytes = header.utf8
        let scheme = "bearer ".utf8
        // `| 0x20` lower-cases ASCII letters; the space of the scheme must match exactly.
        guard bytes.count > scheme.count,
            zip(bytes, scheme).allSatisfy({ $1 == UInt8(ascii: " ") ? $0 == $1 : $0 | 0x20 == $1 })
        else { return nil }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let afterScheme = bytes.dropFirst(scheme.count).drop(while: isBlank)
        guard let last = afterScheme.lastIndex(where: { !isBlank($0) }) else { return nil }
        return String(Substring(afterScheme[...last]))
    }
}
