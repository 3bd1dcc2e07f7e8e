import Foundation
import LatchkeyCore
import Testing

// MARK: - SessionStore: sessions (rotation has its own file)

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func activeUserAnswersForLiveSessionOfItsOwnerOnly(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let session = try await store.startSession(for: user, at: now, lifetime: 60).session

            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now) == user)
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: UUID(), now: now) == nil)
            #expect(try await store.sessions.activeUser(sessionID: UUID(), userID: user.id, now: now) == nil)
            // Live up to its expiry, not at it.
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now.plus(60)) == nil)
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now.plus(59)) == user)
        }
    }

    /// Asked once before each change, so that a backend remembering answers (SQLite's session cache) must notice them.
    @Test(arguments: Backend.available)
    func activeUserSeesRevocationAndProfileChanges(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let session = try await store.startSession(for: user, at: now).session
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now) == user)

            let renamed = try await store.users.updateName(userID: user.id, name: "Grace Hopper", now: now.plus(1))
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now.plus(1)) == renamed)

            #expect(try await store.sessions.revokeSession(id: session.id, userID: user.id, now: now.plus(2)))
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now.plus(2)) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func liveSessionsListNewestFirstAndPageAfterACursor(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            var created: [Session] = []
            for second in 0..<5 { created.append(try await store.startSession(for: user, at: now.plus(Double(second))).session) }
            // None of these may show up: revoked, expired, another user's.
            let revoked = try await store.startSession(for: user, at: now.plus(1)).session
            _ = try await store.sessions.revokeSession(id: revoked.id, userID: user.id, now: now.plus(2))
            _ = try await store.startSession(for: user, at: now.plus(2), lifetime: 5)
            _ = try await store.startSession(for: try await store.insertUser(now: now), at: now.plus(3))
            let newestFirst = Array(created.reversed())
            let listedAt = now.plus(10)

            #expect(try await store.sessions.liveSessions(userID: user.id, now: listedAt, limit: 10, after: nil) == newestFirst)
            var pages: [[UUID]] = []
            var cursor: UUID?
            repeat {
                let page = try await store.sessions.liveSessions(userID: user.id, now: listedAt, limit: 2, after: cursor).map(\.id)
                pages.append(page)
                cursor = page.last
            } while cursor != nil
            #expect(pages == [[newestFirst[0].id, newestFirst[1].id], [newestFirst[2].id, newestFirst[3].id], [newestFirst[4].id], []])
        }
    }

    @Test(arguments: Backend.available)
    func liveSessionsCreatedTogetherAreOrderedByIDAcrossPages(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            var created: [UUID] = []
            for _ in 0..<5 { created.append(try await store.startSession(for: user, at: now).session.id) }
            // Both backends order ids as their lower-case text (the byte order of a PostgreSQL uuid is the same).
            let expected = created.sorted { $0.uuidString.lowercased() > $1.uuidString.lowercased() }

            #expect(try await store.liveSessionIDs(of: user, at: now) == expected)
            let first = try await store.sessions.liveSessions(userID: user.id, now: now, limit: 3, after: nil).map(\.id)
            let rest = try await store.sessions.liveSessions(userID: user.id, now: now, limit: 3, after: first.last).map(\.id)
            #expect(first + rest == expected)
        }
    }

    @Test(arguments: Backend.available)
    func createSessionRevokesLeastRecentlyUsedSessionsPastTheCap(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let (first, firstToken) = try await store.startSession(for: user, at: now, maxLiveSessions: 3)
            let second = try await store.startSession(for: user, at: now.plus(1), maxLiveSessions: 3).session
            let third = try await store.startSession(for: user, at: now.plus(2), maxLiveSessions: 3).session
            // A refresh makes the oldest session the most recently used, so the second is now the least.
            #expect(try await store.sessions.rotateRefreshToken(.of(firstToken, now: now.plus(3))).kind == .rotated)

            let fourth = try await store.startSession(for: user, at: now.plus(4), maxLiveSessions: 3).session
            #expect(try await store.liveSessionIDs(of: user, at: now.plus(4)) == [fourth.id, third.id, first.id])
            #expect(try await store.sessions.activeUser(sessionID: second.id, userID: user.id, now: now.plus(4)) == nil)

            let only = try await store.startSession(for: user, at: now.plus(5), maxLiveSessions: 1).session
            #expect(try await store.liveSessionIDs(of: user, at: now.plus(5)) == [only.id])
        }
    }

    /// Expired and revoked sessions are not live, so they must not push a live one past the cap.
    @Test(arguments: Backend.available)
    func createSessionCapCountsOnlyLiveSessions(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            _ = try await store.startSession(for: user, at: now, lifetime: 1)
            let revoked = try await store.startSession(for: user, at: now).session
            _ = try await store.sessions.revokeSession(id: revoked.id, userID: user.id, now: now)
            let live = try await store.startSession(for: user, at: now.plus(1)).session
            let other = try await store.startSession(for: try await store.insertUser(now: now), at: now.plus(1)).session

            let new = try await store.startSession(for: user, at: now.plus(10), maxLiveSessions: 2).session
            #expect(try await store.liveSessionIDs(of: user, at: now.plus(10)) == [new.id, live.id])
            #expect(try await store.sessions.activeUser(sessionID: other.id, userID: other.userID, now: now.plus(10)) != nil)
        }
    }

    @Test(arguments: Backend.available)
    func revokeSessionByIDRevokesOnlyTheOwnersSession(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let intruder = try await store.insertUser(now: now)
            let session = try await store.startSession(for: user, at: now).session

            #expect(try await store.sessions.revokeSession(id: session.id, userID: intruder.id, now: now) == false)
            #expect(try await store.sessions.revokeSession(id: UUID(), userID: user.id, now: now) == false)
            #expect(try await store.liveSessionIDs(of: user, at: now) == [session.id])

            #expect(try await store.sessions.revokeSession(id: session.id, userID: user.id, now: now.plus(1)))
            #expect(try await store.liveSessionIDs(of: user, at: now.plus(1)).isEmpty)
            // Only a missing session answers false; a revoked one still exists.
            #expect(try await store.sessions.revokeSession(id: session.id, userID: user.id, now: now.plus(2)))
        }
    }

    @Test(arguments: Backend.available)
    func revokeSessionByRefreshTokenRevokesItsSessionWhateverTheTokensState(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let (rotatedSession, oldToken) = try await store.startSession(for: user, at: now)
            let (session, token) = try await store.startSession(for: user, at: now.plus(1))
            #expect(try await store.sessions.rotateRefreshToken(.of(oldToken, now: now.plus(2))).kind == .rotated)

            // A token already rotated away still names its session (logout with a stale token must end it).
            try await store.sessions.revokeSession(refreshTokenHash: oldToken, now: now.plus(3))
            #expect(try await store.liveSessionIDs(of: user, at: now.plus(3)) == [session.id])
            #expect(try await store.sessions.activeUser(sessionID: rotatedSession.id, userID: user.id, now: now.plus(3)) == nil)

            try await store.sessions.revokeSession(refreshTokenHash: freshTokenHash(), now: now.plus(3))
            #expect(try await store.liveSessionIDs(of: user, at: now.plus(3)) == [session.id])

            try await store.sessions.revokeSession(refreshTokenHash: token, now: now.plus(4))
            #expect(try await store.liveSessionIDs(of: user, at: now.plus(4)).isEmpty)
            try await store.sessions.revokeSession(refreshTokenHash: token, now: now.plus(5))  // already revoked: still fine
        }
    }

    @Test(arguments: Backend.available)
    func revokeAllSessionsRevokesEverySessionOfThatUserOnly(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let other = try await store.insertUser(now: now)
            for _ in 0..<3 { _ = try await store.startSession(for: user, at: now) }
            let kept = try await store.startSession(for: other, at: now).session

            try await store.sessions.revokeAllSessions(userID: user.id, now: now.plus(1))
            #expect(try await store.liveSessionIDs(of: user, at: now.plus(1)).isEmpty)
            #expect(try await store.liveSessionIDs(of: other, at: now.plus(1)) == [kept.id])
        }
    }
}
