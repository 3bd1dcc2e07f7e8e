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
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { key } == [key])
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } == [key])

            // Each algorithm has keys of its own.
            let p256 = try SigningKey.generate(.es256, now: now)
            #expect(try await store.signingKeys.signingKeys(algorithm: .es256) { p256 } == [p256])
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } == [key])
        }
    }

    @Test(arguments: Backend.available)
    func signingKeysStoreNothingWhenMakingTheKeyFails(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            await #expect(throws: MakeKeyCalled.self) { try await store.signingKeys.signingKeys(algorithm: .eddsa) { throw MakeKeyCalled() } }

            let key = try SigningKey.generate(.eddsa, now: .wholeSecond())
            #expect(try await store.signingKeys.signingKeys(algorithm: .eddsa) { key } == [key])
        }
    }
}
