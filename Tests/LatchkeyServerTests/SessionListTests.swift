import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import Testing

/// `GET /auth/sessions` in pages, and the cap on live sessions per user.
@Suite struct SessionListTests {
    @Test func pagesNewestFirst() async throws {
        try await TestApp().run { client in
            let registered = try await client.register(email: "pages@example.com")
            for _ in 0..<4 { #expect(try await client.login(email: "pages@example.com").status == .ok) }
            let bearer = registered.accessToken!
            let all = try await client.request(.get, "/auth/sessions", bearer: bearer).decode(SessionListResponse.self)
            #expect(all.sessions.count == 5)
            #expect(all.nextCursor == nil)
            #expect(all.sessions.map(\.createdAt) == all.sessions.map(\.createdAt).sorted(by: >))
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let query = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await client.request(.get, "/auth/sessions?limit=2\(query)", bearer: bearer).decode(SessionListResponse.self)
                #expect(page.sessions.count == (pages < 2 ? 2 : 1))
                seen += page.sessions.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == all.sessions.map(\.id))
            for bad in ["limit=0", "limit=201", "limit=abc", "cursor=nonsense", "cursor=\(UUID().uuidString)"] {
                let response = try await client.request(.get, "/auth/sessions?\(bad)", bearer: bearer)
                #expect(response.status == .badRequest, "\(bad)")
                #expect(response.error?.error == .validationError, "\(bad)")
            }
        }
    }

    /// JSON answers write `/` as it is: `"curl/8.5.0"`, not `"curl\/8.5.0"`.
    @Test func slashesAreNotEscaped() async throws {
        try await TestApp().run { client in
            let registered = try await client.request(
                .post,
                "/auth/register",
                json: ["email": "slash@example.com", "password": "Tr1cky!pass", "name": "Ada"],
                headers: [.userAgent: "curl/8.5.0"]
            ).decode(RegisterResponse.self)
            let sessions = try await client.request(.get, "/auth/sessions", bearer: registered.accessToken!)
            #expect(String(buffer: sessions.body).contains(#""userAgent":"curl/8.5.0""#))
        }
    }

    @Test func aLoginPastTheCapRevokesTheLeastRecentlyUsed() async throws {
        try await TestApp(["LATCHKEY_MAX_SESSIONS_PER_USER": "3"]).run { client in
            let first = try await client.register(email: "cap@example.com")
            let second = try await client.login(email: "cap@example.com").decode(TokenPairResponse.self)
            let third = try await client.login(email: "cap@example.com").decode(TokenPairResponse.self)
            // Using the first session makes the second the least recently used.
            let firstRefreshed = try await client.refresh(first.refreshToken!).decode(TokenPairResponse.self)
            let fourth = try await client.login(email: "cap@example.com").decode(TokenPairResponse.self)
            #expect(try await client.request(.get, "/auth/me", bearer: second.accessToken).error?.error == .tokenInvalid)
            #expect(try await client.refresh(second.refreshToken).error?.error == .invalidRefreshToken)
            for live in [firstRefreshed, third, fourth] {
                #expect(try await client.request(.get, "/auth/me", bearer: live.accessToken).status == .ok)
            }
            let list = try await client.request(.get, "/auth/sessions", bearer: fourth.accessToken).decode(SessionListResponse.self)
            #expect(list.sessions.count == 3)
            for _ in 0..<10 { _ = try await client.login(email: "cap@example.com") }
            let after = try await client.request(.get, "/auth/sessions", bearer: fourth.accessToken)
            #expect(after.status == .unauthorized)
        }
    }
}
