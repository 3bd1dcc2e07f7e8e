import HTTPTypes
import Hummingbird
import LatchkeyCore

/// Sets `context.clientIP` from `X-Forwarded-For` when the peer is a trusted proxy (`TrustedProxies`); from any
/// other peer the header is ignored, and so are `X-Real-IP` and `Forwarded`, which no proxy of ours is told to send.
struct ClientAddressMiddleware: RouterMiddleware {
    let trustedProxies: TrustedProxies

    func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.clientIP = trustedProxies.clientIP(peer: context.clientIP, forwardedFor: request.headers[values: .xForwardedFor])
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
