import Foundation
import GRDB
import LatchkeyCore

struct SQLiteUserStore: UserStore {
    let writer: any DatabaseWriter

    func insertUser(_ user: User, verification: (EmailToken, SealedMail)?, audit: AuditEvent) async throws {
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
                try db.record(audit)
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

    func user(id: UUID) async throws -> User? {
        try await writer.read { db in try db.user(id: id) }
    }

    func updateName(userID: UUID, name: String, now: Date, audit: AuditEvent) async throws -> User? {
        try await writer.write { db in
            try db.run("UPDATE users SET name = \(name), updated_at = \(now) WHERE id = \(userID.databaseText) AND deleted_at IS NULL")
            guard db.changesCount > 0 else { return nil }
            try db.record(audit)
            return try db.user(id: userID)
        }
    }

    func changePassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date, audit: AuditEvent) async throws {
        try await writer.write { db in
            try db.setPassword(userID: userID, passwordHash: passwordHash, keepSessionID: keepSessionID, notice: notice, now: now)
            try db.record(audit)
        }
    }

    func rehashPassword(userID: UUID, from old: String, to new: String) async throws {
        try await writer.write { db in
            try db.run("UPDATE users SET password_hash = \(new) WHERE id = \(userID.databaseText) AND password_hash = \(old)")
        }
    }

    func softDelete(userID: UUID, now: Date, audit: AuditEvent) async throws {
        try await writer.write { db in
            try db.run("UPDATE users SET deleted_at = \(now), updated_at = \(now) WHERE id = \(userID.databaseText) AND deleted_at IS NULL")
            guard db.changesCount > 0 else { return }
            try db.revokeSessions(userID: userID, now: now)
            try db.record(audit)
        }
    }

    func users(emailContaining: String?, limit: Int, after: UUID?, now: Date) async throws -> [UserSummary] {
        try await writer.read { db in
            try db.rows(
                """
                SELECT u.*, \(activeSessions(now)) FROM users u
                WHERE (\(emailContaining) IS NULL OR instr(u.email, \(emailContaining)) > 0)
                  AND (\(after?.databaseText) IS NULL
                       OR (u.created_at, u.id) < (SELECT created_at, id FROM users WHERE id = \(after?.databaseText)))
                ORDER BY u.created_at DESC, u.id DESC LIMIT \(limit)
                """
            ).map { UserSummary(row: $0) }
        }
    }

    func summary(userID: UUID, now: Date) async throws -> UserSummary? {
        try await writer.read { db in try db.summary(userID: userID, now: now) }
    }

    func update(userID: UUID, _ changes: UserChanges, now: Date, audit: AuditEvent) async throws -> UserSummary? {
        try await writer.write { db in
            try db.run(
                """
                UPDATE users SET role = coalesce(\(changes.role?.rawValue), role), name = coalesce(\(changes.name), name),
                    email_verified = coalesce(\(changes.emailVerified), email_verified),
                    disabled_at = CASE WHEN \(changes.disabled) IS NULL THEN disabled_at
                                       WHEN \(changes.disabled) THEN coalesce(disabled_at, \(now)) END,
                    updated_at = \(now)
                WHERE id = \(userID.databaseText)
                """
            )
            guard db.changesCount > 0 else { return nil }
            if changes.disabled == true { try db.revokeSessions(userID: userID, now: now) }
            try db.record(audit)
            return try db.summary(userID: userID, now: now)
        }
    }
}

/// The count of the account's live sessions, whether TOTP is on and how many passkeys it has, as the columns
/// `active_sessions`, `mfa_enabled` and `passkeys` of a query over `users u`.
private func activeSessions(_ now: Date) -> SQL {
    """
    (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > \(now)) AS active_sessions,
    EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL) AS mfa_enabled,
    (SELECT count(*) FROM passkeys p WHERE p.user_id = u.id) AS passkeys
    """
}

extension GRDB.Database {
    fileprivate func summary(userID: UUID, now: Date) throws -> UserSummary? {
        try row("SELECT u.*, \(activeSessions(now)) FROM users u WHERE u.id = \(userID.databaseText)").map { UserSummary(row: $0) }
    }
}

extension UserSummary {
    init(row: Row) {
        self.init(
            user: User(row: row),
            lastLoginAt: row["last_login_at"],
            activeSessions: row["active_sessions"],
            mfaEnabled: row["mfa_enabled"],
            passkeys: row["passkeys"]
        )
    }
}
