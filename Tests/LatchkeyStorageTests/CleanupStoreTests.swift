import Foundation
import LatchkeyCore
import Testing

// MARK: - What cleanup deletes, store by store

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func deleteEndedRemovesEndedSessionsWithTheirRefreshTokensInBatches(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let live = try await store.startSession(for: user, at: now, lifetime: 86400)
            var expired: [Session] = []
            for _ in 0..<3 { expired.append(try await store.startSession(for: user, at: now, lifetime: 10).session) }
            let revoked = try await store.startSession(for: user, at: now, lifetime: 86400).session
            _ = try await store.sessions.revokeSession(id: revoked.id, userID: user.id, now: now.plus(20))
            let recentlyRevoked = try await store.startSession(for: user, at: now, lifetime: 86400).session
            _ = try await store.sessions.revokeSession(id: recentlyRevoked.id, userID: user.id, now: now.plus(100))
            // A rotated chain: every token of the session goes with it.
            let rotated = try await store.startSession(for: user, at: now, lifetime: 10)
            _ = try await store.sessions.rotateRefreshToken(.of(rotated.refreshToken, now: now.plus(1), lifetime: 10))

            let cutoff = now.plus(50)
            #expect(try await store.sessions.deleteEnded(before: cutoff, limit: 3) == 3)
            #expect(try await store.sessions.deleteEnded(before: cutoff, limit: 3) == 2)
            #expect(try await store.sessions.deleteEnded(before: cutoff, limit: 3) == 0)
            let left = Set(try await store.rows("SELECT id FROM sessions").compactMap { $0["id"] }.map { $0.lowercased() })
            #expect(left == Set([live.session.id, recentlyRevoked.id].map { $0.uuidString.lowercased() }))
            let tokens = try await store.rows("SELECT session_id FROM refresh_tokens").compactMap { $0["session_id"]?.lowercased() }
            #expect(Set(tokens).isSubset(of: left) && tokens.count == 2)
            #expect(try await store.sessions.activeUser(sessionID: live.session.id, userID: user.id, now: now) == user)
        }
    }

    @Test(arguments: Backend.available)
    func deleteSpentEmailTokensKeepsUsableOnes(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            // Another account's: verifying an email uses up every verification token of that account.
            let usable = EmailToken.make(userID: try await store.insertUser(now: now).id, purpose: .verifyEmail, createdAt: now, lifetime: 3600)
            let expired = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now, lifetime: 10)
            let used = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now, lifetime: 3600)
            for token in [usable, expired, used] { try await store.emailTokens.issue(token, mail: .make(to: user.email, createdAt: now)) }
            #expect(try await store.emailTokens.verifyEmail(tokenHash: used.hash, now: now.plus(1)) != nil)

            #expect(try await store.emailTokens.deleteSpent(now: now.plus(20), limit: 1) == 1)
            #expect(try await store.emailTokens.deleteSpent(now: now.plus(20), limit: 10) == 1)
            #expect(try await store.emailTokens.deleteSpent(now: now.plus(20), limit: 10) == 0)
            #expect(try await store.emailTokens.owner(of: usable.hash, purpose: .verifyEmail, now: now.plus(20)) != nil)
        }
    }

    /// Two cleanups at once (two instances) delete every spent row once between them and fail nothing.
    @Test(arguments: Backend.available)
    func concurrentCleanupsShareTheWork(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            for _ in 0..<40 { _ = try await store.startSession(for: user, at: now, lifetime: 1) }
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var deleted = 0
                        while true {
                            let batch = try await store.sessions.deleteEnded(before: now.plus(100), limit: 5)
                            deleted += batch
                            if batch == 0 { return deleted }
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(counts == 40)
            #expect(try await store.rows("SELECT id FROM sessions").isEmpty)
        }
    }

    /// Statistics taken while the database was young do not outlive its growth: by them, a refresh scans every token.
    @Test func cleanupRefreshesStatisticsThatHaveDrifted() async throws {
        try await TestStore.with(.sqlite) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let token = try await store.startSession(for: user, at: now).refreshToken
            _ = try await store.startSession(for: user, at: now)
            try await store.execute("ANALYZE")
            try await store.execute(
                """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
                INSERT INTO refresh_tokens (token_hash, session_id, created_at)
                SELECT randomblob(38), (SELECT session_id FROM refresh_tokens LIMIT 1), '2026-01-01 00:00:00.000' FROM n
                """
            )
            // The writer plans a refresh by the two-token statistics.
            _ = try await store.sessions.rotateRefreshToken(.of(token, now: now.plus(1)))
            try await Cleanup(database: store.database, mailRetention: 86400, auditRetention: 86400).run(now: now, logger: TestStore.logger)
            // The first number is the rows counted (estimated, with `analysis_limit`).
            let stat = try await store.rows("SELECT stat FROM sqlite_stat1 WHERE idx = 'sqlite_autoindex_refresh_tokens_1'").first?["stat"] ?? ""
            #expect((stat.split(separator: " ").first.flatMap { Int($0) } ?? 0) > 1000, "\(stat)")
        }
    }
}
