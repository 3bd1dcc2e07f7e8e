import Foundation
import GRDB
import LatchkeyCore

struct SQLiteEmailTokenStore: EmailTokenStore {
    let writer: any DatabaseWriter

    func issue(_ token: EmailToken, mail: SealedMail) async throws {
        try await writer.write { db in try db.issue(token, mail: mail) }
    }

    func owner(of tokenHash: Data, purpose: EmailToken.Purpose, now: Date) async throws -> User? {
        try await writer.read { db in try db.usableTokenOwner(tokenHash, purpose: purpose, now: now) }
    }

    func verifyEmail(tokenHash: Data, now: Date) async throws -> User? {
        try await writer.write { db in
            guard let user = try db.usableTokenOwner(tokenHash, purpose: .verifyEmail, now: now) else { return nil }
            try db.voidTokens(userID: user.id, purpose: .verifyEmail, now: now)
            try db.run("UPDATE users SET email_verified = 1, updated_at = \(now) WHERE id = \(user.id.databaseText)")
            return try db.row("SELECT * FROM users WHERE id = \(user.id.databaseText)").map { User(row: $0) }
        }
    }

    func resetPassword(tokenHash: Data, passwordHash: String, notice: SealedMail, now: Date) async throws -> Bool {
        try await writer.write { db in
            guard let user = try db.usableTokenOwner(tokenHash, purpose: .resetPassword, now: now) else { return false }
            try db.setPassword(userID: user.id, passwordHash: passwordHash, keepSessionID: nil, notice: notice, now: now)
            return true
        }
    }
}

extension GRDB.Database {
    /// Stores a token and queues its mail; a new reset token voids the older ones.
    func issue(_ token: EmailToken, mail: SealedMail) throws {
        if token.purpose == .resetPassword { try voidTokens(userID: token.userID, purpose: .resetPassword, now: token.createdAt) }
        try run(
            """
                INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at)
                VALUES (\(token.hash), \(token.userID.databaseText), \(token.purpose.rawValue), \(token.createdAt), \(token.expiresAt))
                """
        )
        try enqueue(mail)
    }

    func voidTokens(userID: UUID, purpose: EmailToken.Purpose, now: Date) throws {
        try run(
            """
                UPDATE email_tokens SET used_at = \(now)
                WHERE user_id = \(userID.databaseText) AND purpose = \(purpose.rawValue) AND used_at IS NULL
                """
        )
    }

    func usableTokenOwner(_ hash: Data, purpose: EmailToken.Purpose, now: Date) throws -> User? {
        try row(
            """
            SELECT u.* FROM email_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = \(hash) AND t.purpose = \(purpose.rawValue) AND t.used_at IS NULL AND t.expires_at > \(now)
              AND u.deleted_at IS NULL
            """
        ).map { User(row: $0) }
    }

    func enqueue(_ mail: SealedMail) throws {
        try run(
            """
                INSERT INTO mail_outbox (id, recipient, subject, text_body, html_body, sealed_body, message_id, created_at, next_attempt_at)
                VALUES (\(mail.id.databaseText), \(mail.to), \(mail.subject), '', '', \(mail.sealedBody), \(mail.messageID),
                        \(mail.createdAt), \(mail.createdAt))
                """
        )
    }
}
