import Foundation
import GRDB
import LatchkeyCore

// Statements that several stores run inside their own write transaction. SQLite has one writer at a time,
// so reading and then writing inside one `writer.write` is race-free, across processes too.

extension GRDB.Database {
    /// One row of a query whose interpolations are bound as parameters. Statements are prepared once per connection.
    func row(_ sql: SQL) throws -> Row? {
        try SQLRequest<Row>(literal: sql, cached: true).fetchOne(self)
    }

    func rows(_ sql: SQL) throws -> [Row] {
        try SQLRequest<Row>(literal: sql, cached: true).fetchAll(self)
    }

    /// Executes one statement whose interpolations are bound as parameters, prepared once per connection.
    func run(_ sql: SQL) throws {
        try cachedStatement(literal: sql).execute()
    }

    /// Executes one statement written out with `?` placeholders, bound to `arguments`, prepared once per connection:
    /// for the statements of every refresh, where building the SQL from interpolations each time showed.
    func run(sql: String, _ arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// One row of a query written out with `?` placeholders, prepared once per connection.
    func row(sql: String, _ arguments: StatementArguments) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    /// Returns how many challenges it deleted.
    func deleteEnded(_ table: ChallengeTable, before: Date, limit: Int) throws -> Int {
        try run(sql: table.deleteEndedSQL(postgres: false), [before, limit])
        return changesCount
    }

    func user(id: UUID) throws -> User? {
        try row(sql: "SELECT * FROM users WHERE id = ?", [id.databaseText]).map { User(row: $0) }
    }

    /// Revokes the user's live sessions, all but `keep`.
    func revokeSessions(userID: UUID, except keep: UUID? = nil, now: Date) throws {
        try run(
            """
            UPDATE sessions SET revoked_at = \(now)
            WHERE user_id = \(userID.databaseText) AND revoked_at IS NULL AND id IS NOT \(keep?.databaseText)
            """
        )
    }

    /// Sets the password, revokes the user's sessions but `keepSessionID`, voids pending reset tokens and sign-ins
    /// waiting for their second factor, and queues the notice: everything a password change means.
    func setPassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date) throws {
        try run("UPDATE users SET password_hash = \(passwordHash), updated_at = \(now) WHERE id = \(userID.databaseText)")
        try revokeSessions(userID: userID, except: keepSessionID, now: now)
        try voidTokens(userID: userID, purpose: .resetPassword, now: now)
        try run("DELETE FROM mfa_challenges WHERE user_id = \(userID.databaseText)")
        try enqueue(notice)
    }

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
              AND u.deleted_at IS NULL AND u.disabled_at IS NULL
            """
        ).map { User(row: $0) }
    }

    /// Appends to the audit log, inside the transaction of the change the event records.
    func record(_ event: AuditEvent?) throws {
        guard let event else { return }
        try run(
            sql: """
                INSERT INTO audit_events (id, at, type, user_id, session_id, ip, user_agent, request_id, details)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            [
                event.id.databaseText, event.at, event.type.rawValue, event.userID?.databaseText, event.sessionID?.databaseText, event.ip,
                event.userAgent, event.requestID, event.detailsJSON,
            ]
        )
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
