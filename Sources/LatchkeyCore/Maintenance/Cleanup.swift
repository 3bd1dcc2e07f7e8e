import Foundation
import Logging

/// What one cleanup run deleted.
public struct CleanupReport: Sendable, Equatable, Codable {
    public var sessions = 0
    public var emailTokens = 0
    public var mails = 0
    public var rateLimitCounters = 0
    public var auditEvents = 0
    public var mfaChallenges = 0
    public var passkeyChallenges = 0

    public init() {}

    public var total: Int { sessions + emailTokens + mails + rateLimitCounters + auditEvents + mfaChallenges + passkeyChallenges }
}

/// Deletes what is no longer needed, in batches of at most `batchSize` rows so that no statement holds locks for
/// long: sessions that ended (expired or revoked) more than `sessionMemory` ago with their refresh tokens, used or
/// expired emailed tokens, sent and failed mails and audit events past their retention, spent rate-limit counters, and
/// sign-in and passkey challenges a day after they ended.
/// Several instances may run it at once: each batch deletes rows no other batch holds. Then the database refreshes its
/// planner statistics where they have drifted.
public struct Cleanup: Sendable {
    let database: any StorageBackend
    /// Seconds that sent and failed mails are kept (`LATCHKEY_MAIL_RETENTION`).
    let mailRetention: Int
    /// Seconds that audit events are kept (`LATCHKEY_AUDIT_RETENTION`).
    let auditRetention: Int
    static let batchSize = 1000
    /// Ended sessions are kept a day, so that a late refresh still finds them (and is told the session ended).
    static let sessionMemory: TimeInterval = 86400

    public init(database: any StorageBackend, mailRetention: Int, auditRetention: Int) {
        self.database = database
        self.mailRetention = mailRetention
        self.auditRetention = auditRetention
    }

    /// Runs until nothing is left to delete.
    @discardableResult
    public func run(now: Date = Date(), logger: Logger) async throws -> CleanupReport {
        var report = CleanupReport()
        report.sessions = try await batches {
            try await database.sessions.deleteEnded(before: now.addingTimeInterval(-Self.sessionMemory), limit: $0)
        }
        report.emailTokens = try await batches { try await database.emailTokens.deleteSpent(now: now, limit: $0) }
        report.mails = try await batches { try await database.outbox.purge(before: now.addingTimeInterval(-Double(mailRetention)), limit: $0) }
        report.rateLimitCounters = try await batches {
            try await database.rateLimits.deleteSpent(now: now, forgetBefore: now.addingTimeInterval(-LoginThrottle.memory), limit: $0)
        }
        report.auditEvents = try await batches {
            try await database.audit.deleteOlder(than: now.addingTimeInterval(-Double(auditRetention)), limit: $0)
        }
        report.mfaChallenges = try await batches {
            try await database.mfa.deleteEndedChallenges(before: now.addingTimeInterval(-Self.sessionMemory), limit: $0)
        }
        report.passkeyChallenges = try await batches {
            try await database.passkeys.deleteEndedChallenges(before: now.addingTimeInterval(-Self.sessionMemory), limit: $0)
        }
        try await database.refreshStatistics()
        if report.total > 0 {
            logger.info(
                "cleanup",
                metadata: [
                    "event": "cleanup", "sessions": "\(report.sessions)", "emailTokens": "\(report.emailTokens)", "mails": "\(report.mails)",
                    "rateLimitCounters": "\(report.rateLimitCounters)", "auditEvents": "\(report.auditEvents)",
                    "mfaChallenges": "\(report.mfaChallenges)", "passkeyChallenges": "\(report.passkeyChallenges)",
                ]
            )
        }
        return report
    }

    /// Deletes batch after batch until one comes back less than half full.
    private func batches(_ delete: (Int) async throws -> Int) async throws -> Int {
        var deleted = 0
        while !Task.isCancelled {
            let batch = try await delete(Self.batchSize)
            deleted += batch
            if batch < Self.batchSize / 2 { break }
        }
        return deleted
    }
}
