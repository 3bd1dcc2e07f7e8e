import Foundation

/// The claims of a Latchkey access token. `iat` and `exp` are integer seconds since 1970 (NumericDate),
/// so a token with fractional times does not even decode.
public struct AccessTokenClaims: Codable, Sendable, Equatable {
    public var iss: String
    public var aud: String
    /// The user id.
    public var sub: String
    /// The session id; the server refuses tokens whose session was revoked.
    public var sid: String
    public var role: String
    public var iat: Int64
    public var exp: Int64
    /// Not before; Latchkey does not write it, but a token that has one in the future is refused.
    public var nbf: Int64?
    public var jti: String
    /// How the session signed in (RFC 8176, `AuthenticationMethod`'s values), in the order of use. Absent from tokens
    /// of earlier versions.
    public var amr: [String]?
    /// When the session signed in, in integer seconds. Absent from tokens of earlier versions.
    public var authTime: Int64?

    public init(
        iss: String,
        aud: String,
        sub: String,
        sid: String,
        role: String,
        iat: Int64,
        exp: Int64,
        nbf: Int64? = nil,
        jti: String,
        amr: [String]? = nil,
        authTime: Int64? = nil
    ) {
        self.iss = iss
        self.aud = aud
        self.sub = sub
        self.sid = sid
        self.role = role
        self.iat = iat
        self.exp = exp
        self.nbf = nbf
        self.jti = jti
        self.amr = amr
        self.authTime = authTime
    }

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, sid, role, iat, exp, nbf, jti, amr
        case authTime = "auth_time"
    }
}

/// The `amr` values (RFC 8176) of the contract: how a session signed in.
public enum AuthenticationMethod: String, Codable, Sendable, CaseIterable {
    case password = "pwd"
    case otp
    case recovery
    /// A passkey (WebAuthn assertion).
    case hardwareKey = "hwk"
    case email
    /// An identity provider's id_token.
    case federated = "fed"
    /// Two different factors, or a passkey with user verification.
    case multiFactor = "mfa"
}

/// The JSON coders of the wire format: RFC 3339 timestamps in whole seconds, UTC.
public enum WireFormat {
    /// An encoder for responses.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        // Identical answers must be identical bytes (enumeration-safe routes compare equal). JSON allows `/` unescaped,
        // and URLs (`otpauth://…`) and user agents read better so.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A decoder for requests and responses.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
