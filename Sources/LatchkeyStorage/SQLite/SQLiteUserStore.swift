import Foundation
import GRDB
import LatchkeyCore

struct SQLiteUserStore: UserStore {
    let writer: any DatabaseWriter

    func insertUser(_ user: User, verification: (EmailToken, SealedMail)?) async throws {
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
            try db.row("SELECT * FROM users WHERE id = \(id.databaseText)").map { User(row: $0) }
        }
    }

    func user(email: String) async throws -> User? {
        try await writer.read { db in
            try db.row("SELECT * FROM users WHERE email = \(email)").map { User(row: $0) }
        }
    }

    func updateName(userID: UUID, name: String, now: Date) async throws -> User? {
        try await writer.write { db in
            try db.run(
                "UPDATE users SET name = \(name), updated_at = \(now) WHERE id = \(userID.databaseText) AND deleted_at IS NULL"
            )
            return try db.row("SELECT * FROM users WHERE id = \(userID.databaseText)").map { User(row: $0) }
        }
    }

    func changePassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date) async throws {
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
    /// `prefix` reads the columns of a join that renamed them (`u.email AS u_email`).
    init(row: Row, prefix: String = "") {
        self.init(
            id: row.uuid(prefix + "id"),
            email: row[prefix + "email"],
            passwordHash: row[prefix + "password_hash"],
            name: row[prefix + "name"],
            role: Role(rawValue: row[prefix + "role"]) ?? .user,
            emailVerified: row[prefix + "email_verified"],
            createdAt: row[prefix + "created_at"],
            updatedAt: row[prefix + "updated_at"],
            deletedAt: row[prefix + "deleted_at"]
        )
    }
}

extension GRDB.Database {
    /// Sets the password, revokes the user's sessions but `keepSessionID`, voids pending reset tokens and
    /// queues the notice: everything a password change means, inside the caller's transaction.
    func setPassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date) throws {
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
