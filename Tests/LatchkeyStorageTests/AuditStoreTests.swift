import Foundation
import LatchkeyCore
import Testing

// MARK: - The audit log: written with its change or not at all, append-only, listed newest first

extension StoreConformanceTests {
    /// Each change writes its event in its own transaction: with everything the caller gave, about the session the
    /// store found; a change that does not happen (a replay, an unknown token, a taken email) writes none.
    @Test(arguments: Backend.available)
    func eventsAreWrittenOnlyWithTheirChange(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let session = Session.make(userID: user.id, createdAt: now)
            let login = AuditEvent(.loginSucceeded, by: .storeTests, at: now, userID: user.id, sessionID: session.id)
            let first = freshTokenHash()
            try await store.sessions.createSession(session, refreshTokenHash: first, maxLiveSessions: 10, clearingLoginFailures: nil, audit: login)

            let rotation = RefreshRotation.of(first, now: now.plus(1))
            _ = try await store.sessions.rotateRefreshToken(rotation)
            _ = try await store.sessions.rotateRefreshToken(rotation)  // a replay within the grace window
            _ = try await store.sessions.rotateRefreshToken(.of(freshTokenHash(), now: now.plus(1)))  // unknown
            _ = try await store.sessions.rotateRefreshToken(.of(first, now: now.plus(30)))  // reuse: the session is revoked
            try await store.sessions.revokeSession(
                refreshTokenHash: rotation.successorHash,
                now: now.plus(31),
                audit: .init(.logout, by: .storeTests, at: now.plus(31))
            )
            try await store.sessions.revokeSession(
                refreshTokenHash: freshTokenHash(),
                now: now.plus(32),
                audit: .init(.logout, by: .storeTests, at: now.plus(32))
            )
            let taken = User.make(email: user.email, now: now)
            await #expect(throws: AuthError.self) {
                try await store.users.insertUser(taken, verification: nil, audit: .init(.userRegistered, by: .storeTests, at: now, userID: taken.id))
            }

