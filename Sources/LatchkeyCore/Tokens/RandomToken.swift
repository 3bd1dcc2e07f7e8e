import Crypto
import ExtrasBase64
import Foundation

/// Opaque secrets handed to clients (refresh, verification and reset tokens): CSPRNG bytes, URL-safe.
public enum RandomToken {
    /// `bytes` random bytes from the system CSPRNG, base64url without padding. 32 bytes = 256 bits.
    public static func make(bytes: Int = 32) -> String {
        Base64URL.encode(randomBytes(bytes))
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }

    /// What the database keeps instead of the token: its SHA-256. The token has 256 bits of entropy,
    /// so a fast hash is enough; a dump does not reveal the token.
    public static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }
}

/// base64url without padding (RFC 7515), for JWK members and opaque tokens.
enum Base64URL {
    static func encode(_ data: some Collection<UInt8>) -> String {
        Base64.encodeToString(bytes: data, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    /// Nil when `text` is not unpadded base64url.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        try? Base64.decode(string: String(text), options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }
}
