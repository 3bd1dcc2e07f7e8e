import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresEmailTokenStore: EmailTokenStore {
    let executor: PostgresExecutor

    func issue(_ token: EmailToken, mail: SealedMail) async throws {
        try await executor.transaction { connection in try await connection.issue(token, mail: mail, logger: executor.logger) }
    }

    func owner(of tokenHash: Data, purpose: EmailToken.Purpose, now: Date) async throws -> User? {
        try await executor.transaction { connection in
            try await connection.usableTokenOwner(tokenHash, purpose: purpose, now: now, lock: false, logger: executor.logger)
        }
    }

    func verifyEmail(tokenHash: Data, now: Date) async throws -> User? {
        let logger = executor.logger
        return try await executor.transaction { connection in
            guard let user = try await connection.usableTokenOwner(tokenHash, purpose: .verifyEmail, now: now, lock: true, logger: logger) else {
                return nil
            }
            try await connection.voidTokens(userID: user.id, purpose: .verifyEmail, now: now, logger: logger)
            return try await connection.rows(
                "UPDATE users SET email_verified = true, updated_at = \(now) WHERE id = \(user.id) RETURNING *",
                logger: logger
            ).first.map { try User(row: $0) }
        }
    }

    func resetPassword(tokenHash: Data, passwordHash: String, notice: SealedMail, now: Date) async throws -> Bool {
        let logger = executor.logger
        return try await executor.transaction { connection in
            guard let user = try await connection.usableTokenOwner(tokenHash, purpose: .resetPassword, now: now, lock: true, logger: logger) else {
                return false
            }
            try await connection.setPassword(userID: user.id, passwordHash: passwordHash, keepSessionID: nil, notice: notice, now: now, logger: logger)
            return true
        }
    }
}

extension PostgresConnection {
    /// Stores a token and queues its mail; a new reset token voids the older ones.
    func issue(_ token: EmailToken, mail: SealedMail, logger: Logger) async throws {
        if token.purpose == .resetPassword { try await voidTokens(userID: token.userID, purpose: .resetPassword, now: token.createdAt, logger: logger) }
        _ = try await rows(
            """
            INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at)
            VALUES (\(token.hash), \(token.userID), \(token.purpose.rawValue), \(token.createdAt), \(token.expiresAt))
            """,
            logger: logger
        )
        try await enqueue(mail, logger: logger)
    }

    func voidTokens(userID: UUID, purpose: EmailToken.Purpose, now: Date, logger: Logger) async throws {
        _ = try await rows(
            "UPDATE email_tokens SET used_at = \(now) WHERE user_id = \(userID) AND purpose = \(purpose.rawValue) AND used_at IS NULL",
            logger: logger
        )
    }

    /// With `lock`, the token row stays locked until the transaction ends, so a token is used once even by concurrent requests.
    func usableTokenOwner(_ hash: Data, purpose: EmailToken.Purpose, now: Date, lock: Bool, logger: Logger) async throws -> User? {
        let query: PostgresQuery = try """
            SELECT u.* FROM email_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = \(hash) AND t.purpose = \(purpose.rawValue) AND t.used_at IS NULL AND t.expires_at > \(now)
              AND u.deleted_at IS NULL
            \(unescaped: lock ? "FOR UPDATE OF t" : "")
            """
        return try await rows(query, logger: logger).first.map { try User(row: $0) }
    }

    func enqueue(_ mail: SealedMail, logger: Logger) async throws {
        _ = try await rows(
            """
            INSERT INTO mail_outbox (id, recipient, subject, text_body, html_body, sealed_body, message_id, created_at, next_attempt_at)
            VALUES (\(mail.id), \(mail.to), \(mail.subject), '', '', \(mail.sealedBody), \(mail.messageID), \(mail.createdAt), \(mail.createdAt))
            """,
            logger: logger
        )
    }
}

struct PostgresOutboxStore: OutboxStore {
    let executor: PostgresExecutor

    /// `FOR UPDATE SKIP LOCKED` plus the lease: two instances never claim the same mail.
    func claimDueMails(now: Date, leaseUntil: Date, limit: Int) async throws -> [QueuedMail] {
        try await executor.rows(
            """
            UPDATE mail_outbox SET claimed_until = \(leaseUntil)
            WHERE id IN (
                SELECT id FROM mail_outbox
                WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= \(now)
                  AND (claimed_until IS NULL OR claimed_until <= \(now))
                ORDER BY next_attempt_at LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            )
            RETURNING *
            """
        ).map { row in
            QueuedMail(
                mail: SealedMail(
                    id: try row.value("id"),
                    to: try row.value("recipient"),
                    subject: try row.value("subject"),
                    messageID: try row.value("message_id"),
                    createdAt: try row.value("created_at"),
                    body: try row.value("sealed_body", as: Data?.self).map { .sealed($0) }
                        ?? .plain(text: try row.value("text_body"), html: try row.value("html_body"))
                ),
                attempts: try row.value("attempts")
            )
        }
    }

    func markSent(_ id: UUID, now: Date) async throws {
        try await executor.execute(
            """
            UPDATE mail_outbox SET sent_at = \(now), attempts = attempts + 1, claimed_until = NULL, text_body = '', html_body = '',
                   sealed_body = NULL
            WHERE id = \(id)
            """
        )
    }

    func markRetry(_ id: UUID, nextAttemptAt: Date, error: String) async throws {
        try await executor.execute(
            """
            UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = \(nextAttemptAt), claimed_until = NULL, last_error = \(error)
            WHERE id = \(id)
            """
        )
    }

    func markFailed(_ id: UUID, now: Date, error: String) async throws {
        try await executor.execute(
            """
            UPDATE mail_outbox SET attempts = attempts + 1, failed_at = \(now), claimed_until = NULL, last_error = \(error),
                   text_body = '', html_body = '', sealed_body = NULL
            WHERE id = \(id)
            """
        )
    }

    func purge(before: Date) async throws -> Int {
        try await executor.rows("DELETE FROM mail_outbox WHERE coalesce(sent_at, failed_at) < \(before) RETURNING id").count
    }
}