            let events = try await store.events(AuditFilter(userID: user.id))
            #expect(events.map(\.type) == [.tokenReuseDetected, .tokenRefreshed, .loginSucceeded])
            #expect(events.allSatisfy { $0.sessionID == session.id && $0.ip == "192.0.2.7" && $0.userAgent == "StoreTests/1.0" })
            #expect(events.allSatisfy { $0.requestID == "store-tests" })
            #expect(events.last == login)
            #expect(try await store.events(AuditFilter(userID: taken.id)).isEmpty)
        }
    }

    /// The event goes with the session or email token the store found, on every path that finds one.
    @Test(arguments: Backend.available)
    func eventsNameWhatTheStoreFound(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let started = try await store.startSession(for: user, at: now)
            try await store.sessions.revokeSession(
                refreshTokenHash: started.refreshToken,
                now: now.plus(1),
                audit: .init(.logout, by: .storeTests, at: now.plus(1))
            )
            let token = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now)
            try await store.emailTokens.issue(token, mail: .make(to: user.email, createdAt: now), audit: nil)
            _ = try await store.emailTokens.verifyEmail(
                tokenHash: token.hash,
                now: now.plus(2),
                audit: .init(.userEmailVerified, by: .storeTests, at: now.plus(2))
            )
            // Revoking a session that has ended already changes nothing, so records nothing.
            let again = try await store.sessions.revokeSession(
                id: started.session.id,
                userID: user.id,
                now: now.plus(3),
                audit: .init(.sessionRevoked, by: .storeTests, at: now.plus(3), userID: user.id)
            )
            #expect(again)

            let events = try await store.events(AuditFilter(userID: user.id))
            #expect(events.map(\.type) == [.userEmailVerified, .logout])
            #expect(events.last?.sessionID == started.session.id)
        }
    }

    @Test(arguments: Backend.available)
    func eventsArePagedNewestFirstAndFiltered(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = UUID()
            // Several events in the same second: listed in the order they were written, so pages neither skip nor repeat one.
            var written: [AuditEvent] = []
            for index in 0..<7 {
                let type: AuditEvent.Kind = index.isMultiple(of: 2) ? .loginFailed : .loginSucceeded
                written.append(
                    AuditEvent(type, by: .storeTests, at: now.plus(Double(index / 3)), userID: index < 6 ? user : nil, details: ["n": .int(index)])
                )
            }
            try await store.audit.record(written)

            var seen: [AuditEvent] = []
            var after: UUID?
            repeat {
                let page = try await store.events(AuditFilter(userID: user), limit: 4, after: after)
                seen += page
                after = page.count == 4 ? page.last?.id : nil
            } while after != nil
            #expect(seen.count == 6 && Set(seen.map(\.id)).count == 6)
            #expect(seen.map(\.at) == seen.map(\.at).sorted(by: >))
            #expect(Set(seen) == Set(written.prefix(6)))
            #expect(seen.first { $0.details["n"] == .int(0) } == written[0])

            let failed = try await store.events(AuditFilter(type: .loginFailed))
            #expect(failed.count == 4)
            let recent = try await store.events(AuditFilter(since: now.plus(1)))
            #expect(recent.count == 4)
            // A cursor naming no event (made up, or gone past the retention) is not an empty last page.
            #expect(try await store.audit.events(AuditFilter(), limit: 4, after: UUID()) == nil)
        }
    }

    /// Events are never changed, only deleted past their retention, in batches.
    @Test(arguments: Backend.available)
    func eventsAreAppendOnlyAndExpireInBatches(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let old = (0..<5).map { AuditEvent(.loginFailed, by: .storeTests, at: now.plus(Double($0))) }
            let kept = AuditEvent(.loginFailed, by: .storeTests, at: now.plus(100))
            try await store.audit.record(old + [kept])
            // The schema refuses the change (the side door does not report the error on every backend: its effect is checked).
            try? await store.execute("UPDATE audit_events SET type = 'login.succeeded'")
            #expect(try await store.rows("SELECT type FROM audit_events").map { $0["type"] } == Array(repeating: "login.failed", count: 6))

            #expect(try await store.audit.deleteOlder(than: now.plus(50), limit: 3) == 3)
            #expect(try await store.audit.deleteOlder(than: now.plus(50), limit: 3) == 2)
            #expect(try await store.audit.deleteOlder(than: now.plus(50), limit: 3) == 0)
            #expect(try await store.events(AuditFilter()) == [kept])
        }
    }

    /// Concurrent requests doing the same change (two instances, or a double click) record it once, on both backends.
    @Test(arguments: Backend.available)
    func concurrentSameChangesRecordOneEvent(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let reused = try await store.startSession(for: user, at: now)
            _ = try await store.sessions.rotateRefreshToken(.of(reused.refreshToken, now: now.plus(1)))
            let loggedOut = try await store.startSession(for: user, at: now)
            // Another account: a deleted account's tokens are refused before their reuse is looked at.
            let deleted = try await store.insertUser(now: now)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    // The spent token back after the grace window, a logout, an account deletion: eight times each.
                    group.addTask { _ = try await store.sessions.rotateRefreshToken(.of(reused.refreshToken, now: now.plus(60))) }
                    group.addTask {
                        let event = AuditEvent(.logout, by: .storeTests, at: now.plus(2))
                        try await store.sessions.revokeSession(refreshTokenHash: loggedOut.refreshToken, now: now.plus(2), audit: event)
                    }
                    group.addTask {
                        let event = AuditEvent(.userDeleted, by: .storeTests, at: now.plus(3), userID: deleted.id)
                        try await store.users.softDelete(userID: deleted.id, now: now.plus(3), audit: event)
                    }
                }
                try await group.waitForAll()
            }
            let types = try await store.events(AuditFilter(userID: user.id)).map(\.type.rawValue)
            #expect(types.sorted() == ["logout", "token.refreshed", "token.reuse_detected"])
            #expect(try await store.events(AuditFilter(userID: deleted.id)).map(\.type) == [.userDeleted])
        }
    }
}

extension TestStore {
    /// The events as the store lists them; the cursor must name an event.
    func events(_ filter: AuditFilter, limit: Int = 50, after: UUID? = nil) async throws -> [AuditEvent] {
        try #require(try await audit.events(filter, limit: limit, after: after))
    }
}
