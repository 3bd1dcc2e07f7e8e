import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresEmailTokenStore: EmailTokenStore {
    let executor: PostgresExecutor

    func issue(_ token: EmailToken, mail: SealedMail, audit: AuditEvent?) async throws {
        try await executor.transaction { connection in
            try await connection.issue(token, mail: mail, logger: executor.logger)
            try await connection.record(audit, logger: executor.logger)
        }
    }

    func owner(of tokenHash: Data, purpose: EmailToken.Purpose, now: Date) async throws -> User? {
        try await executor.transaction { connection in
            try await connection.usableTokenOwner(tokenHash, purpose: purpose, now: now, lock: false, logger: executor.logger)
        }
    }

    func verifyEmail(tokenHash: Data, now: Date, audit: AuditEvent) async throws -> User? {
        let logger = executor.logger
        return try await executor.transaction { connection in
            guard let user = try await connection.usableTokenOwner(tokenHash, purpose: .verifyEmail, now: now, lock: true, logger: logger) else {
                return nil
            }
            try await connection.voidTokens(userID: user.id, purpose: .verifyEmail, now: now, logger: logger)
            try await connection.record(audit.about(userID: user.id), logger: logger)
            return try await connection.rows(
                "UPDATE users SET email_verified = true, updated_at = \(now) WHERE id = \(user.id) RETURNING *",
                logger: logger
            ).first.map { try User(row: $0) }
        }
    }

    func resetPassword(tokenHash: Data, passwordHash: String, notice: SealedMail, now: Date, audit: AuditEvent) async throws -> Bool {
        let logger = executor.logger
        return try await executor.transaction { connection in
            guard let user = try await connection.usableTokenOwner(tokenHash, purpose: .resetPassword, now: now, lock: true, logger: logger) else {
                return false
            }
            try await connection.setPassword(
                userID: user.id,
                passwordHash: passwordHash,
                keepSessionID: nil,
                notice: notice,
                now: now,
                logger: logger
            )
            try await connection.record(audit.about(userID: user.id), logger: logger)
            return true
        }
    }

    func deleteSpent(now: Date, limit: Int) async throws -> Int {
        try await executor.rows(
            """
            DELETE FROM email_tokens WHERE token_hash IN (
                SELECT token_hash FROM email_tokens WHERE used_at IS NOT NULL OR expires_at < \(now) LIMIT \(limit) FOR UPDATE SKIP LOCKED
            )
            RETURNING 1
            """
        ).count
    }
}
