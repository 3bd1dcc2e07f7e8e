import Foundation
import LatchkeyCore
import Testing

// MARK: - SessionStore.rotateRefreshToken: `RefreshRotation`'s rules end to end
//
// SQLite applies `RefreshRotation.decide` to what it read; PostgreSQL restates the `.rotate` case in SQL (token not
// rotated, session neither revoked nor expired, user not deleted). Every case below runs on both with the same
// expectations, so the SQL cannot drift from the Swift rule.

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func rotationSpendsTheTokenExtendsTheSessionAndMakesTheSuccessorLive(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let (session, token) = try await store.startSession(for: user, at: now, lifetime: 60)

            let rotation = RefreshRotation.of(token, now: now.plus(10), lifetime: 3600)
            let outcome = try await store.sessions.rotateRefreshToken(rotation)
            #expect(outcome.kind == .rotated)
            var extended = session
            extended.lastUsedAt = now.plus(10)
            extended.expiresAt = now.plus(3610)
            #expect(outcome.session == extended)
            #expect(outcome.user == user)
            // Stored, not only answered: the session outlives its first expiry.
            #expect(try await store.sessions.liveSessions(userID: user.id, now: now.plus(100), limit: 10, after: nil) == [extended])

            let next = try await store.sessions.rotateRefreshToken(.of(rotation.successorHash, now: now.plus(20)))
            #expect(next.kind == .rotated)
            #expect(next.session?.id == session.id)
        }
    }

    @Test(arguments: Backend.available)
    func replayWithinGraceReturnsTheSameSealedSuccessor(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let (session, token) = try await store.startSession(for: user, at: now)
            let first = RefreshRotation.of(token, now: now, grace: 10)
            #expect(try await store.sessions.rotateRefreshToken(first).kind == .rotated)

            for delay in [0.5, 9.0] {
                let replay = try await store.sessions.rotateRefreshToken(.of(token, now: now.plus(delay), grace: 10))
                #expect(replay.kind == .replayed)
                #expect(replay.replayedSuccessor == first.sealedSuccessor)
                #expect(replay.session?.id == session.id)
                #expect(replay.user == user)
            }
            // Replays wrote nothing: the successor is still the live token of a live session.
            #expect(try await store.sessions.rotateRefreshToken(.of(first.successorHash, now: now.plus(9.5))).kind == .rotated)
        }
    }

    @Test(arguments: Backend.available)
    func reuseAfterGraceRevokesTheSession(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let (session, token) = try await store.startSession(for: user, at: now)
            let first = RefreshRotation.of(token, now: now, grace: 10)
            #expect(try await store.sessions.rotateRefreshToken(first).kind == .rotated)

            #expect(try await store.sessions.rotateRefreshToken(.of(token, now: now.plus(11), grace: 10)).kind == .reused)
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now.plus(11)) == nil)
            #expect(try await store.sessions.rotateRefreshToken(.of(first.successorHash, now: now.plus(12))).kind == .invalid)
        }
    }

    @Test(arguments: Backend.available)
    func tokenTwoRotationsOldRevokesTheSessionEvenWithinGrace(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let (session, token) = try await store.startSession(for: user, at: now)
            let first = RefreshRotation.of(token, now: now, grace: 10)
            #expect(try await store.sessions.rotateRefreshToken(first).kind == .rotated)
            let second = RefreshRotation.of(first.successorHash, now: now.plus(1), grace: 10)
            #expect(try await store.sessions.rotateRefreshToken(second).kind == .rotated)

            #expect(try await store.sessions.rotateRefreshToken(.of(token, now: now.plus(2), grace: 10)).kind == .reused)
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now.plus(2)) == nil)
            #expect(try await store.sessions.rotateRefreshToken(.of(second.successorHash, now: now.plus(3))).kind == .invalid)
        }
    }

    @Test(arguments: Backend.available)
    func graceZeroTreatsEveryReplayAsReuse(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let (session, token) = try await store.startSession(for: user, at: now)
            #expect(try await store.sessions.rotateRefreshToken(.of(token, now: now, grace: 0)).kind == .rotated)

            #expect(try await store.sessions.rotateRefreshToken(.of(token, now: now, grace: 0)).kind == .reused)
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func expiredSessionMakesItsTokenInvalid(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let almost = try await store.startSession(for: user, at: now, lifetime: 60).refreshToken
            let expired = try await store.startSession(for: user, at: now, lifetime: 60).refreshToken

            // The same boundary as `Session.isLive`: live before `expiresAt`, not at it.
            #expect(try await store.sessions.rotateRefreshToken(.of(almost, now: now.plus(59.999))).kind == .rotated)
            #expect(try await store.sessions.rotateRefreshToken(.of(expired, now: now.plus(60))).kind == .invalid)
            #expect(try await store.sessions.rotateRefreshToken(.of(expired, now: now.plus(120))).kind == .invalid)
        }
    }

    @Test(arguments: Backend.available)
    func revokedSessionMakesItsTokensInvalidNotReused(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let (session, token) = try await store.startSession(for: user, at: now)
            let first = RefreshRotation.of(token, now: now)
            #expect(try await store.sessions.rotateRefreshToken(first).kind == .rotated)
            #expect(try await store.sessions.revokeSession(id: session.id, userID: user.id, now: now.plus(1)))

            #expect(try await store.sessions.rotateRefreshToken(.of(first.successorHash, now: now.plus(2))).kind == .invalid)
            #expect(try await store.sessions.rotateRefreshToken(.of(token, now: now.plus(2))).kind == .invalid)
            #expect(try await store.sessions.rotateRefreshToken(.of(token, now: now.plus(20))).kind == .invalid)
        }
    }

    @Test(arguments: Backend.available)
    func deletedAccountMakesItsTokenAccountDisabled(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let token = try await store.startSession(for: user, at: now).refreshToken
            try await store.users.softDelete(userID: user.id, now: now.plus(1))

            #expect(try await store.sessions.rotateRefreshToken(.of(token, now: now.plus(2))).kind == .accountDisabled)
        }
    }

    /// An account deleted by another process that did not revoke its sessions: the account check alone must refuse the
    /// rotation, and refusing must not spend the token.
    @Test(arguments: Backend.available)
    func accountDeletedWithLiveSessionIsDisabledAndKeepsItsToken(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let token = try await store.startSession(for: user, at: now).refreshToken
            let id = user.id.uuidString.lowercased()

            try await store.execute("UPDATE users SET deleted_at = updated_at WHERE id = '\(id)'")
            #expect(try await store.sessions.rotateRefreshToken(.of(token, now: now.plus(1))).kind == .accountDisabled)
            try await store.execute("UPDATE users SET deleted_at = NULL WHERE id = '\(id)'")
            #expect(try await store.sessions.rotateRefreshToken(.of(token, now: now.plus(2))).kind == .rotated)
        }
    }

    @Test(arguments: Backend.available)
    func unknownTokenIsInvalid(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            _ = try await store.startSession(for: try await store.insertUser(now: now), at: now)

            #expect(try await store.sessions.rotateRefreshToken(.of(freshTokenHash(), now: now)).kind == .invalid)
        }
    }

    /// Rotations that arrive together are written together (group commit on SQLite). One that fails, here because its
    /// successor's key is taken, must leave its token unspent, and must not fail or undo the rotations beside it.
    @Test(arguments: Backend.available)
    func aFailedRotationSpendsNothingAndFailsAlone(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let taken = try await store.startSession(for: user, at: now).refreshToken
            let doomed = try await store.startSession(for: user, at: now).refreshToken
            var others: [Data] = []
            for _ in 0..<8 { others.append(try await store.startSession(for: user, at: now).refreshToken) }

            var failing = RefreshRotation.of(doomed, now: now.plus(1))
            failing.successorHash = taken
            let rotations = others.map { RefreshRotation.of($0, now: now.plus(1)) }
            let sessions = store.sessions
            // All at once, so that they share a batch; the failing one first.
            let results = await withTaskGroup(of: (Int, Result<RefreshRotation.Outcome, any Error>).self) { group in
                for (index, rotation) in ([failing] + rotations).enumerated() {
                    group.addTask {
                        do { return (index, .success(try await sessions.rotateRefreshToken(rotation))) } catch { return (index, .failure(error)) }
                    }
                }
                return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(throws: (any Error).self) { try results[0]!.get() }
            let outcomes = try (1...rotations.count).map { try results[$0]!.get() }
            #expect(outcomes.map(\.kind) == Array(repeating: .rotated, count: others.count))
            for rotation in rotations {
                #expect(try await store.sessions.rotateRefreshToken(.of(rotation.successorHash, now: now.plus(2))).kind == .rotated)
            }
            #expect(try await store.sessions.rotateRefreshToken(.of(doomed, now: now.plus(2))).kind == .rotated)
        }
    }
}
