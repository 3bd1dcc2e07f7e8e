import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import Testing

/// Contract v3, "How a session signed in": every session records its `amr` and `auth_time`; its access tokens carry
/// both, a refresh keeps them, token pairs and `GET /auth/sessions` show `amr`, and `login.succeeded` records it.
@Suite struct SignInMethodTests {
    /// The claims of an access token, read without checking it (the server checked it).
    static func claims(_ token: String) throws -> AccessTokenClaims {
        var payload = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        payload += String(repeating: "=", count: (4 - payload.count % 4) % 4)
        return try JSONDecoder().decode(AccessTokenClaims.self, from: try #require(Data(base64Encoded: payload)))
    }

    @Test func aPasswordSessionSaysPwdAndKeepsItAcrossRefresh() async throws {
        let app = TestApp()
        try await app.run { client in
            let email = "amr-\(UUID())@example.com"
            let registered = try await client.register(email: email)
            #expect(registered.amr == ["pwd"])

            let before = Int64(Date().timeIntervalSince1970)
            let login = try await client.login(email: email).decode(TokenPairResponse.self)
            let after = Int64(Date().timeIntervalSince1970)
            #expect(login.amr == ["pwd"])
            let claims = try Self.claims(login.accessToken)
            #expect(claims.amr == ["pwd"])
            let authTime = try #require(claims.authTime)
            #expect((before...after).contains(authTime))
            // The raw claim is `auth_time`, an integer.
            let payload = try JSONSerialization.jsonObject(with: JSONEncoder().encode(claims)) as? [String: Any]
            #expect(payload?["auth_time"] as? Int64 == authTime)

            try await Task.sleep(for: .milliseconds(1100))
            let refreshed = try await client.refresh(login.refreshToken).decode(TokenPairResponse.self)
            #expect(refreshed.amr == ["pwd"])
            let refreshedClaims = try Self.claims(refreshed.accessToken)
            #expect(refreshedClaims.amr == ["pwd"] && refreshedClaims.authTime == authTime && refreshedClaims.iat > claims.iat)

            let sessions = try await client.request(.get, "/auth/sessions", bearer: refreshed.accessToken).decode(SessionListResponse.self)
            #expect(sessions.sessions.count == 2 && sessions.sessions.allSatisfy { $0.amr == ["pwd"] })

            try await app.promote(email)
            let admin = try await client.login(email: email).decode(TokenPairResponse.self).accessToken
            let events = try await client.request(.get, "/admin/audit?type=login.succeeded&userId=\(registered.user.id)", bearer: admin)
                .decode(AuditEventListResponse.self)
            #expect(events.events.count == 2 && events.events.allSatisfy { $0.details["amr"] == .strings(["pwd"]) })
        }
    }
}
