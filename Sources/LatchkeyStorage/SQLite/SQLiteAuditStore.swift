import Foundation
import GRDB
import LatchkeyCore

struct SQLiteAuditStore: AuditStore {
    let writer: any DatabaseWriter

    func record(_ events: [AuditEvent]) async throws {
        try await writer.write { db in
            for event in events { try db.record(event) }
        }
    }

    func events(_ filter: AuditFilter, limit: Int, after: UUID?) async throws -> [AuditEvent] {
        try await writer.read { db in
            try db.rows(
                """
                SELECT * FROM audit_events
                WHERE (\(filter.userID?.databaseText) IS NULL OR user_id = \(filter.userID?.databaseText))
                  AND (\(filter.type?.rawValue) IS NULL OR type = \(filter.type?.rawValue))
                  AND (\(filter.since) IS NULL OR at >= \(filter.since))
                  AND (\(after?.databaseText) IS NULL OR seq < (SELECT seq FROM audit_events WHERE id = \(after?.databaseText)))
                ORDER BY seq DESC LIMIT \(limit)
                """
            ).map(AuditEvent.init(row:))
        }
    }

    func deleteOlder(than before: Date, limit: Int) async throws -> Int {
        try await writer.write { db in
            try db.run("DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < \(before) LIMIT \(limit))")
            return db.changesCount
        }
    }
}
