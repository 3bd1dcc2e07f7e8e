import HTTPTypes
import Hummingbird

/// Headers every response carries, errors included. A response that set its own `Content-Security-Policy` (a page)
/// keeps it; everything else is data, which may load nothing and be framed by nobody.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Sent only when the server is reached over https (`ServerConfiguration.sendsHSTS`).
    let strictTransportSecurity: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        }
        if strictTransportSecurity {
            response.headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains"
        }
        return response
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let pragma = Self("Pragma")!
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
}
