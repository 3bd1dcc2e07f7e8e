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
        return try await accounts.updateProfile(context.identity, name: input.name, client: context.client(request)).response
    }

    @Sendable func deleteMe(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        let input = try await request.decode(as: ConfirmationRequest.self, context: context)
        try await accounts.deleteAccount(context.identity, input.confirmation, client: context.client(request), logger: context.logger)
        return .noContent
    }

    @Sendable func changePassword(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        let input = try await request.decode(as: ChangePasswordRequest.self, context: context)
        try await accounts.changePassword(
            context.identity,
            current: input.currentPassword,
            new: input.newPassword,
            client: context.client(request),
            logger: context.logger
        )
        return .noContent
    }

    @Sendable func logoutAll(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        try await sessions.logoutEverywhere(userID: context.identity.userID, client: context.client(request), logger: context.logger)
        return .noContent
    }

    @Sendable func listSessions(_ request: Request, context: AuthenticatedContext) async throws -> SessionListResponse {
        let cursor = request.uri.queryParameters["cursor"].flatMap { $0.isEmpty ? nil : String($0) }
        let page = try await sessions.sessions(ofUser: context.identity.userID, limit: try request.pageLimit(), cursor: cursor)
        return SessionListResponse(
            sessions: page.sessions.map { $0.response(currentSessionID: context.identity.sessionID) },
            nextCursor: page.nextCursor
        )
    }

    /// Another user's session is a 404, like one that never existed.
    @Sendable func revokeSession(_ request: Request, context: AuthenticatedContext) async throws -> HTTPResponse.Status {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw AuthError(.notFound, "No such session") }
        try await sessions.revokeSession(id: id, ofUser: context.identity.userID, client: context.client(request))
        return .noContent
    }
}

extension Request {
    /// `?limit=` of a list: 1 to 200, default 50.
    func pageLimit() throws -> Int {
        guard let text = uri.queryParameters["limit"] else { return 50 }
        guard let limit = Int(text), (1...200).contains(limit) else {
            throw AuthError.validation(field: "limit", "must be a whole number from 1 to 200")
        }
        return limit
    }
}
