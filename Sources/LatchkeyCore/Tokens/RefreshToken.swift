import Foundation

/// Refresh tokens: the time they were made (milliseconds since 1970, 6 bytes, big-endian) and 256 random bits,
/// base64url, 51 characters. The database keys a token by that time followed by the token's SHA-256.
///
/// Why the time: keyed by a hash alone, each new token went to a random page of the index, so on a database of
/// millions of sessions every refresh wrote a page of its own, and refresh ran 20-40% slower than on an empty one.
/// Keyed by time first, new tokens go to the end of the index, like a log. The time is no secret; the hash, as before,
/// does not reveal the token. Tokens made by earlier versions (43 characters, random only) keep their plain SHA-256 key.
public enum RefreshToken {
    private static let timeBytes = 6
    private static let length = 51

    public static func make(now: Date) -> String {
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let time = (0..<timeBytes).reversed().map { UInt8(truncatingIfNeeded: milliseconds >> (8 * $0)) }
        return Base64URL.encode(time + RandomToken.randomBytes(32))
    }

    /// The token's key in the database.
    public static func key(_ token: String) -> Data {
        let hash = RandomToken.hash(token)
        guard token.utf8.count == length, let bytes = Base64URL.decode(token) else { return hash }
        return Data(bytes.prefix(timeBytes)) + hash
    }
}
