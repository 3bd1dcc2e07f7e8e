import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresUserStore: UserStore {
    let executor: PostgresExecutor

    func insertUser(_ user: User, verification: (EmailToken, OutgoingMail)?) async throws {
        do {
            try await executor.transaction { connection in
                _ = try await connection.rows(
                    """
                    INSERT INTO users (id, email, password_hash, name, role, email_verified, created_at, updated_at)
                    VALUES (\(user.id), \(user.email), \(user.passwordHash), \(user.name), \(user.role.rawValue), \(user.emailVerified),
                            \(user.createdAt), \(user.updatedAt))
                    """,
                    logger: executor.logger
                )
                if let (token, mail) = verification { try await connection.issue(token, mail: mail, logger: executor.logger) }
            }
        } catch let error as PSQLError where error.isUniqueViolation {
            throw AuthError.emailAlreadyRegistered
        }
    }

    func user(id: UUID) async throws -> User? {
        try await executor.rows("SELECT * FROM users WHERE id = \(id)").first.map(User.init(row:))
    }

    func user(email: String) async throws -> User? {
        try await executor.rows("SELECT * FROM users WHERE email = \(email)").first.map(User.init(row:))
    }

    func updateName(userID: UUID, name: String, now: Date) async throws -> User? {
        try await executor.rows(
            "UPDATE users SET name = \(name), updated_at = \(now) WHERE id = \(userID) AND deleted_at IS NULL RETURNING *"
        ).first.map(User.init(row:))
    }

    func changePassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: OutgoingMail, now: Date) async throws {
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
    func setPassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: OutgoingMail, now: Date, logger: Logger) async throws {
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

extension User {
    init(row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"),
            email: try row.value("email"),
            passwordHash: try row.value("password_hash"),
            name: try row.value("name"),
            role: Role(rawValue: try row.value("role")) ?? .user,
            emailVerified: try row.value("email_verified"),
            createdAt: try row.value("created_at"),
            updatedAt: try row.value("updated_at"),
            deletedAt: try row.value("deleted_at")
        )
    }
}
