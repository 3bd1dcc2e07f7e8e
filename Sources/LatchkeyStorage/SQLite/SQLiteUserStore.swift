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

    func user(email: String) async throws -> User? {
        try await writer.read { db in
            try db.row("SELECT * FROM users WHERE email = \(email)").map { User(row: $0) }
        }
    }

    func updateName(userID: UUID, name: String, now: Date) async throws -> User? {
        try await writer.write { db in
            try db.run("UPDATE users SET name = \(name), updated_at = \(now) WHERE id = \(userID.databaseText) AND deleted_at IS NULL")
            return db.changesCount > 0 ? try db.user(id: userID) : nil
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
            try db.revokeSessions(userID: userID, now: now)
        }
    }
}
