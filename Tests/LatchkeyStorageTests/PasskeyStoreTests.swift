import Foundation
import LatchkeyCore
import Testing

// MARK: - PasskeyStore: challenges spent once, credentials registered once, the last way in kept

extension Passkey {
    static func make(userID: UUID, credentialID: Data = randomBytes(16), signCount: Int64 = 0, createdAt: Date) -> Passkey {
        Passkey(
            id: UUID(),
            userID: userID,
            credentialID: credentialID,
            publicKey: randomBytes(77),
            signCount: signCount,
            backupEligible: true,
            backedUp: false,
            transports: ["internal", "hybrid"],
            aaguid: UUID(uuidString: "ADCE0002-35BC-C60A-648B-0B25F1F05503")!,
            name: "Passkey",
            createdAt: createdAt,
            lastUsedAt: nil
        )
    }
}

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func aPasskeyChallengeIsSpentOnceEvenInParallel(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let user = try await store.insertUser(now: now)
            let challenge = PasskeyChallenge(
                hash: randomBytes(32),
                purpose: .register,
                userID: user.id,
                createdAt: now,
                expiresAt: now.plus(PasskeyChallenge.lifetime)
            )
            try await store.passkeys.createChallenge(challenge)
            let spent = try await withThrowingTaskGroup(of: PasskeyChallenge?.self) { group in
                for _ in 0..<8 { group.addTask { try await store.passkeys.spendChallenge(hash: challenge.hash, now: now) } }
                return try await group.reduce(into: []) { $0.append($1) }.compactMap { $0 }
            }
            #expect(spent == [challenge])
            // Expired, unknown: nothing to spend. A discoverable sign-in's challenge has no account.
            let login = PasskeyChallenge(hash: randomBytes(32), purpose: .login, userID: nil, createdAt: now, expiresAt: now.plus(300))
            try await store.passkeys.createChallenge(login)
            #expect(try await store.passkeys.spendChallenge(hash: login.hash, now: now.plus(300)) == nil)
            #expect(try await store.passkeys.spendChallenge(hash: randomBytes(32), now: now) == nil)
            let second = PasskeyChallenge(hash: randomBytes(32), purpose: .secondFactor, userID: user.id, createdAt: now, expiresAt: now.plus(300))
            try await store.passkeys.createChallenge(second)
            #expect(try await store.passkeys.spendChallenge(hash: second.hash, now: now.plus(299)) == second)
            // Cleanup takes the used and the expired ones.
            #expect(try await store.passkeys.deleteEndedChallenges(before: now.plus(301), limit: 10) == 3)
        }
    }

    @Test(arguments: Backend.available)
    func anAccountKeepsOneUserHandle(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let user = try await store.insertUser(now: Date.wholeSecond())
            let handle = randomBytes(32)
            #expect(try await store.passkeys.userHandle(userID: user.id, proposed: handle) == handle)
            #expect(try await store.passkeys.userHandle(userID: user.id, proposed: randomBytes(32)) == handle)
        }
    }

    @Test(arguments: Backend.available)
    func aCredentialIsRegisteredOnceAndItsCounterMovesOnce(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let (user, other) = (try await store.insertUser(now: now), try await store.insertUser(now: now))
            let handle = try await store.passkeys.userHandle(userID: user.id, proposed: randomBytes(32))
            _ = try await store.passkeys.userHandle(userID: other.id, proposed: randomBytes(32))
            let passkey = Passkey.make(userID: user.id, signCount: 3, createdAt: now)
            #expect(try await store.passkeys.add(passkey, audit: .standIn(now)))
            // The same credential id again, for this account or another: refused, nothing stored.
            #expect(
                try await store.passkeys.add(Passkey.make(userID: other.id, credentialID: passkey.credentialID, createdAt: now), audit: .standIn(now))
                    == false
            )
            #expect(try await store.passkeys.passkeys(userID: other.id).isEmpty)
            #expect(try await store.passkeys.passkeys(userID: user.id) == [passkey])
            let found = try #require(try await store.passkeys.passkey(credentialID: passkey.credentialID))
            #expect(found.passkey == passkey && found.userHandle == handle)
            #expect(try await store.passkeys.passkey(credentialID: randomBytes(16)) == nil)

            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await store.passkeys.recordUse(id: passkey.id, previousSignCount: 3, signCount: 4, backedUp: true, now: now.plus(5))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            let used = try #require(try await store.passkeys.passkeys(userID: user.id).first)
            #expect(used.signCount == 4 && used.backedUp && used.lastUsedAt == now.plus(5))
        }
    }

    @Test(arguments: Backend.available)
    func renamingAndRemovingTouchOnlyTheAccountsOwn(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let (user, other) = (try await store.insertUser(now: now), try await store.insertUser(now: now))
            let passkey = Passkey.make(userID: user.id, createdAt: now)
            _ = try await store.passkeys.add(passkey, audit: .standIn(now))
            #expect(try await store.passkeys.rename(id: passkey.id, userID: other.id, name: "Mine") == nil)
            #expect(try await store.passkeys.rename(id: passkey.id, userID: user.id, name: "Phone")?.name == "Phone")
            #expect(try await store.passkeys.remove(id: passkey.id, userID: other.id, audit: .standIn(now)) == .notFound)
            // The account has a password: its only passkey may go.
            #expect(try await store.passkeys.remove(id: passkey.id, userID: user.id, audit: .standIn(now)) == .removed)
            #expect(try await store.passkeys.remove(id: passkey.id, userID: user.id, audit: .standIn(now)) == .notFound)
        }
    }

    @Test(arguments: Backend.available)
    func anAccountWithoutAPasswordKeepsItsLastPasskeyEvenInParallel(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            var passwordless = User.make(now: now)
            passwordless.passwordHash = ""
            let user = passwordless
            try await store.users.insertUser(user, verification: nil)
            let passkeys = [Passkey.make(userID: user.id, createdAt: now), Passkey.make(userID: user.id, createdAt: now.plus(1))]
            for passkey in passkeys { _ = try await store.passkeys.add(passkey, audit: .standIn(now)) }
            let results = try await withThrowingTaskGroup(of: PasskeyRemoval.self) { group in
                for passkey in passkeys { group.addTask { try await store.passkeys.remove(id: passkey.id, userID: user.id, audit: .standIn(now)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.sorted { "\($0)" < "\($1)" } == [.lastSignInMethod, .removed])
            #expect(try await store.passkeys.passkeys(userID: user.id).count == 1)
        }
    }
}
