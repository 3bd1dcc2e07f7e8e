import Foundation
import LatchkeyCore
import Testing

// MARK: - Races the database must decide (DESIGN.md, convention 7): no in-process lock helps a second instance.

extension StoreConformanceTests {
    /// A client firing parallel refreshes with one token: one request rotates, the others get that very successor.
    @Test(arguments: Backend.available)
    func concurrentRotationsOfOneTokenRotateOnceAndReplayTheSameSuccessor(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let token = try await store.startSession(for: user, at: now).refreshToken
            let rotations = (0..<20).map { _ in RefreshRotation.of(token, now: now, grace: 10) }

            let results = try await concurrently(rotations) { rotation in
                (rotation: rotation, outcome: try await store.sessions.rotateRefreshToken(rotation))
            }
            let winners = results.filter { $0.outcome.kind == .rotated }.map(\.rotation)
            try #require(winners.count == 1)
            let winner = winners[0]
            let replays = results.map(\.outcome).filter { $0.kind == .replayed }
            #expect(replays.count == 19)
            #expect(replays.allSatisfy { $0.replayedSuccessor == winner.sealedSuccessor })

            // One chain, not a fork: only the winner's successor was stored.
            for loser in rotations where loser.successorHash != winner.successorHash {
                #expect(try await store.sessions.rotateRefreshToken(.of(loser.successorHash, now: now.plus(1))).kind == .invalid)
            }
            #expect(try await store.sessions.rotateRefreshToken(.of(winner.successorHash, now: now.plus(1))).kind == .rotated)
        }
    }

    /// Several outbox senders (instances) polling at once: every mail goes to exactly one of them.
    @Test(arguments: Backend.available)
    func concurrentClaimersNeverGetTheSameMail(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            var queued: Set<UUID> = []
            for _ in 0..<40 { queued.insert(try await store.queueMail(at: now).id) }

            // Each claimer polls with a small limit until nothing is left.
            let claims = try await concurrently(Array(0..<4)) { _ in
                var claimed: [UUID] = []
                while true {
                    let batch = try await store.outbox.claimDueMails(now: now, leaseUntil: now.plus(60), limit: 3)
                    if batch.isEmpty { return claimed }
                    claimed += batch.map(\.mail.id)
                }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == Set(all).count, "a mail was claimed twice")
            #expect(Set(all) == queued)
        }
    }

    /// Instances starting together on an empty database must end up signing with one shared key.
    @Test(arguments: Backend.available)
    func concurrentFirstSigningKeyLookupsCreateOneKey(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let results = try await concurrently(Array(0..<8)) { _ in
                try await store.signingKeys.signingKeys(algorithm: .eddsa) { (try SigningKey.generate(.eddsa, now: now), .standIn(now)) }
            }
            #expect(results.allSatisfy { $0.count == 1 })
            #expect(Set(results.flatMap { $0.map(\.kid) }).count == 1)
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } == results[0])
        }
    }

    /// Two people registering one address at the same moment: the unique constraint, not a prior lookup, decides.
    @Test(arguments: Backend.available)
    func concurrentRegistrationsOfOneEmailLetExactlyOneSucceed(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let email = uniqueEmail()
            let rivals = (0..<10).map { _ in User.make(email: email, now: now) }

            let results = try await concurrently(rivals) { user in
                // The mail takes the user's id, so that the queue shows whose verification survived.
                let token = EmailToken.make(userID: user.id, purpose: .verifyEmail, createdAt: now)
                do {
                    try await store.users.insertUser(user, verification: (token, .make(id: user.id, to: email, createdAt: now)))
                    return Result<UUID, AuthError>.success(user.id)
                } catch let error as AuthError {
                    return .failure(error)
                }
            }
            let winners = results.compactMap { try? $0.get() }
            #expect(winners.count == 1)
            #expect(results.filter { (try? $0.get()) == nil } == Array(repeating: .failure(.emailAlreadyRegistered), count: 9))
            #expect(try await store.users.user(email: email)?.id == winners.first)
            // The losers' transactions left no token or mail behind.
            #expect(try await store.claimAll(at: now).map(\.mail.id) == winners)
        }
    }

    /// Many logins of one user at once: whatever the interleaving, no more than the cap stay live, the newest included.
    @Test(arguments: Backend.available)
    func concurrentLoginsKeepTheSessionCap(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            _ = try await concurrently(Array(0..<12)) { index in
                try await store.startSession(for: user, at: now.plus(Double(index)), maxLiveSessions: 3).session
            }
            let live = try await store.sessions.liveSessions(userID: user.id, now: now.plus(20), limit: 100, after: nil)
            #expect(live.count == 3)
        }
    }
}

/// Runs `body` for every element at once, in child tasks, and returns the results in completion order.
private func concurrently<Element: Sendable, Output: Sendable>(
    _ elements: [Element],
    _ body: @escaping @Sendable (Element) async throws -> Output
) async throws -> [Output] {
    try await withThrowingTaskGroup(of: Output.self) { group in
        for element in elements { group.addTask { try await body(element) } }
        return try await group.reduce(into: []) { $0.append($1) }
    }
}
