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
            _ = try await connection.rows(.revokeSessions(userID: userID, now: now), logger: executor.logger)
        }
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
