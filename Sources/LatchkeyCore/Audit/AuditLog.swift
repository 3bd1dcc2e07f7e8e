import Configuration
import Foundation

/// One page of audit events, newest first; `nextCursor` continues after it.
public struct AuditPage: Sendable {
    public var events: [AuditEvent]
    public var nextCursor: String?
}

/// Reading the audit log (`GET /admin/audit`, `latchkey audit`). The stores write it, each event in the transaction
/// of its change; `Cleanup` deletes events past the retention.
///
/// Reads `auditRetention` (a duration, default 90d) under `latchkey.`.
public struct AuditLog: Sendable {
    let store: any AuditStore
    /// Seconds events are kept.
    public let retention: Int

    public init(store: any AuditStore, retention: Int) {
        self.store = store
        self.retention = retention
    }

    /// `LATCHKEY_AUDIT_RETENTION`.
    public static func retention(reader: ConfigReader) throws -> Int {
        try reader.seconds("auditRetention", default: 90 * 86400)
    }

    /// The start of a `since`: an RFC 3339 date-time (`2026-12-01T00:00:00Z`, fractions of a second allowed), or a
    /// duration back from `now` (`24h`, `7d`, `90m`, seconds). Nil for anything else.
    public static func start(_ since: String, now: Date = Date()) -> Date? {
        if let seconds = Duration.seconds(parsing: since) { return now.addingTimeInterval(-Double(seconds)) }
        return (try? Date(since, strategy: .iso8601)) ?? (try? Date(since, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    /// A page of at most `limit` events matching `filter`, after the one `cursor` (a `nextCursor`) names. Throws a
    /// validation error for a cursor this server did not hand out.
    public func events(_ filter: AuditFilter, limit: Int, cursor: String?) async throws -> AuditPage {
        let found = try await store.events(filter, limit: limit + 1, after: try PageCursor.after(cursor))
        let (page, next) = PageCursor.page(found, limit: limit, id: \.id)
        return AuditPage(events: page, nextCursor: next)
    }
}
