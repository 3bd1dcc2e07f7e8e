import Foundation
import LatchkeyCore
import Testing

// MARK: - UserStore: what administrators see and change

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func usersListNewestFirstInPagesWithoutGapsOrDuplicates(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            var created: [User] = []
            // Two accounts share each creation time: the id must order them, or pages would skip or repeat one.
            for second in 0..<7 { created.append(try await store.insertUser(now: now.plus(Double(second / 2)))) }
            let all = try await store.users.users(emailContaining: nil, limit: 100, after: nil, now: now).map(\.user.id)
            #expect(Set(all) == Set(created.map(\.id)))
            #expect(all.count == 7)
            var paged: [UUID] = []
            var cursor: UUID?
            repeat {
                let page = try await store.users.users(emailContaining: nil, limit: 3, after: cursor, now: now).map(\.user.id)
                paged += page
                cursor = page.count == 3 ? page.last : nil
            } while cursor != nil
            #expect(paged == all)
            // Newest first.
            let createdAt = Dictionary(uniqueKeysWithValues: created.map { ($0.id, $0.createdAt) })
            #expect(all.map { createdAt[$0]! } == all.map { createdAt[$0]! }.sorted(by: >))
            // A cursor whose account does not exist gives an empty page.
            #expect(try await store.users.users(emailContaining: nil, limit: 3, after: UUID(), now: now).isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func usersFilterByAPartOfTheEmail(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let ada = try await store.insertUser(email: "ada.lovelace@example.com", now: now)
            _ = try await store.insertUser(email: "grace@example.org", now: now)
            let found = try await store.users.users(emailContaining: "lovelace@", limit: 10, after: nil, now: now)
            #expect(found.map(\.user.id) == [ada.id])
            // `%` and `_` are text, not patterns.
            #expect(try await store.users.users(emailContaining: "%", limit: 10, after: nil, now: now).isEmpty)
            #expect(try await store.users.users(emailContaining: "ada_", limit: 10, after: nil, now: now).isEmpty)
            #expect(try await store.users.users(emailContaining: "example", limit: 10, after: nil, now: now).count == 2)
        }
    }

    @Test(arguments: Backend.available)
    func summaryCountsLiveSessionsAndTheLastLogin(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            #expect(try await store.users.summary(userID: user.id, now: now) == UserSummary(user: user, lastLoginAt: nil, activeSessions: 0))
            let first = try await store.startSession(for: user, at: now.plus(1)).session
            _ = try await store.startSession(for: user, at: now.plus(2), lifetime: 5)  // expired at +7
            _ = try await store.startSession(for: user, at: now.plus(3))
            _ = try await store.sessions.revokeSession(id: first.id, userID: user.id, now: now.plus(4))
            let summary = try #require(try await store.users.summary(userID: user.id, now: now.plus(10)))
            #expect(summary.activeSessions == 1)
            #expect(summary.lastLoginAt?.timeIntervalSince(now.plus(3)).magnitude ?? 1 < 0.001)
            #expect(try await store.users.summary(userID: UUID(), now: now) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func updateChangesOnlyWhatItNames(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let promoted = try #require(try await store.users.update(userID: user.id, UserChanges(role: .admin), now: now.plus(1)))
            #expect(promoted.user.role == .admin && promoted.user.name == user.name && promoted.user.emailVerified == user.emailVerified)
            #expect(promoted.user.updatedAt.timeIntervalSince(now.plus(1)).magnitude < 0.001)
            let changed = try #require(
                try await store.users.update(userID: user.id, UserChanges(name: "Grace", emailVerified: true), now: now.plus(2))
            )
            #expect(changed.user.role == .admin && changed.user.name == "Grace" && changed.user.emailVerified)
            #expect(changed.user.disabledAt == nil)
            #expect(try await store.users.update(userID: UUID(), UserChanges(role: .admin), now: now) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func disablingEndsEverySessionAndEveryWayIn(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let (session, refreshToken) = try await store.startSession(for: user, at: now)
            let other = try await store.startSession(for: user, at: now).session
            let reset = EmailToken.make(userID: user.id, purpose: .resetPassword, createdAt: now)
            try await store.emailTokens.issue(reset, mail: .make(to: user.email, createdAt: now))
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now) != nil)

            let disabled = try #require(try await store.users.update(userID: user.id, UserChanges(disabled: true), now: now.plus(1)))
            #expect(disabled.user.disabledAt != nil && !disabled.user.isActive)
            #expect(disabled.activeSessions == 0)
            for id in [session.id, other.id] {
                #expect(try await store.sessions.activeUser(sessionID: id, userID: user.id, now: now.plus(1)) == nil)
            }
            let refreshed = try await store.sessions.rotateRefreshToken(.of(refreshToken, now: now.plus(2)))
            guard case .accountDisabled = refreshed else {
                Issue.record("a disabled account refreshed: \(refreshed)")
                return
            }
            #expect(try await store.emailTokens.owner(of: reset.hash, purpose: .resetPassword, now: now.plus(2)) == nil)
            // Disabling again keeps the first time.
            let again = try #require(try await store.users.update(userID: user.id, UserChanges(disabled: true), now: now.plus(5)))
            #expect(again.user.disabledAt == disabled.user.disabledAt)

            let enabled = try #require(try await store.users.update(userID: user.id, UserChanges(disabled: false), now: now.plus(6)))
            #expect(enabled.user.disabledAt == nil && enabled.user.isActive)
            // Sessions stay ended; a new login works.
            #expect(try await store.sessions.activeUser(sessionID: session.id, userID: user.id, now: now.plus(6)) == nil)
            let fresh = try await store.startSession(for: user, at: now.plus(7)).session
            #expect(try await store.sessions.activeUser(sessionID: fresh.id, userID: user.id, now: now.plus(7)) != nil)
        }
    }
}
