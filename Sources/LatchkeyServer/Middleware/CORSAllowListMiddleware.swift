import HTTPTypes
import Hummingbird

/// CORS for an explicit allow-list of origins only (`ServerConfiguration.allowedOrigins`), with credentials (the
/// refresh cookie) and the exact origin, never `*`; other origins get no CORS headers, so browsers keep them out.
/// Hummingbird's CORSMiddleware allows one origin or all, not a list. Every answer varies by `Origin`, so that a
/// cache never hands one origin's answer to another.
struct CORSAllowListMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowedOrigins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], allowedOrigins.contains(origin) else {
            var response = try await next(request, context)
            response.headers[.vary] = "Origin"
            return response
        }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, PATCH, DELETE"
            response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type, X-Latchkey-CSRF"
            response.headers[.accessControlMaxAge] = "600"
        } else {
            response = try await next(request, context)
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlAllowCredentials] = "true"
        response.headers[.vary] = "Origin"
        return response
    }
}
