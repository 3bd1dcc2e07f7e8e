import Foundation
import GRDB
import LatchkeyCore

struct SQLiteUserStore: UserStore {
    let writer: any DatabaseWriter

    func insertUser(_ user: User, verification: (EmailToken, OutgoingMail)?) async throws {
        do {
            try await writer.write { db in
                try db.run(
                    """
                        INSERT INTO users (id, email, password_hash, name, role, email_verified, created_at, updated_at)
                        VALUES (\(user.id.databaseText), \(user.email), \(user.passwordHash), \(user.name), \(user.role.rawValue),
                                \(user.emailVerified), \(user.createdAt), \(user.updatedAt))
                        """
                )
                if let (token, mail) = verification { try db.issue(token, mail: mail) }
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw AuthError.emailAlreadyRegistered
        }
    }

    func user(id: UUID) async throws -> User? {
        try await writer.read { db in
            try db.row("SELECT * FROM users WHERE id = \(id.databaseText)").map(User.init(row:))
        }
    }

    func user(email: String) async throws -> User? {
        try await writer.read { db in
            try db.row("SELECT * FROM users WHERE email = \(email)").map(User.init(row:))
        }
    }

    func updateName(userID: UUID, name: String, now: Date) async throws -> User? {
        try await writer.write { db in
            try db.run(
                "UPDATE users SET name = \(name), updated_at = \(now) WHERE id = \(userID.databaseText) AND deleted_at IS NULL"
            )
            return try db.row("SELECT * FROM users WHERE id = \(userID.databaseText)").map(User.init(row:))
        }
    }

    func changePassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: OutgoingMail, now: Date) async throws {
        try await writer.write { db in
            try db.setPassword(userID: userID, passwordHash: passwordHash, keepSessionID: keepSessionID, notice: notice, now: now)
        }
    }

    func softDelete(userID: UUID, now: Date) async throws {
        try await writer.write { db in
            try db.run("UPDATE users SET deleted_at = \(now), updated_at = \(now) WHERE id = \(userID.databaseText)")
            try db.run("UPDATE sessions SET revoked_at = \(now) WHERE user_id = \(userID.databaseText) AND revoked_at IS NULL")
        }
    }
}

extension User {
    init(row: Row) {
        self.init(
            id: row.uuid("id"),
            email: row["email"],
            passwordHash: row["password_hash"],
            name: row["name"],
            role: Role(rawValue: row["role"]) ?? .user,
            emailVerified: row["email_verified"],
            createdAt: row["created_at"],
            updatedAt: row["updated_at"],
            deletedAt: row["deleted_at"]
        )
    }
}

extension GRDB.Database {
    /// Sets the password, revokes the user's sessions but `keepSessionID`, voids pending reset tokens and
    /// queues the notice: everything a password change means, inside the caller's transaction.
    func setPassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: OutgoingMail, now: Date) throws {
        try run("UPDATE users SET password_hash = \(passwordHash), updated_at = \(now) WHERE id = \(userID.databaseText)")
        try run(
            """
                UPDATE sessions SET revoked_at = \(now)
                WHERE user_id = \(userID.databaseText) AND revoked_at IS NULL AND id IS NOT \(keepSessionID?.databaseText)
                """
        )
        try voidTokens(userID: userID, purpose: .resetPassword, now: now)
        try enqueue(notice)
    }
}
