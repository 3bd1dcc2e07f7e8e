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

    /// How far back a retention or a `since` may reach: a century. Dates far beyond it cannot be stored.
    static let longestLookBack = 100 * 365 * 86400

    /// `LATCHKEY_AUDIT_RETENTION`, at most a century.
    public static func retention(reader: ConfigReader) throws -> Int {
        let retention = try reader.seconds("auditRetention", default: 90 * 86400)
        guard retention <= longestLookBack else { throw ConfigurationError(key: "auditRetention", "must be at most 36500d") }
        return retention
    }

    /// The start of a `since`: an RFC 3339 date-time (`2026-12-01T00:00:00Z`, fractions of a second allowed), or a
    /// duration back from `now` with its unit (`24h`, `7d`, `90m`, `30s`), at most a century. Nil for anything else, a
    /// bare number too (seconds, or a Unix time?).
    public static func start(_ since: String, now: Date = Date()) -> Date? {
        guard !since.allSatisfy(\.isNumber) else { return nil }
        if let seconds = Duration.seconds(parsing: since) {
            return seconds <= longestLookBack ? now.addingTimeInterval(-Double(seconds)) : nil
        }
        return (try? Date(since, strategy: .iso8601)) ?? (try? Date(since, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    /// A page of at most `limit` events matching `filter`, after the one `cursor` (a `nextCursor`) names. Throws a
    /// validation error for a cursor this server did not hand out, or whose event has gone past the retention.
    public func events(_ filter: AuditFilter, limit: Int, cursor: String?) async throws -> AuditPage {
        guard let found = try await store.events(filter, limit: limit + 1, after: try PageCursor.after(cursor)) else {
            throw PageCursor.unknown
        }
        let (page, next) = PageCursor.page(found, limit: limit, id: \.id)
        return AuditPage(events: page, nextCursor: next)
    }
}
