import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// Email verification and password reset. Each route first takes from its client IP bucket (`RateLimiter.Route`).
/// Form posts from the pages for the emailed links go to `EmailLinkPagesController` and are answered with pages.
struct EmailFlowController {
    let accounts: AccountService
    let limiter: RateLimiter
    let pages: EmailLinkPagesController

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .post("verify-email") { request, context in
                request.isFormPost ? await pages.verifyEmail(request, context: context) : try await verifyEmail(request, context: context)
            }
            .post("verify-email/resend") { request, context in
                request.isFormPost ? await pages.resendVerification(request, context: context) : try await resend(request, context: context)
            }
            .post("forgot-password") { request, context in
                request.isFormPost ? await pages.forgotPassword(request, context: context) : try await forgotPassword(request, context: context)
            }
            .post("reset-password") { request, context in
                request.isFormPost ? await pages.resetPassword(request, context: context) : try await resetPassword(request, context: context)
            }
    }

    func verifyEmail(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await limiter.check(.verifyEmail, ip: context.clientIP)
        let input = try await request.decode(as: TokenRequest.self, context: context)
        return try await accounts.verifyEmail(token: input.token, client: context.client(request), logger: context.logger).response.response(
            from: request,
            context: context
        )
    }

    /// 202 with the same body whether or not the account exists.
    func resend(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await limiter.check(.resendVerification, ip: context.clientIP)
        let input = try await request.decode(as: EmailRequest.self, context: context)
        try await accounts.resendVerification(to: input.email, logger: context.logger)
        return try accepted(EmailLinkPagesController.resendSent, request, context)
    }

    /// 202 with the same body whether or not the account exists.
    func forgotPassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await limiter.check(.forgotPassword, ip: context.clientIP)
        let input = try await request.decode(as: EmailRequest.self, context: context)
        try await accounts.forgotPassword(email: input.email, client: context.client(request), logger: context.logger)
        return try accepted(EmailLinkPagesController.resetSent, request, context)
    }

    func resetPassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await limiter.check(.resetPassword, ip: context.clientIP)
        let input = try await request.decode(as: ResetPasswordRequest.self, context: context)
        try await accounts.resetPassword(token: input.token, newPassword: input.newPassword, client: context.client(request), logger: context.logger)
        return Response(status: .noContent)
    }

    private func accepted(_ message: String, _ request: Request, _ context: AppRequestContext) throws -> Response {
        try EditedResponse(status: .accepted, response: MessageResponse(message: message)).response(from: request, context: context)
    }
}

extension MessageResponse: ResponseEncodable {}
