import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// `/admin`: accounts for administrators (`AdminContext`). Lists are newest first, a page at a time. Answers carry
/// account data, so no cache keeps them.
struct AdminController {
    let admin: AdminService

    var endpoints: RouteCollection<AdminContext> {
        RouteCollection(context: AdminContext.self)
            .get("users", use: listUsers)
            .get("users/:id", use: showUser)
            .patch("users/:id", use: updateUser)
            .post("users/:id/logout-all", use: logoutAll)
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
        return .noStore(try await admin.update(userID: id, changes, by: context.identity.userID, logger: context.logger).response)
    }

    @Sendable func logoutAll(_ request: Request, context: AdminContext) async throws -> HTTPResponse.Status {
        try await admin.logoutEverywhere(userID: try userID(context), logger: context.logger)
        return .noContent
    }

    /// A malformed id names no user: 404, like an unknown one.
    private func userID(_ context: AdminContext) throws -> UUID {
        guard let id = context.parameters.get("id", as: UUID.self) else { throw AdminService.noSuchUser }
        return id
    }
}

extension AdminUserResponse: ResponseEncodable {}
extension AdminUserListResponse: ResponseEncodable {}
