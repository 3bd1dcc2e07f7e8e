import Foundation
import LatchkeyCore
import PostgresNIO

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
        ).map { try QueuedMail(row: $0) }
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

    func purge(before: Date, limit: Int) async throws -> Int {
        try await executor.rows(
            """
            DELETE FROM mail_outbox WHERE id IN (
                SELECT id FROM mail_outbox WHERE coalesce(sent_at, failed_at) < \(before) LIMIT \(limit) FOR UPDATE SKIP LOCKED
            )
            RETURNING id
            """
        ).count
    }

    func pendingCount() async throws -> Int {
        let rows = try await executor.rows("SELECT count(*)::integer AS pending FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL")
        return try rows.first?.value("pending") ?? 0
    }
}
