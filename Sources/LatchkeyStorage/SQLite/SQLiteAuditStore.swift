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

    /// Only the filters given make the WHERE clause: SQLite picks an index by the clause's shape, and `? IS NULL OR …`
    /// would make it scan the table.
    func events(_ filter: AuditFilter, limit: Int, after: UUID?) async throws -> [AuditEvent]? {
        try await writer.read { db in
            var conditions: [SQL] = []
            if let after {
                guard let seq: Int64 = try db.row("SELECT seq FROM audit_events WHERE id = \(after.databaseText)")?["seq"] else { return nil }
                conditions.append("seq < \(seq)")
            }
            if let userID = filter.userID { conditions.append("user_id = \(userID.databaseText)") }
            if let type = filter.type { conditions.append("type = \(type.rawValue)") }
            if let since = filter.since { conditions.append("at >= \(since)") }
            let matching: SQL = conditions.isEmpty ? "" : "WHERE \(conditions.joined(separator: " AND "))"
            return try db.rows("SELECT * FROM audit_events \(matching) ORDER BY seq DESC LIMIT \(limit)").map(AuditEvent.init(row:))
        }
    }

    func deleteOlder(than before: Date, limit: Int) async throws -> Int {
        try await writer.write { db in
            try db.run("DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < \(before) LIMIT \(limit))")
            return db.changesCount
        }
    }
}
