import Foundation
import LatchkeyAPI
import Logging

/// An account as an administrator sees it.
public struct UserSummary: Sendable, Equatable {
    public var user: User
    /// When the account last opened a session.
    public var lastLoginAt: Date?
    /// Sessions neither revoked nor expired.
    public var activeSessions: Int
    /// TOTP is on.
    public var mfaEnabled: Bool
    public var passkeys: Int

    public init(user: User, lastLoginAt: Date?, activeSessions: Int, mfaEnabled: Bool = false, passkeys: Int = 0) {
        self.user = user
        self.lastLoginAt = lastLoginAt
        self.activeSessions = activeSessions
        self.mfaEnabled = mfaEnabled
        self.passkeys = passkeys
    }
}

public struct UserPage: Sendable {
    public var users: [UserSummary]
    public var nextCursor: String?
}

/// An administrator's changes to an account; nil leaves a field as it is.
public struct UserChanges: Sendable, Equatable {
    public var role: User.Role?
    public var disabled: Bool?
    public var name: String?
    public var emailVerified: Bool?

    public init(role: User.Role? = nil, disabled: Bool? = nil, name: String? = nil, emailVerified: Bool? = nil) {
        self.role = role
        self.disabled = disabled
        self.name = name
        self.emailVerified = emailVerified
    }

    /// What an audit event of the change says: each field set, with its new value.
    var auditDetails: [String: AuditValue] {
        var details: [String: AuditValue] = [:]
        if let role { details["role"] = .string(role.rawValue) }
        if let disabled { details["disabled"] = .bool(disabled) }
        if let name { details["name"] = .string(name) }
        if let emailVerified { details["emailVerified"] = .bool(emailVerified) }
        return details
    }
}

/// What the admin API and the `users` commands do: list and show accounts, change their role, state and name, end
/// their sessions. Disabling an account revokes every session in the same transaction, so its access tokens stop
/// working on every instance at once.
public struct AdminService: Sendable {
    let database: any StorageBackend
    let sessions: SessionService

    public init(database: any StorageBackend, sessions: SessionService) {
        self.database = database
        self.sessions = sessions
    }

    /// Newest first, `limit` at a time; `emailContaining` matches a part of the email, in any case.
    public func users(emailContaining: String?, limit: Int, cursor: String?, now: Date = Date()) async throws -> UserPage {
        let filter = emailContaining.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.flatMap { $0.isEmpty ? nil : $0 }
        let found = try await database.users.users(emailContaining: filter, limit: limit + 1, after: try PageCursor.after(cursor), now: now)
        let (page, next) = PageCursor.page(found, limit: limit, id: \.user.id)
        return UserPage(users: page, nextCursor: next)
    }

    /// Throws `notFound` for an unknown id.
    public func user(id: UUID, now: Date = Date()) async throws -> UserSummary {
        guard let summary = try await database.users.summary(userID: id, now: now) else { throw Self.noSuchUser }
        return summary
    }

    /// Applies `changes` asked for by `client` (an admin, whose id is its `actorID`, or the command line). Admins cannot
    /// demote or disable themselves through the API, so the last admin cannot lock everyone out by a slip.
    public func update(userID: UUID, _ changes: UserChanges, client: ClientInfo, logger: Logger, now: Date = Date()) async throws -> UserSummary {
        let actor = client.actorID
        var changes = changes
        var problems: [FieldError] = []
        if let name = changes.name {
            changes.name = name.trimmingCharacters(in: .whitespacesAndNewlines).nfc
            problems += AccountService.nameProblems(changes.name ?? "")
        }
        if actor == userID, changes.role == .user { problems.append(FieldError(field: "role", message: "cannot be taken from yourself")) }
        if actor == userID, changes.disabled == true { problems.append(FieldError(field: "disabled", message: "cannot be set on yourself")) }
        guard problems.isEmpty else { throw AuthError.validation(problems) }
        let audit = AuditEvent(.userUpdated, by: client, at: now, userID: userID, details: changes.auditDetails)
        guard let summary = try await database.users.update(userID: userID, changes, now: now, audit: audit) else { throw Self.noSuchUser }
        var metadata: Logger.Metadata = ["event": "user.updated", "user": "\(userID)"]
        if let actor { metadata["actor"] = "\(actor)" }
        logger.notice("account changed by an administrator", metadata: metadata)
        return summary
    }

    /// Revokes every session of the account; throws `notFound` for an unknown id.
    public func logoutEverywhere(userID: UUID, client: ClientInfo, logger: Logger, now: Date = Date()) async throws {
        _ = try await user(id: userID, now: now)
        try await sessions.logoutEverywhere(userID: userID, client: client, logger: logger, now: now)
    }

    public static let noSuchUser = AuthError(.notFound, "No such user")
}
