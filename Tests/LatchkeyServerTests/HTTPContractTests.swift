import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyServer
import Testing

/// Bad input, framework errors and headers, all in the contract's shape.
@Suite struct HTTPContractTests {
    @Test func missingAndWronglyTypedFieldsAreAllNamed() async throws {
        try await TestApp().run { client in
            let response = try await client.request(.post, "/auth/register", json: ["email": 5, "name": NSNull()])
            #expect(response.status == .badRequest)
            let error = try #require(response.error)
            #expect(error.error == .validationError)
            #expect(error.success == false)
            #expect(
                error.details == [
                    FieldError(field: "email", message: "must be a string"),
                    FieldError(field: "password", message: "is required"),
                    FieldError(field: "name", message: "is required"),
                ]
            )
            let array = try await client.request(.post, "/auth/login", body: "[1,2]")
            #expect(array.error?.error == .validationError)
        }
    }

    @Test func malformedAndDeeplyNestedJSON() async throws {
        try await TestApp().run { client in
            for body in [
                "{", "", "{\"email\": }", "nul", String(repeating: "[", count: 30_000), "{\"a\":" + String(repeating: "{\"a\":", count: 5000),
            ] {
                let response = try await client.request(.post, "/auth/login", body: body)
                #expect(response.status == .badRequest)
                #expect(response.error?.error == .invalidJSON)
                #expect(response.error?.details == nil)
            }
        }
    }

    @Test func mediaTypeAndSize() async throws {
        try await TestApp().run { client in
            let text = try await client.request(.post, "/auth/login", body: "{}", headers: [.contentType: "text/plain"])
            #expect(text.status == .unsupportedMediaType)
            #expect(text.error?.error == .unsupportedMediaType)
            let none = try await client.client.executeRequest(uri: "/auth/login", method: .post, headers: [:], body: ByteBuffer(string: "{}"))
            #expect(none.status == .unsupportedMediaType)
            let charset = try await client.request(
                .post,
                "/auth/login",
                body: #"{"email":"a@b.co","password":"x"}"#,
                headers: [.contentType: "application/json; charset=utf-8"]
            )
            #expect(charset.error?.error == .invalidCredentials)
            let big = "{\"email\":\"" + String(repeating: "a", count: 70 * 1024) + "\"}"
            let tooLarge = try await client.request(.post, "/auth/login", body: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.error?.error == .payloadTooLarge)
        }
    }

    @Test func notFoundAndMethodNotAllowed() async throws {
        try await TestApp().run { client in
            let missing = try await client.request(.get, "/nope")
            #expect(missing.status == .notFound)
            #expect(missing.error?.error == .notFound)
            #expect(missing.headers[.xContentTypeOptions] == "nosniff")
            let method = try await client.request(.get, "/auth/login")
            #expect(method.status == .methodNotAllowed)
            #expect(method.error?.error == .methodNotAllowed)
            #expect(method.headers[.allow] == "POST")
            let put = try await client.request(.put, "/auth/me")
            #expect(put.status == .methodNotAllowed)
        }
    }

    @Test func securityHeadersOnEveryResponse() async throws {
        try await TestApp().run { client in
            for response in [try await client.request(.get, "/health"), try await client.request(.get, "/auth/me")] {
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(response.headers[.contentSecurityPolicy] == "default-src 'none'; frame-ancestors 'none'")
                // Over http (the default app URL) there is no HSTS, and no header names a version.
                #expect(response.headers[HTTPField.Name("Strict-Transport-Security")!] == nil)
                #expect(response.headers[.server].map { $0.contains(where: \.isNumber) } != true)
            }
        }
    }

    /// `LATCHKEY_HSTS`: `auto` follows the app URL's scheme, `on` and `off` override it.
    @Test(arguments: [
        ("auto", "https://auth.example.com", true), ("auto", "http://auth.example.com", false), ("on", "http://localhost:8080", true),
        ("off", "https://auth.example.com", false), ("", "https://auth.example.com", true),
    ])
    func strictTransportSecurity(mode: String, appURL: String, sent: Bool) async throws {
        try await TestApp(["LATCHKEY_HSTS": mode, "LATCHKEY_APP_URL": appURL]).run { client in
            for response in [try await client.request(.get, "/health"), try await client.request(.post, "/auth/login", json: [:])] {
                #expect(response.headers[HTTPField.Name("Strict-Transport-Security")!] == (sent ? "max-age=31536000; includeSubDomains" : nil))
            }
        }
    }

    @Test func badHSTSModeStopsStartUp() async throws {
        await #expect(throws: (any Error).self) { try await TestApp(["LATCHKEY_HSTS": "always"]).build() }
    }

    @Test func bearerHandling() async throws {
        try await TestApp().run { client in
            let missing = try await client.request(.get, "/auth/me")
            #expect(missing.error?.error == .tokenMissing)
            #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            let basic = try await client.request(.get, "/auth/me", headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(basic.error?.error == .tokenMissing)
            let garbage = try await client.request(.get, "/auth/me", bearer: "garbage")
            #expect(garbage.error?.error == .tokenInvalid)
            #expect(garbage.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true)
            let pair = try await client.register()
            for header in ["bearer \(pair.accessToken!)", "BeArEr   \(pair.accessToken!) \t"] {
                #expect(try await client.request(.get, "/auth/me", headers: [.authorization: header]).status == .ok)
            }
            for header in ["Bearer", "Bearer    ", "Bearer\t\(pair.accessToken!)", "Bearerx \(pair.accessToken!)", "Bea \(pair.accessToken!)"] {
                #expect(try await client.request(.get, "/auth/me", headers: [.authorization: header]).error?.error == .tokenMissing)
            }
        }
    }

    @Test func healthReadyJWKSMetricsOpenAPI() async throws {
        try await TestApp().run { client in
            #expect(try await client.request(.get, "/health").json["status"] as? String == "ok")
            #expect(try await client.request(.get, "/ready").status == .ok)
            let jwks = try await client.request(.get, "/.well-known/jwks.json")
            let keys = try #require(jwks.json["keys"] as? [[String: Any]])
            #expect(keys.count == 1)
            #expect(keys[0]["kty"] as? String == "OKP")
            #expect(keys[0]["crv"] as? String == "Ed25519")
            #expect(keys[0]["kid"] as? String != nil)
            #expect(keys[0]["d"] == nil)
            let metrics = try await client.request(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            let openapi = try await client.request(.get, "/openapi.json")
            #expect(openapi.json["openapi"] as? String == "3.1.0")
        }
    }
}

