import Foundation
import LatchkeyCore
import PostgresNIO

struct PostgresAuditStore: AuditStore {
    let executor: PostgresExecutor

    func record(_ events: [AuditEvent]) async throws {
        try await executor.transaction { connection in
            for event in events { try await connection.record(event, logger: executor.logger) }
        }
    }

    /// PostgreSQL plans each such statement with its values, so the filters not given drop out of the plan.
    func events(_ filter: AuditFilter, limit: Int, after: UUID?) async throws -> [AuditEvent]? {
        var before = Int64.max
        if let after {
            guard let seq = try await executor.rows("SELECT seq FROM audit_events WHERE id = \(after)").first else { return nil }
            before = try seq.value("seq")
        }
        return try await executor.rows(
            """
            SELECT * FROM audit_events
            WHERE seq < \(before)
              AND (\(filter.userID)::uuid IS NULL OR user_id = \(filter.userID))
              AND (\(filter.type?.rawValue)::text IS NULL OR type = \(filter.type?.rawValue))
              AND (\(filter.since)::timestamptz IS NULL OR at >= \(filter.since))
            ORDER BY seq DESC LIMIT \(limit)
            """
        ).map { try AuditEvent(row: $0) }
    }

    /// The batch is locked, skipping rows another instance is deleting.
    func deleteOlder(than before: Date, limit: Int) async throws -> Int {
        try await executor.rows(
            """
            DELETE FROM audit_events WHERE id IN (
                SELECT id FROM audit_events WHERE at < \(before) LIMIT \(limit) FOR UPDATE SKIP LOCKED
            )
            RETURNING 1
            """
        ).count
    }
}
