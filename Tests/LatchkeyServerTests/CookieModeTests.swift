import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import Testing

/// Cookie mode: the refresh token of a browser app on an allowed origin lives only in an HttpOnly cookie.
@Suite struct CookieModeTests {
    static let app = "https://app.example.com"
    static let environment = [
        "LATCHKEY_REFRESH_COOKIE": "on", "LATCHKEY_APP_URL": app, "LATCHKEY_CORS_ORIGINS": "http://localhost:5173",
        "LATCHKEY_REFRESH_TOKEN_TTL": "7d",
    ]
    static let csrf = HTTPField.Name("X-Latchkey-CSRF")!
    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// The token of a `Set-Cookie` that sets the refresh cookie with exactly the contract's attributes.
    static func cookieToken(_ response: TestResponse, maxAge: Int = 604_800) throws -> String {
        let header = try #require(response.headers[.setCookie])
        let parts = header.components(separatedBy: "; ")
        #expect(Array(parts.dropFirst()) == ["Path=/", "Max-Age=\(maxAge)", "Secure", "HttpOnly", "SameSite=Strict"])
        let pair = try #require(parts.first)
        #expect(pair.hasPrefix("__Host-latchkey-refresh="))
        return String(pair.dropFirst("__Host-latchkey-refresh=".count))
    }

    static func isClearing(_ response: TestResponse) -> Bool {
        response.headers[.setCookie] == "__Host-latchkey-refresh=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"
    }

    /// A browser app's call that uses the cookie.
    static func withCookie(_ token: String, origin: String? = app, csrf: String? = "1") -> HTTPFields {
        var headers: HTTPFields = [.cookie: "theme=dark; __Host-latchkey-refresh=\(token)"]
        if let origin { headers[.origin] = origin }
        if let csrf { headers[Self.csrf] = csrf }
        return headers
    }

    @Test func browserAppsOnAllowedOriginsGetTheTokenOnlyInTheCookie() async throws {
        try await TestApp(Self.environment).run { client in
            let email = "cookie-\(UUID())@example.com"
            let registered = try await client.request(
                .post,
                "/auth/register",
                json: ["email": email, "password": "Tr1cky!pass", "name": "Ada"],
                headers: [.origin: Self.app]
            )
            #expect(registered.status == .created)
            #expect(registered.json["refreshToken"] == nil && registered.json["accessToken"] != nil)
            _ = try Self.cookieToken(registered)

            for origin in [Self.app, "http://localhost:5173"] {
                let login = try await client.request(
                    .post,
                    "/auth/login",
                    json: ["email": email, "password": "Tr1cky!pass"],
                    headers: [.origin: origin]
                )
                #expect(login.status == .ok)
                #expect(login.json["refreshToken"] == nil)
                #expect(login.json["accessToken"] is String && login.json["tokenType"] as? String == "Bearer")
                #expect(login.headers[.cacheControl] == "no-store")
                #expect(try Self.cookieToken(login).count >= 43)
            }
            // Native apps (no Origin) and pages of other origins: v1, the token in the body and no cookie.
            for headers: HTTPFields in [[:], [.origin: "https://evil.example"]] {
                let login = try await client.request(.post, "/auth/login", json: ["email": email, "password": "Tr1cky!pass"], headers: headers)
                #expect(login.json["refreshToken"] is String)
                #expect(login.headers[.setCookie] == nil)
            }
        }
    }

    @Test func refreshThroughTheCookieRotatesItAndLogoutClearsIt() async throws {
        try await TestApp(Self.environment).run { client in
            let email = "rotate-\(UUID())@example.com"
            _ = try await client.register(email: email)
            let login = try await client.login(email: email, headers: [.origin: Self.app])
            let first = try Self.cookieToken(login)

            // An empty body without a content type, and `{}`, both use the cookie.
            let refreshed = try await client.request(.post, "/auth/refresh", headers: Self.withCookie(first))
            #expect(refreshed.status == .ok)
            #expect(refreshed.json["refreshToken"] == nil)
            #expect(refreshed.headers[HTTPField.Name("Pragma")!] == "no-cache")
            let second = try Self.cookieToken(refreshed)
            #expect(second != first)
            let again = try await client.request(.post, "/auth/refresh", json: [:], headers: Self.withCookie(second))
            let third = try Self.cookieToken(again)

            // Same-origin fetch without Origin: the fetch metadata stands in for it.
            let sameOrigin = try await client.request(
                .post,
                "/auth/refresh",
                headers: Self.withCookie(third, origin: nil).merging([Self.fetchSite: "same-origin"])
            )
            #expect(sameOrigin.status == .ok)
            let fourth = try Self.cookieToken(sameOrigin)

            let logout = try await client.request(.post, "/auth/logout", headers: Self.withCookie(fourth))
            #expect(logout.status == .noContent)
            #expect(Self.isClearing(logout))
            let dead = try await client.request(.post, "/auth/refresh", headers: Self.withCookie(fourth))
            #expect(dead.error?.error == .invalidRefreshToken)
            #expect(Self.isClearing(dead))
        }
    }

