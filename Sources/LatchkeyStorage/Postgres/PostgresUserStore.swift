import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresUserStore: UserStore {
    let executor: PostgresExecutor

    func insertUser(_ user: User, verification: (EmailToken, SealedMail)?) async throws {
        let insert: PostgresQuery = """
            INSERT INTO users (id, email, password_hash, name, role, email_verified, created_at, updated_at)
            VALUES (\(user.id), \(user.email), \(user.passwordHash), \(user.name), \(user.role.rawValue), \(user.emailVerified),
                    \(user.createdAt), \(user.updatedAt))
            """
        do {
            if let (token, mail) = verification {
                try await executor.transaction { connection in
                    _ = try await connection.rows(insert, logger: executor.logger)
                    try await connection.issue(token, mail: mail, logger: executor.logger)
                }
            } else {
                try await executor.execute(insert)  // one statement: no transaction round trips
            }
        } catch let error as PSQLError where error.isUniqueViolation {
            throw AuthError.emailAlreadyRegistered
        }
    }

    func user(id: UUID) async throws -> User? {
        try await executor.rows("SELECT * FROM users WHERE id = \(id)").first.map { try User(row: $0) }
    }

    func user(email: String) async throws -> User? {
        try await executor.rows(UserByEmailQuery(email: email)).first.map { try User(row: $0) }
    }

    func updateName(userID: UUID, name: String, now: Date) async throws -> User? {
        try await executor.rows(
            "UPDATE users SET name = \(name), updated_at = \(now) WHERE id = \(userID) AND deleted_at IS NULL RETURNING *"
        ).first.map { try User(row: $0) }
    }

    func changePassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date) async throws {
        try await executor.transaction { connection in
            try await connection.setPassword(
                userID: userID,
                passwordHash: passwordHash,
                keepSessionID: keepSessionID,
                notice: notice,
                now: now,
                logger: executor.logger
            )
        }
    }

    func softDelete(userID: UUID, now: Date) async throws {
        try await executor.transaction { connection in
            _ = try await connection.rows("UPDATE users SET deleted_at = \(now), updated_at = \(now) WHERE id = \(userID)", logger: executor.logger)
            _ = try await connection.rows(
                "UPDATE sessions SET revoked_at = \(now) WHERE user_id = \(userID) AND revoked_at IS NULL",
                logger: executor.logger
            )
        }
    }
}

extension PostgresConnection {
    /// Everything a password change means, inside the caller's transaction (see `UserStore.changePassword`).
    func setPassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date, logger: Logger) async throws {
        _ = try await rows("UPDATE users SET password_hash = \(passwordHash), updated_at = \(now) WHERE id = \(userID)", logger: logger)
        _ = try await rows(
            """
            UPDATE sessions SET revoked_at = \(now)
            WHERE user_id = \(userID) AND revoked_at IS NULL AND id IS DISTINCT FROM \(keepSessionID)
            """,
            logger: logger
        )
        try await voidTokens(userID: userID, purpose: .resetPassword, now: now, logger: logger)
        try await enqueue(notice, logger: logger)
    }
}

/// Every login starts here.
private struct UserByEmailQuery: PostgresHotQuery {
    static let sql = "SELECT \(Columns.select(Columns.users, from: "users")) FROM users WHERE email = $1"
    var email: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(email)
        return bindings
    }
}

extension User {
    /// `prefix` reads the columns of a join that renamed them (`u.email AS u_email`).
    init(row: PostgresRandomAccessRow, prefix: String = "") throws {
        self.init(
            id: try row.value(prefix + "id"),
            email: try row.value(prefix + "email"),
            passwordHash: try row.value(prefix + "password_hash"),
            name: try row.value(prefix + "name"),
            role: Role(rawValue: try row.value(prefix + "role")) ?? .user,
            emailVerified: try row.value(prefix + "email_verified"),
            createdAt: try row.value(prefix + "created_at"),
            updatedAt: try row.value(prefix + "updated_at"),
            deletedAt: try row.value(prefix + "deleted_at")
        )
    }
}
