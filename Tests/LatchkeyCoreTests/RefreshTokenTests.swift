import Foundation
import Testing

@testable import LatchkeyCore

/// Refresh tokens carry the time they were made, which keys them first in the database; tokens of earlier versions
/// keep their plain SHA-256 key, so they still refresh.
@Suite struct RefreshTokenTests {
    @Test func newTokensAreKeyedByTimeThenHash() throws {
        let earlier = RefreshToken.make(now: Date(timeIntervalSince1970: 1_800_000_000))
        let later = RefreshToken.make(now: Date(timeIntervalSince1970: 1_800_000_000.001))
        #expect(earlier.count == 51 && earlier != RefreshToken.make(now: Date(timeIntervalSince1970: 1_800_000_000)))
        #expect(earlier.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        let key = RefreshToken.key(earlier)
        #expect(key.count == 38 && key.suffix(32) == RandomToken.hash(earlier))
        // Byte order is time order, on SQLite's BLOBs and PostgreSQL's bytea alike.
        #expect(key.lexicographicallyPrecedes(RefreshToken.key(later)))
        #expect(Array(key.prefix(6)) == [0x01, 0xA3, 0x18, 0x5C, 0x50, 0x00])
    }

    @Test func tokensOfEarlierVersionsKeepTheirKey() {
        let legacy = RandomToken.make()
        #expect(legacy.count == 43 && RefreshToken.key(legacy) == RandomToken.hash(legacy))
        // Whatever is presented gets a key; one that is not a token of ours simply matches nothing.
        #expect(RefreshToken.key(String(repeating: "!", count: 51)) == RandomToken.hash(String(repeating: "!", count: 51)))
    }
}
