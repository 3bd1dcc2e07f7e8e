import HTTPTypes
import Hummingbird
import LatchkeyCore

/// Cookie mode (`LATCHKEY_REFRESH_COOKIE=on`): a browser app on an allowed origin gets its refresh token only in an
/// HttpOnly cookie that its JavaScript cannot read; refresh and logout read it back, behind the CSRF rules of
/// `OriginPolicy`. Requests from elsewhere (native apps, servers: no `Origin`) keep the token in the body.
struct RefreshCookie: Sendable {
    static let name = "__Host-latchkey-refresh"
    /// The same name and attributes with `Max-Age=0`: browsers drop the cookie.
    static let clearing: HTTPFields = [.setCookie: "\(name)=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"]

    let enabled: Bool
    /// Seconds, the refresh token's lifetime.
    let lifetime: Int
    let origins: OriginPolicy

    /// Whether the answer to `request` puts the refresh token in the cookie instead of the body.
    func carriesToken(_ request: Request) -> Bool {
        enabled && request.headers[.origin].map(origins.appOrigins.contains) == true
    }

    /// Whether the mode is on and the request came with the cookie.
    func isPresent(in request: Request) -> Bool {
        enabled && request.cookies[Self.name] != nil
    }

    /// The cookie's refresh token, for a request that sent none in its body. Throws `CSRF_REJECTED` when the request
    /// may not use it.
    func token(of request: Request) throws -> String? {
        guard enabled, let value = request.cookies[Self.name]?.value, !value.isEmpty else { return nil }
        guard origins.allowsCookieUse(request) else { throw AuthError.csrfRejected }
        return value
    }

    func setting(_ token: String) -> HTTPFields {
        [.setCookie: "\(Self.name)=\(token); Path=/; Max-Age=\(lifetime); Secure; HttpOnly; SameSite=Strict"]
    }
}
