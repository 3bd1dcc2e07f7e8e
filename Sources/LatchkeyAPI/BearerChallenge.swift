/// The `WWW-Authenticate` challenge of a refusal (RFC 6750 §3; RFC 9470 §3 for a sign-in that is not strong or recent
/// enough).
public enum BearerChallenge: Sendable, Equatable {
    /// No token came, or the refusal is not about the token: `Bearer realm="latchkey"`.
    case bearer
    /// The token that came is expired or invalid; the description is the refusal's message.
    case invalidToken(description: String)
    /// The token is good but its role does not allow the route.
    case insufficientScope
    /// The token is good but its sign-in is not strong or recent enough (RFC 9470): `maxAge` in seconds when a recent
    /// sign-in is what is missing.
    case insufficientUserAuthentication(maxAge: Int? = nil)

    /// The challenge a refusal with `code` carries: every 401 has one (RFC 9110 §11.6.1), and so does a refusal of a
    /// token's role or of its sign-in. Nil for the others.
    public init?(for code: ErrorCode, message: String) {
        switch code {
        case .tokenExpired, .tokenInvalid: self = .invalidToken(description: message)
        case .forbidden: self = .insufficientScope
        case .mfaRequired, .reauthenticationRequired: self = .insufficientUserAuthentication()
        default:
            guard code.status == 401 else { return nil }
            self = .bearer
        }
    }

    /// The header's value.
    public var headerValue: String {
        switch self {
        case .bearer: #"Bearer realm="latchkey""#
        case .invalidToken(let description): #"Bearer realm="latchkey", error="invalid_token", error_description="\#(Self.quotable(description))""#
        case .insufficientScope: #"Bearer realm="latchkey", error="insufficient_scope""#
        case .insufficientUserAuthentication(let maxAge):
            #"Bearer realm="latchkey", error="insufficient_user_authentication""# + (maxAge.map { ", max_age=\($0)" } ?? "")
        }
    }

    /// RFC 6750 allows only printable ASCII but `"` and `\` in `error_description`.
    private static func quotable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { (0x20...0x7E).contains($0.value) && $0 != "\"" && $0 != "\\" }))
    }
}
