import Foundation
import GRDB
import LatchkeyCore

struct SQLiteEmailTokenStore: EmailTokenStore {
    let writer: any DatabaseWriter

    func issue(_ token: EmailToken, mail: SealedMail, audit: AuditEvent?) async throws {
        try await writer.write { db in
            try db.issue(token, mail: mail)
            try db.record(audit)
        }
    }

    func owner(of tokenHash: Data, purpose: EmailToken.Purpose, now: Date) async throws -> User? {
        try await writer.read { db in try db.usableTokenOwner(tokenHash, purpose: purpose, now: now) }
    }

    func verifyEmail(tokenHash: Data, now: Date, audit: AuditEvent) async throws -> User? {
        try await writer.write { db in
            guard let user = try db.usableTokenOwner(tokenHash, purpose: .verifyEmail, now: now) else { return nil }
            try db.voidTokens(userID: user.id, purpose: .verifyEmail, now: now)
            try db.run("UPDATE users SET email_verified = 1, updated_at = \(now) WHERE id = \(user.id.databaseText)")
            try db.record(audit.about(userID: user.id))
            return try db.user(id: user.id)
        }
    }

    func resetPassword(tokenHash: Data, passwordHash: String, notice: SealedMail, now: Date, audit: AuditEvent) async throws -> Bool {
        try await writer.write { db in
            guard let user = try db.usableTokenOwner(tokenHash, purpose: .resetPassword, now: now) else { return false }
            try db.setPassword(userID: user.id, passwordHash: passwordHash, keepSessionID: nil, notice: notice, now: now)
            try db.record(audit.about(userID: user.id))
            return true
        }
    }

    func deleteSpent(now: Date, limit: Int) async throws -> Int {
        try await writer.write { db in
            try db.run(
                """
                DELETE FROM email_tokens WHERE token_hash IN (
                    SELECT token_hash FROM email_tokens WHERE used_at IS NOT NULL OR expires_at < \(now) LIMIT \(limit)
                )
                """
            )
            return db.changesCount
        }
    }
}
