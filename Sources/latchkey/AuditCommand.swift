import ArgumentParser
import Foundation
import LatchkeyAPI
import LatchkeyCore
import LatchkeyServer

/// `latchkey audit`: the audit log, newest first, through the same service as `GET /admin/audit`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show audit events, newest first.",
        discussion: "latchkey audit --email ada@example.com --type login.failed --since 24h"
    )

    @OptionGroup var options: CommonOptions
    @Flag(help: "One JSON object per line (the admin API's AuditEvent) instead of a table.") var json = false
    @Option(help: "Only events about this account.") var email: String?
    @Option(help: "Only events of this type, such as login.failed.") var type: String?
    @Option(help: "Only events since then: a duration back from now (24h, 7d) or a date-time (2026-12-01T00:00:00Z).") var since: String?
    @Option(help: "At most this many events (1 to 10000).") var limit = 100

    func run() async throws {
        // Checked before the database is opened: a typo never creates one.
        let checked = try await options.refusing { try filter() }
        try await options.withServices { [self] services in
            var filter = checked
            if let email { filter.userID = try await services.summary(email: email).user.id }
            var events: [AuditEvent] = []
            var cursor: String?
            repeat {
                let page = try await services.audit.events(filter, limit: min(200, limit - events.count), cursor: cursor)
                events += page.events
                cursor = page.nextCursor
            } while cursor != nil && events.count < limit
            print(events)
        }
    }

    private func filter() throws -> AuditFilter {
        var filter = AuditFilter()
        if let type {
            guard let kind = AuditEvent.Kind.all.first(where: { $0.rawValue == type }) else {
                throw AuthError.validation(field: "--type", "must be one of \(AuditEvent.Kind.all.map(\.rawValue).joined(separator: ", "))")
            }
            filter.type = kind
        }
        if let since {
            guard let start = AuditLog.start(since) else {
                throw AuthError.validation(field: "--since", "must be a duration such as 24h or 7d, or a date-time such as 2026-12-01T00:00:00Z")
            }
            filter.since = start
        }
        guard (1...10000).contains(limit) else { throw AuthError.validation(field: "--limit", "must be from 1 to 10000") }
        return filter
    }

    private func print(_ events: [AuditEvent]) {
        if json { return JSONLines.print(events.map(\.response)) }
        let dates = ISO8601DateFormatter()
        Table.print(
            header: ["AT", "TYPE", "USER", "SESSION", "IP", "DETAILS"],
            rows: events.map { event in
                [
                    dates.string(from: event.at), event.type.rawValue, event.userID?.uuidString.lowercased() ?? "-",
                    event.sessionID?.uuidString.lowercased() ?? "-", event.ip ?? "-",
                    event.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                ]
            }
        )
        if events.isEmpty { Swift.print("(no events)") }
    }
}
