import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// The signed-in user's routes: profile, password, deletion, sessions.
struct AccountController {
    let accounts: AccountService
    let sessions: SessionService

    var endpoints: RouteCollection<AuthenticatedContext> {
        RouteCollection(context: AuthenticatedContext.self)
            .get("me", use: me)
            .patch("me", use: updateMe)
            .delete("me", use: deleteMe)
            .post("change-password", use: changePassword)
            .post("logout-all", use: logoutAll)
            .get("sessions", use: listSessions)
            .delete("sessions/:id", use: revokeSession)
    }

    @Sendable func me(_ request: Request, context: AuthenticatedContext) -> UserResponse {
        context.identity.user.response
    }

    @Sendable func updateMe(_ request: Request, context: AuthenticatedContext) async throws -> UserResponse {
        let input = try await request.decode(as: UpdateProfileRequest.self, context: context)
        return try await accounts.updateProfile(context.identity, input).response
    }

    @Sendable func deleteMe(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        let input = try await request.decode(as: DeleteAccountRequest.self, context: context)
        try await accounts.deleteAccount(context.identity, input, logger: context.logger)
        return .noContent
    }

    @Sendable func changePassword(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        let input = try await request.decode(as: ChangePasswordRequest.self, context: context)
        try await accounts.changePassword(context.identity, input, logger: context.logger)
        return .noContent
    }

    @Sendable func logoutAll(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        try await sessions.logoutEverywhere(context.identity, logger: context.logger)
        return .noContent
    }

    @Sendable func listSessions(_ request: Request, context: AuthenticatedContext) async throws -> SessionListResponse {
        SessionListResponse(sessions: try await sessions.sessions(of: context.identity))
    }

    /// Another user's session is a 404, like one that never existed.
    @Sendable func revokeSession(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw AuthError(.notFound, "No such session") }
        try await sessions.revokeSession(id: id, of: context.identity)
        return .noContent
    }
}
