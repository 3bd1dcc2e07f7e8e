import Foundation
import LatchkeyCore
import Testing

// MARK: - SigningKeyStore

extension StoreConformanceTests {
    /// Stands in for `makeKey` where a store must not call it: calling it fails the lookup.
    struct MakeKeyCalled: Error {}

    @Test(arguments: Backend.available)
    func signingKeysCreateAKeyOnlyWhenTheAlgorithmHasNone(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let key = try SigningKey.generate(.eddsa, now: now)
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { (key, .standIn()) } == [key])
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } == [key])

            // Each algorithm has keys of its own.
            let p256 = try SigningKey.generate(.es256, now: now)
            #expect(try await store.signingKeys.signingKeys(algorithm: .es256) { (p256, .standIn()) } == [p256])
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } == [key])
        }
    }

    @Test(arguments: Backend.available)
    func signingKeysStoreNothingWhenMakingTheKeyFails(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            await #expect(throws: MakeKeyCalled.self) { try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } }

            let key = try SigningKey.generate(.eddsa, now: .wholeSecond())
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { (key, .standIn()) } == [key])
        }
    }
}

// MARK: - Signing keys at rest

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func replacePrivateKeyChangesThatKeyOnly(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let key = try SigningKey.generate(.eddsa, now: now)
            _ = try await store.signingKeys.signingKeys(algorithm: .eddsa) { (key, .standIn()) }
            try await store.signingKeys.replacePrivateKey(kid: key.kid, with: "sealed:v1:AAAA")
            try await store.signingKeys.replacePrivateKey(kid: "another", with: "sealed:v1:BBBB")
            var expected = key
            expected.privateKey = "sealed:v1:AAAA"
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } == [expected])
        }
    }

    /// A first start stores its key sealed; a key an earlier version stored in the clear is sealed at the next start, and
    /// tokens keep verifying across both. Without the KEK the stored keys do not open.
    @Test(arguments: Backend.available)
    func signingKeysRestSealedUnderTheKeyEncryptionKey(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date()
            let clear = try SigningKey.generate(.eddsa, now: now)
            _ = try await store.signingKeys.signingKeys(algorithm: .eddsa) { (clear, .standIn()) }
            let sealer = SigningKeySealer(keyEncryptionKey: .ephemeral())
            let configuration = TokenConfiguration()
            let issuer = try await Self.loadedIssuer(configuration, store.signingKeys, sealer)
            let stored = try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() }
            #expect(stored.count == 1 && stored[0].kid == clear.kid)
            #expect(stored[0].privateKey.hasPrefix("sealed:v1:") && !stored[0].privateKey.contains(clear.privateKey))
            #expect(try sealer.open(stored[0]).privateKey == clear.privateKey)

            let user = User.make(now: now)
            let token = try await issuer.issue(for: user, session: Session.make(userID: user.id, createdAt: now), now: now)
            let reloaded = try await Self.loadedIssuer(configuration, store.signingKeys, sealer)
            #expect(try await reloaded.verify(token, now: now).userID == user.id)

            let otherKEK = SigningKeySealer(keyEncryptionKey: .ephemeral())
            await #expect(throws: ConfigurationError.self) {
                _ = try await Self.loadedIssuer(configuration, store.signingKeys, otherKEK)
            }
        }
    }
}

extension StoreConformanceTests {
    static func loadedIssuer(
        _ configuration: TokenConfiguration,
        _ store: any SigningKeyStore,
        _ sealer: SigningKeySealer
    ) async throws -> TokenIssuer {
        let issuer = TokenIssuer(configuration: configuration, store: store, sealer: sealer)
        try await issuer.load()
        return issuer
    }
}

// MARK: - Rotation

extension StoreConformanceTests {
    @Test(arguments: Backend.available)
    func addedKeysArePublishedAndRetiredOnesAreNot(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let now = Date.wholeSecond()
            let first = try SigningKey.generate(.eddsa, now: now)
            _ = try await store.signingKeys.signingKeys(algorithm: .eddsa) { (first, .standIn()) }
            let next = try SigningKey.generate(.eddsa, now: now.plus(1), activatesAt: now.plus(301))
            try await store.signingKeys.addSigningKey(next)
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } == [first, next])
            #expect(try await store.signingKeys.allSigningKeys() == [first, next])

            #expect(try await store.signingKeys.retireSigningKey(kid: first.kid, now: now.plus(400)))
            #expect(try await !store.signingKeys.retireSigningKey(kid: first.kid, now: now.plus(401)))
            #expect(try await !store.signingKeys.retireSigningKey(kid: "unknown", now: now.plus(401)))
            // The check gets the live keys, and its refusal leaves them as they are.
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await store.signingKeys.retireSigningKey(kid: next.kid, now: now.plus(402), audit: .standIn()) { liveKeys in
                    #expect(liveKeys == [next])
                    throw Refused()
                }
            }
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } == [next])
            var retired = first
            retired.retiredAt = now.plus(400)
            #expect(try await store.signingKeys.allSigningKeys() == [retired, next])
        }
    }
}