    @Test func csrfRefusalsLeaveTheSessionUntouched() async throws {
        try await TestApp(Self.environment.merging(["LATCHKEY_REFRESH_REUSE_GRACE": "0"]) { $1 }).run { client in
            let email = "csrf-\(UUID())@example.com"
            _ = try await client.register(email: email)
            let token = try Self.cookieToken(try await client.login(email: email, headers: [.origin: Self.app]))
            let refused: [HTTPFields] = [
                Self.withCookie(token, csrf: nil),
                Self.withCookie(token, csrf: "0"),
                Self.withCookie(token, origin: "https://evil.example"),
                Self.withCookie(token, origin: "null"),
                Self.withCookie(token, origin: nil),
                Self.withCookie(token, origin: nil).merging([Self.fetchSite: "cross-site"]),
            ]
            for headers in refused {
                for path in ["/auth/refresh", "/auth/logout"] {
                    let answer = try await client.request(.post, path, headers: headers)
                    #expect(answer.status == .forbidden)
                    #expect(answer.error?.error == .csrfRejected)
                    #expect(answer.headers[.setCookie] == nil)
                }
            }
            // Nothing was rotated or revoked: with no grace window, any earlier rotation would make this reuse.
            let refreshed = try await client.request(.post, "/auth/refresh", headers: Self.withCookie(token))
            #expect(refreshed.status == .ok)
            let reused = try await client.request(.post, "/auth/refresh", headers: Self.withCookie(token))
            #expect(reused.error?.error == .refreshTokenReused)
            #expect(Self.isClearing(reused))
        }
    }

    @Test func aTokenInTheBodyTakesPrecedenceOverTheCookie() async throws {
        try await TestApp(Self.environment).run { client in
            let pair = try await client.register(email: "body-\(UUID())@example.com")
            // No CSRF header is needed: the cookie is not used.
            let refreshed = try await client.request(
                .post,
                "/auth/refresh",
                json: ["refreshToken": pair.refreshToken!],
                headers: [.cookie: "__Host-latchkey-refresh=not-a-token"]
            )
            #expect(refreshed.status == .ok)
            #expect(refreshed.json["refreshToken"] is String)
            #expect(refreshed.headers[.setCookie] == nil)
            // Without one, neither body nor cookie: the v1 validation error.
            let missing = try await client.request(.post, "/auth/refresh", json: [:])
            #expect(missing.error?.error == .validationError)
            #expect(missing.error?.details?.first?.field == "refreshToken")
        }
    }

    @Test func withCookieModeOffTheCookieIsIgnored() async throws {
        try await TestApp(Self.environment.merging(["LATCHKEY_REFRESH_COOKIE": "off"]) { $1 }).run { client in
            let email = "off-\(UUID())@example.com"
            let pair = try await client.register(email: email)
            let login = try await client.login(email: email, headers: [.origin: Self.app])
            #expect(login.json["refreshToken"] is String)
            #expect(login.headers[.setCookie] == nil)
            let viaCookie = try await client.request(.post, "/auth/refresh", headers: Self.withCookie(pair.refreshToken!))
            #expect(viaCookie.error?.error == .validationError)
        }
    }

    @Test func aBadSettingStopsStartUp() async throws {
        await #expect(throws: (any Error).self) { try await TestApp(["LATCHKEY_REFRESH_COOKIE": "maybe"]).build() }
    }
}

extension Client {
    func login(email: String, password: String = "Tr1cky!pass", headers: HTTPFields) async throws -> TestResponse {
        try await request(.post, "/auth/login", json: ["email": email, "password": password], headers: headers)
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}
