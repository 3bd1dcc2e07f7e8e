import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// Email verification and password reset. Each route first takes from its client IP bucket (`RateLimiter.Route`).
struct EmailFlowController {
    let accounts: AccountService
    let limiter: RateLimiter

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .post("verify-email", use: verifyEmail)
            .post("verify-email/resend", use: resend)
            .post("forgot-password", use: forgotPassword)
            .post("reset-password", use: resetPassword)
    }

    @Sendable func verifyEmail(_ request: Request, context: AppRequestContext) async throws -> UserResponse {
        try await limiter.check(.verifyEmail, ip: context.clientIP)
        let input = try await request.decode(as: TokenRequest.self, context: context)
        return try await accounts.verifyEmail(token: input.token, logger: context.logger).response
    }

    /// 202 with the same body whether or not the account exists.
    @Sendable func resend(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<MessageResponse> {
        try await limiter.check(.resendVerification, ip: context.clientIP)
        let input = try await request.decode(as: EmailRequest.self, context: context)
        try await accounts.resendVerification(to: input.email, logger: context.logger)
        return EditedResponse(
            status: .accepted,
            response: MessageResponse(message: "If the account exists and is not verified, a verification email is on its way.")
        )
    }

    /// 202 with the same body whether or not the account exists.
    @Sendable func forgotPassword(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<MessageResponse> {
        try await limiter.check(.forgotPassword, ip: context.clientIP)
        let input = try await request.decode(as: EmailRequest.self, context: context)
        try await accounts.forgotPassword(email: input.email, logger: context.logger)
        return EditedResponse(status: .accepted, response: MessageResponse(message: "If the account exists, a password reset email is on its way."))
    }

    @Sendable func resetPassword(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        try await limiter.check(.resetPassword, ip: context.clientIP)
        let input = try await request.decode(as: ResetPasswordRequest.self, context: context)
        try await accounts.resetPassword(token: input.token, newPassword: input.newPassword, logger: context.logger)
        return .noContent
    }
}

extension MessageResponse: ResponseEncodable {}
