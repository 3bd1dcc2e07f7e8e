import Foundation
import GRDB
import LatchkeyCore

struct SQLiteOutboxStore: OutboxStore {
    let writer: any DatabaseWriter

    func claimDueMails(now: Date, leaseUntil: Date, limit: Int) async throws -> [QueuedMail] {
        try await writer.write { db in
            let rows = try db.rows(
                """
                SELECT * FROM mail_outbox
                WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= \(now)
                  AND (claimed_until IS NULL OR claimed_until <= \(now))
                ORDER BY next_attempt_at LIMIT \(limit)
                """
            )
            for row in rows {
                try db.run("UPDATE mail_outbox SET claimed_until = \(leaseUntil) WHERE id = \(row["id"] as String)")
            }
            return rows.map(QueuedMail.init(row:))
        }
    }

    func markSent(_ id: UUID, now: Date) async throws {
        try await writer.write { db in
            try db.run(
                """
                UPDATE mail_outbox SET sent_at = \(now), attempts = attempts + 1, claimed_until = NULL, text_body = '', html_body = '',
                       sealed_body = NULL
                WHERE id = \(id.databaseText)
                """
            )
        }
    }

    func markRetry(_ id: UUID, nextAttemptAt: Date, error: String) async throws {
        try await writer.write { db in
            try db.run(
                """
                UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = \(nextAttemptAt), claimed_until = NULL,
                       last_error = \(error)
                WHERE id = \(id.databaseText)
                """
            )
        }
    }

    func markFailed(_ id: UUID, now: Date, error: String) async throws {
        try await writer.write { db in
            try db.run(
                """
                UPDATE mail_outbox SET attempts = attempts + 1, failed_at = \(now), claimed_until = NULL, last_error = \(error),
                       text_body = '', html_body = '', sealed_body = NULL
                WHERE id = \(id.databaseText)
                """
            )
        }
    }

    func purge(before: Date, limit: Int) async throws -> Int {
        try await writer.write { db in
            try db.run(
                "DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox WHERE coalesce(sent_at, failed_at) < \(before) LIMIT \(limit))"
            )
            return db.changesCount
        }
    }

    func pendingCount() async throws -> Int {
        try await writer.read { db in
            try db.row("SELECT count(*) AS pending FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL")?["pending"] ?? 0
        }
    }
}
