import Foundation

/// The contract's rules for an access token besides its signature, in one place for the server and LatchkeyVerifier:
/// both refuse the same tokens.
public enum AccessTokenRules {
    /// How far in the future `iat` and `nbf` may be, and past `exp` a verifier may accept: clocks differ a little.
    public static let maxLeeway = 30

    /// What the claims of a token whose signature checked out make of it.
    public enum Verdict: Sendable, Equatable {
        case valid
        case expired
        case invalid
    }

    /// Checks `iss`, `aud`, `iat` and `nbf` (not in the future beyond `leeway` seconds), the lifetime (`exp - iat` at
    /// most `maxLifetime` seconds) and `exp` (past, with `expiryLeeway` seconds of grace).
    public static func check(
        _ claims: AccessTokenClaims,
        issuer: String,
        audience: String,
        maxLifetime: Int,
        leeway: Int = maxLeeway,
        expiryLeeway: Int = 0,
        now: Date
    ) -> Verdict {
        let seconds = now.timeIntervalSince1970
        guard claims.iss == issuer, claims.aud == audience, Double(claims.iat) <= seconds + Double(leeway),
            Double(claims.nbf ?? 0) <= seconds + Double(leeway), claims.exp - claims.iat <= Int64(maxLifetime)
        else { return .invalid }
        return Double(claims.exp) + Double(expiryLeeway) > seconds ? .valid : .expired
    }

    /// Header and claims are UTF-8 JSON objects, unpadded base64url, with no member twice (JWTKit's decoder would keep
    /// one of them silently), and the header has no `crit` member, not even `null` (which JWTKit reads as absent): no
    /// extension is implemented (RFC 7515 §4.1.11).
    public static func hasStrictSegments(_ token: String) -> Bool {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let header = base64URLDecoded(segments[0]), let claims = base64URLDecoded(segments[1]),
            StrictJSON.isStrict(header), StrictJSON.isStrict(claims),
            let headerObject = try? JSONSerialization.jsonObject(with: header) as? [String: Any]
        else { return false }
        return headerObject["crit"] == nil
    }

    /// The token of an `Authorization: Bearer` header (the scheme in any case), nil when absent, empty or of another
    /// scheme: how the server and LatchkeyAuthenticator read it. Works on the UTF-8 bytes: it runs on every
    /// authenticated request, and Foundation's trimming is slow there.
    public static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let bytes = header.utf8
        let scheme = "bearer ".utf8
        // `| 0x20` lower-cases ASCII letters; the space of the scheme must match exactly.
        guard bytes.count > scheme.count,
            zip(bytes, scheme).allSatisfy({ $1 == UInt8(ascii: " ") ? $0 == $1 : $0 | 0x20 == $1 })
        else { return nil }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let afterScheme = bytes.dropFirst(scheme.count).drop(while: isBlank)
        guard let last = afterScheme.lastIndex(where: { !isBlank($0) }) else { return nil }
        return String(Substring(afterScheme[...last]))
    }

    /// Unpadded base64url only (RFC 7515 §2): Foundation's decoder, given the standard alphabet and padding.
    static func base64URLDecoded(_ text: Substring) -> Data? {
        guard text.utf8.allSatisfy({ $0.isBase64URL }) else { return nil }
        let standard = text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 }
        return Data(base64Encoded: String(standard) + String(repeating: "=", count: (4 - text.utf8.count % 4) % 4))
    }
}

extension UInt8 {
    fileprivate var isBase64URL: Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "-") || self == UInt8(ascii: "_")
    }
}
