import ExtrasBase64
import Foundation
import HummingbirdOTP

/// The TOTP factor's rules (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps; HummingbirdOTP computes the codes): a code
/// is taken for the current step or one step either side, and never for a step at or before the last one the account
/// used, so no code works twice. The store records that step atomically with the use.
public enum TOTPFactor {
    public static let digits = 6
    public static let period = 30

    /// A new secret of 20 bytes (160 bits, RFC 4226's recommended length). HummingbirdOTP keys its HMAC with the UTF-8
    /// of a String, so each byte is ASCII, with 7 random bits: 140 bits in all, above RFC 4226's minimum of 128.
    public static func newSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<20).map { _ in UInt8.random(in: 0...0x7F, using: &generator) }
    }

    /// The secret as authenticator apps take it: base32 without padding.
    public static func base32(_ secret: [UInt8]) -> String {
        String(base32Encoding: secret, options: .omitPaddingCharacter)
    }

    /// The 30-second step of `date`.
    public static func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(period)).rounded(.down))
    }

    /// The code of `step`, as an app shows it (leading zeros kept).
    public static func code(secret: [UInt8], step: Int64) -> String {
        let totp = TOTP(secret: String(decoding: secret, as: UTF8.self), length: digits, timeStep: period, hashFunction: .sha1)
        let value = totp.compute(date: Date(timeIntervalSince1970: Double(step * Int64(period))))
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The step `typed` is the code of, within one step of `now` and after `lastUsedStep`; nil when there is none.
    /// Spaces in `typed` are ignored ("123 456").
    public static func matchingStep(_ typed: String, secret: [UInt8], now: Date, after lastUsedStep: Int64?) -> Int64? {
        let typed = typed.filter { !$0.isWhitespace }
        guard typed.count == digits, typed.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let current = step(at: now)
        // Every step of the window is computed and compared in full: the time taken says nothing about which matched.
        let matches = ((current - 1)...(current + 1)).filter { candidate in
            constantTimeEqual(Array(code(secret: secret, step: candidate).utf8), Array(typed.utf8))
        }
        return matches.first { $0 > (lastUsedStep ?? .min) }
    }

    /// The `otpauth://` URI of the secret (Key Uri Format): `issuer` and `account` percent-encoded (a space is `%20`,
    /// never `+`; `@` stays), the parameters in the contract's order.
    public static func uri(secret: [UInt8], issuer: String, account: String) -> String {
        let issuer = percentEncoded(issuer, keeping: "")
        return "otpauth://totp/\(issuer):\(percentEncoded(account, keeping: "@"))?secret=\(base32(secret))&issuer=\(issuer)"
            + "&algorithm=SHA1&digits=\(digits)&period=\(period)"
    }

    private static func percentEncoded(_ text: String, keeping extra: String) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        allowed.insert(charactersIn: extra)
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
