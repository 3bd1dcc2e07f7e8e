import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// `/admin`: accounts for administrators (`AdminContext`). Lists are newest first, a page at a time. Answers carry
/// account data, so no cache keeps them.
struct AdminController {
    let admin: AdminService
    let audit: AuditLog
    let secondFactors: SecondFactorService

    var endpoints: RouteCollection<AdminContext> {
        RouteCollection(context: AdminContext.self)
            .get("users", use: listUsers)
            .get("users/:id", use: showUser)
            .patch("users/:id", use: updateUser)
            .post("users/:id/logout-all", use: logoutAll)
            .delete("users/:id/mfa", use: resetSecondFactor)
            .get("audit", use: listAudit)
    }

    @Sendable func listUsers(_ request: Request, context: AdminContext) async throws -> EditedResponse<AdminUserListResponse> {
        let page = try await admin.users(
            emailContaining: request.uri.queryParameters["email"].map(String.init),
            limit: try request.pageLimit(),
            cursor: request.uri.queryParameters["cursor"].map(String.init)
        )
        return .noStore(AdminUserListResponse(users: page.users.map(\.response), nextCursor: page.nextCursor))
    }

    @Sendable func showUser(_ request: Request, context: AdminContext) async throws -> EditedResponse<AdminUserResponse> {
        .noStore(try await admin.user(id: try userID(context)).response)
    }

    @Sendable func updateUser(_ request: Request, context: AdminContext) async throws -> EditedResponse<AdminUserResponse> {
        let id = try userID(context)
        let input = try await request.decode(as: AdminUserUpdateRequest.self, context: context)
        var role: User.Role?
        if let name = input.role {
            guard let value = User.Role(rawValue: name) else { throw AuthError.validation(field: "role", "must be user or admin") }
            role = value
        }
        let changes = UserChanges(role: role, disabled: input.disabled, name: input.name, emailVerified: input.emailVerified)
        return .noStore(try await admin.update(userID: id, changes, client: context.actingClient(request), logger: context.logger).response)
    }

    @Sendable func logoutAll(_ request: Request, context: AdminContext) async throws -> HTTPResponse.Status {
        try await admin.logoutEverywhere(userID: try userID(context), client: context.actingClient(request), logger: context.logger)
        return .noContent
    }

    /// Removes the account's TOTP and recovery codes (passkeys stay) and revokes its sessions: for a user who lost both.
    @Sendable func resetSecondFactor(_ request: Request, context: AdminContext) async throws -> HTTPResponse.Status {
        guard try await secondFactors.reset(userID: try userID(context), client: context.actingClient(request), logger: context.logger) else {
            throw AdminService.noSuchUser
        }
        return .noContent
    }

    /// `?userId=&type=&since=&limit=&cursor=`; `since` is a date-time or a duration back from now (`24h`).
    @Sendable func listAudit(_ request: Request, context: AdminContext) async throws -> EditedResponse<AuditEventListResponse> {
        let query = request.uri.queryParameters
        var filter = AuditFilter()
        var problems: [FieldError] = []
        if let text = query["userId"].map(String.init), !text.isEmpty {
            filter.userID = UUID(uuidString: text)
            if filter.userID == nil { problems.append(FieldError(field: "userId", message: "must be a user id")) }
        }
        if let text = query["type"].map(String.init), !text.isEmpty {
            filter.type = AuditEvent.Kind.all.first { $0.rawValue == text }
            if filter.type == nil { problems.append(FieldError(field: "type", message: "must be an audit event type, such as login.failed")) }
        }
        if let text = query["since"].map(String.init), !text.isEmpty {
            filter.since = AuditLog.start(text)
            if filter.since == nil {
                problems.append(FieldError(field: "since", message: "must be a date-time such as 2026-12-01T00:00:00Z or a duration such as 24h"))
            }
        }
        let limit: Int
        do {
            limit = try request.pageLimit()
        } catch let error as AuthError {
            problems += error.details
            limit = 0
        }
        guard problems.isEmpty else { throw AuthError.validation(problems) }
        let page = try await audit.events(filter, limit: limit, cursor: query["cursor"].map(String.init))
        return .noStore(AuditEventListResponse(events: page.events.map(\.response), nextCursor: page.nextCursor))
    }

    /// A malformed id names no user: 404, like an unknown one.
    private func userID(_ context: AdminContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw AdminService.noSuchUser }
        return id
    }
}

extension AdminUserResponse: ResponseEncodable {}
extension AdminUserListResponse: ResponseEncodable {}
extension AuditEventListResponse: ResponseEncodable {}