@Suite struct CORSTests {
    @Test func onlyAllowListedOriginsGetCORSHeaders() async throws {
        try await TestApp(["LATCHKEY_CORS_ORIGINS": "https://app.example.com, https://admin.example.com"]).run { client in
            let allowed = try await client.request(.get, "/health", headers: [.origin: "https://admin.example.com"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://admin.example.com")
            #expect(allowed.headers[.accessControlAllowCredentials] == "true")
            #expect(allowed.headers[.vary] == "Origin")
            let preflight = try await client.request(
                .options,
                "/auth/login",
                headers: [.origin: "https://app.example.com", .accessControlRequestMethod: "POST"]
            )
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowHeaders] == "Authorization, Content-Type, X-Latchkey-CSRF")
            #expect(preflight.headers[.accessControlAllowCredentials] == "true")
            let other = try await client.request(.get, "/health", headers: [.origin: "https://evil.example.com"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            #expect(other.headers[.accessControlAllowCredentials] == nil)
            #expect(other.headers[.vary] == "Origin")
            let otherPreflight = try await client.request(
                .options,
                "/auth/login",
                headers: [.origin: "https://evil.example.com", .accessControlRequestMethod: "POST"]
            )
            #expect(otherPreflight.headers[.accessControlAllowOrigin] == nil)
            #expect(otherPreflight.error?.error == .methodNotAllowed)
        }
    }

    /// The app URL's origin is allowed too: the operator's web app that handles the emailed links.
    @Test func theAppURLsOriginIsAllowed() async throws {
        try await TestApp(["LATCHKEY_APP_URL": "https://App.Example.com:443/welcome"]).run { client in
            let allowed = try await client.request(.get, "/health", headers: [.origin: "https://app.example.com"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://app.example.com")
            let otherPort = try await client.request(.get, "/health", headers: [.origin: "https://app.example.com:8443"])
            #expect(otherPort.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test(arguments: [
        ("http://localhost:8080", "http://localhost:8080"), ("https://auth.example.com/", "https://auth.example.com"),
        ("http://[::1]:9000", "http://[::1]:9000"), ("HTTP://Example.COM:80/x", "http://example.com"),
    ])
    func originOfAnURL(url: String, origin: String) {
        #expect(ServerConfiguration.origin(of: url) == origin)
    }

    @Test func noOriginsByDefault() async throws {
        try await TestApp().run { client in
            let response = try await client.request(.get, "/health", headers: [.origin: "https://app.example.com"])
            #expect(response.headers[.accessControlAllowOrigin] == nil)
        }
    }
}
