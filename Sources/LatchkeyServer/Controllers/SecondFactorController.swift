import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// The signed-in account's second factors: TOTP enrolment and removal, recovery codes. Every answer that carries a
/// secret is `no-store`.
struct SecondFactorController {
    let secondFactors: SecondFactorService
    let passkeys: PasskeyService

    var endpoints: RouteCollection<AuthenticatedContext> {
        RouteCollection(context: AuthenticatedContext.self)
            .get("mfa", use: status)
            .post("mfa/totp/enroll", use: enroll)
            .post("mfa/totp/confirm", use: confirm)
            .delete("mfa/totp", use: disable)
            .post("mfa/recovery-codes", use: regenerateRecoveryCodes)
    }

    @Sendable func status(_ request: Request, context: AuthenticatedContext) async throws -> MFAStatusResponse {
        let factors = try await secondFactors.factors(of: context.identity.userID)
        return MFAStatusResponse(
            totp: factors.totp.map { MFAStatusResponse.TOTP(enabled: $0.isOn, confirmedAt: $0.confirmedAt) },
            recoveryCodesRemaining: factors.recoveryCodesRemaining,
            passkeys: try await passkeys.passkeys(of: context.identity.userID).count
        )
    }

    @Sendable func enroll(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<TOTPEnrolmentResponse> {
        let input = try await request.decode(as: ConfirmationRequest.self, context: context)
        let enrolment = try await secondFactors.enrollTOTP(context.identity, input.confirmation, client: context.client(request))
        return .noStore(TOTPEnrolmentResponse(secret: enrolment.secret, otpauthUri: enrolment.otpauthURI, qrSvg: enrolment.qrSVG))
    }

    @Sendable func confirm(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<RecoveryCodesResponse> {
        let input = try await request.decode(as: MFACodeRequest.self, context: context)
        let codes = try await secondFactors.confirmTOTP(context.identity, code: input.code, client: context.client(request), logger: context.logger)
        return .noStore(RecoveryCodesResponse(recoveryCodes: codes))
    }

    @Sendable func disable(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        let input = try await request.decode(as: ConfirmationRequest.self, context: context)
        try await secondFactors.disableTOTP(context.identity, input.confirmation, client: context.client(request), logger: context.logger)
        return .noContent
    }

    @Sendable func regenerateRecoveryCodes(_ request: Request, context: AuthenticatedContext) async throws -> EditedResponse<RecoveryCodesResponse> {
        let input = try await request.decode(as: ConfirmationRequest.self, context: context)
        let codes = try await secondFactors.regenerateRecoveryCodes(
            context.identity,
            input.confirmation,
            client: context.client(request),
            logger: context.logger
        )
        return .noStore(RecoveryCodesResponse(recoveryCodes: codes))
    }
}

extension ConfirmationRequest {
    var confirmation: Confirmation { Confirmation(password: password, code: code) }
}

extension MFAStatusResponse: ResponseEncodable {}
extension TOTPEnrolmentResponse: ResponseEncodable {}
extension RecoveryCodesResponse: ResponseEncodable {}

/// `LATCHKEY_ADMIN_REQUIRE_MFA`: `/admin` routes refuse a token whose sign-in did not use two factors, with RFC 9470's
/// challenge.
struct SecondFactorRequirement: RouterMiddleware {
    let enabled: Bool

    func handle(_ request: Request, context: AdminContext, next: (Request, AdminContext) async throws -> Response) async throws -> Response {
        guard !enabled || context.identity.amr.contains(AuthenticationMethod.multiFactor.rawValue) else { throw AuthError.mfaRequired }
        return try await next(request, context)
    }
}
