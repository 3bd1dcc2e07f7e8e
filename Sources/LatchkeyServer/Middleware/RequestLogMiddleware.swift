import Hummingbird
import Logging
import NIOCore

/// One line per request, with the request id the context's logger carries; sets the body size limit.
struct RequestLogMiddleware: RouterMiddleware {
    let maxBodySize: Int

    func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.maxUploadSize = maxBodySize
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method)",
                "path": "\(request.uri.path)",
                "ip": "\(context.clientIP ?? "-")",
                "status": "\(response.status.code)",
                "ms": "\(elapsed / .milliseconds(1))",
            ]
        )
        return response
    }
}
