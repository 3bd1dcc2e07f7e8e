import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct OpenAPITests {
    /// The contract's routes; each must be described, and each described route must exist.
    static let routes: [(String, String)] = [
        ("post", "/auth/register"), ("post", "/auth/login"), ("post", "/auth/refresh"), ("post", "/auth/logout"),
        ("post", "/auth/logout-all"), ("get", "/auth/me"), ("patch", "/auth/me"), ("delete", "/auth/me"),
        ("post", "/auth/change-password"), ("post", "/auth/verify-email"), ("post", "/auth/verify-email/resend"),
        ("post", "/auth/forgot-password"), ("post", "/auth/reset-password"), ("get", "/auth/sessions"), ("delete", "/auth/sessions/{id}"),
        ("get", "/auth/verify-email"), ("get", "/auth/reset-password"), ("get", "/assets/latchkey.css"),
        ("get", "/admin/users"), ("get", "/admin/users/{id}"), ("patch", "/admin/users/{id}"), ("post", "/admin/users/{id}/logout-all"),
        ("get", "/admin/audit"),
        ("get", "/.well-known/jwks.json"), ("get", "/health"), ("get", "/ready"), ("get", "/metrics"), ("get", "/openapi.json"),
    ]
    /// Every GET route answers HEAD too (RFC 9110).
    static let described = routes + routes.filter { $0.0 == "get" }.map { ("head", $0.1) }

    @Test func describesEveryRouteTheServerHas() async throws {
        try await TestApp().run { client in
            let document = try await client.request(.get, "/openapi.json").json
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var described: [String] = []
            for (path, operations) in paths { for method in operations.keys { described.append("\(method) \(path)") } }
            #expect(Set(described) == Set(Self.described.map { "\($0.0) \($0.1)" }))
            for (method, path) in Self.described {
                let concrete = path.replacingOccurrences(of: "{id}", with: UUID().uuidString)
                let response = try await client.request(HTTPRequest.Method(method.uppercased())!, concrete)
                #expect(response.status != .notFound || path.contains("{id}"), "\(method) \(path)")
                #expect(response.status != .methodNotAllowed, "\(method) \(path)")
            }
        }
    }
}
