import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyCore
import Testing

/// The audit log from outside: every action over HTTP leaves exactly one event of its type, with the client's
/// address, user agent and request id, and no secret; `GET /admin/audit` pages and filters it.
@Suite struct AuditTests {
    static let agent: HTTPFields = [.userAgent: "AuditTests/1.0"]

    @Test func everyActionLeavesOneEventAndNoSecret() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        let settings = ["LATCHKEY_PORT": "0", "LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "true", "LATCHKEY_REFRESH_REUSE_GRACE": "0"]
        let app = TestApp(smtp.environment.merging(settings) { $1 })
        try await app.runLive { client in
            let email = "audited-\(UUID())@example.com"
            var secrets = ["Tr1cky!pass", "Wr0ng!pass", "Brand!new42", "Other!new42"]
            let registered = try await client.request(
                .post,
                "/auth/register",
                json: ["email": email, "password": "Tr1cky!pass", "name": "Ada"],
                headers: Self.agent
            )
            let userID = try registered.decode(RegisterResponse.self).user.id
            let verification = try #require(try await smtp.waitForMessages(1).first?.token(after: "/auth/verify-email"))
            secrets.append(verification)
            #expect(try await client.request(.post, "/auth/verify-email", json: ["token": verification]).status == .ok)
            #expect(try await client.login(email: email, password: "Wr0ng!pass").status == .unauthorized)

            let first = try await client.request(.post, "/auth/login", json: ["email": email, "password": "Tr1cky!pass"], headers: Self.agent)
                .decode(TokenPairResponse.self)
            let rotated = try await client.refresh(first.refreshToken).decode(TokenPairResponse.self)
            secrets += [first.accessToken, first.refreshToken!, rotated.accessToken, rotated.refreshToken!]
            #expect(try await client.request(.patch, "/auth/me", json: ["name": "Ada L."], bearer: rotated.accessToken).status == .ok)
            let other = try await client.login(email: email, password: "Tr1cky!pass").decode(TokenPairResponse.self)
            secrets += [other.accessToken, other.refreshToken!]
            let otherSession = try #require(
                try await client.request(.get, "/auth/sessions", bearer: rotated.accessToken).decode(SessionListResponse.self)
                    .sessions.first { !$0.current }?.id
            )
            #expect(try await client.request(.delete, "/auth/sessions/\(otherSession)", bearer: rotated.accessToken).status == .noContent)
            let change = ["currentPassword": "Tr1cky!pass", "newPassword": "Brand!new42"]
            #expect(try await client.request(.post, "/auth/change-password", json: change, bearer: rotated.accessToken).status == .noContent)
            #expect(try await client.request(.post, "/auth/logout", json: ["refreshToken": rotated.refreshToken!]).status == .noContent)
            // The session is gone: a second logout changes nothing and records nothing.
            #expect(try await client.request(.post, "/auth/logout", json: ["refreshToken": rotated.refreshToken!]).status == .noContent)
            let third = try await client.login(email: email, password: "Brand!new42").decode(TokenPairResponse.self)
            #expect(try await client.request(.post, "/auth/logout-all", bearer: third.accessToken).status == .noContent)
            #expect(try await client.request(.post, "/auth/forgot-password", json: ["email": email]).status == .accepted)
            // The third mail, after the verification and the notice of the password change.
            let reset = try #require(try await smtp.waitForMessages(3).compactMap { $0.token(after: "/auth/reset-password") }.first)
            secrets.append(reset)
            #expect(
                try await client.request(.post, "/auth/reset-password", json: ["token": reset, "newPassword": "Other!new42"]).status == .noContent
            )
            // A spent refresh token comes back (no grace window here): reuse, and the session is revoked.
            let fourth = try await client.login(email: email, password: "Other!new42").decode(TokenPairResponse.self)
            #expect(try await client.refresh(fourth.refreshToken).status == .ok)
            #expect(try await client.refresh(fourth.refreshToken).error?.error == .refreshTokenReused)
            secrets += [fourth.accessToken, fourth.refreshToken!]

            let admin = try await AdminTests.admin(client, app: app)
            secrets.append(admin)
            let patch = ["role": "admin", "emailVerified": true] as [String: any Sendable]
            #expect(try await client.request(.patch, "/admin/users/\(userID)", json: patch, bearer: admin).status == .ok)
            #expect(try await client.request(.post, "/admin/users/\(userID)/logout-all", bearer: admin).status == .noContent)
            let last = try await client.login(email: email, password: "Other!new42").decode(TokenPairResponse.self)
            #expect(try await client.request(.delete, "/auth/me", json: ["password": "Other!new42"], bearer: last.accessToken).status == .noContent)

            let listed = try await client.request(.get, "/admin/audit?userId=\(userID)&limit=200", bearer: admin)
            let events = try listed.decode(AuditEventListResponse.self).events.reversed().map { $0 }
            #expect(
                events.map(\.type) == [
                    "user.registered", "user.email_verified", "login.failed", "login.succeeded", "token.refreshed", "user.updated",
                    "login.succeeded", "session.revoked", "password.changed", "logout", "login.succeeded", "logout_all",
                    "password.reset_requested", "password.reset", "login.succeeded", "token.refreshed", "token.reuse_detected", "user.updated",
                    "logout_all", "login.succeeded", "user.deleted",
                ]
            )
            #expect(events.allSatisfy { $0.ip == "127.0.0.1" && $0.requestId?.isEmpty == false && $0.userId == userID })
            #expect(events.first?.userAgent == "AuditTests/1.0" && events[3].userAgent == "AuditTests/1.0")
            #expect(events[2].details == ["reason": "wrong_password"])
            #expect(events[3].sessionId != nil && events[7].sessionId == otherSession)
            let byAdmin = events.filter { $0.details["actorId"] != nil }
            #expect(byAdmin.map(\.type) == ["user.updated", "logout_all"])
            #expect(byAdmin.first?.details == ["actorId": byAdmin[0].details["actorId"]!, "role": "admin", "emailVerified": true])
            let body = String(buffer: listed.body)
            for secret in secrets { #expect(!body.contains(secret)) }
            #expect(!body.contains("$2b$") && !body.contains("$2a$"))
        }
        smtp.stop()
    }

    /// An account's wait after too many failures is one `login.throttled` event; the 429s during the wait write
    /// nothing. An unknown email behaves the same, its events naming the email tried.
    @Test func aWaitIsOneThrottledEvent() async throws {
        let app = TestApp(["LATCHKEY_LOGIN_FREE_FAILURES": "3"])
        try await app.run { client in
            let admin = try await AdminTests.admin(client, app: app)
            let email = "nobody-\(UUID())@example.com".lowercased()
            for _ in 0..<3 { #expect(try await client.login(email: email, password: "Wr0ng!pass").status == .unauthorized) }
            for _ in 0..<3 { #expect(try await client.login(email: email, password: "Wr0ng!pass").status == .tooManyRequests) }
            let throttled = try await client.request(.get, "/admin/audit?type=login.throttled", bearer: admin).decode(AuditEventListResponse.self)
            #expect(throttled.events.count == 1)
            let event = try #require(throttled.events.first)
            #expect(event.userId == nil && event.details["email"] == .string(email) && event.details["failures"] == .int(3))
            let failed = try await client.request(.get, "/admin/audit?type=login.failed", bearer: admin).decode(AuditEventListResponse.self)
            #expect(failed.events.filter { $0.details["email"] == .string(email) }.count == 3)
        }
    }

    @Test func auditIsPagedFilteredAndForAdminsOnly() async throws {
        let app = TestApp()
        try await app.run { client in
            let admin = try await AdminTests.admin(client, app: app)
            let user = try await client.register()
            for _ in 0..<5 {
                _ = try await client.refresh(try await client.login(email: user.user.email).decode(TokenPairResponse.self).refreshToken)
            }
            #expect(try await client.request(.get, "/admin/audit", bearer: user.accessToken!).error?.error == .forbidden)
            #expect(try await client.request(.get, "/admin/audit").error?.error == .tokenMissing)

            var seen: [AuditEventResponse] = []
            var cursor: String?
            repeat {
                let path = "/admin/audit?limit=3&userId=\(user.user.id)" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.request(.get, path, bearer: admin)
                #expect(page.headers[.cacheControl] == "no-store")
                let decoded = try page.decode(AuditEventListResponse.self)
                seen += decoded.events
                cursor = decoded.nextCursor
            } while cursor != nil
            #expect(seen.count == 11 && Set(seen.map(\.id)).count == 11)
            #expect(seen.map(\.at) == seen.map(\.at).sorted(by: >))

            let refreshed = try await client.request(.get, "/admin/audit?type=token.refreshed&since=1h", bearer: admin).decode(
                AuditEventListResponse.self
            )
            #expect(refreshed.events.count == 5)
            let future = try await client.request(.get, "/admin/audit?since=2999-01-01T00:00:00Z", bearer: admin).decode(AuditEventListResponse.self)
            #expect(future.events.isEmpty && future.nextCursor == nil)
            // Every member is present, null when it does not apply.
            let raw = try await client.request(.get, "/admin/audit?type=user.registered&limit=1", bearer: admin).json
            let event = try #require((raw["events"] as? [[String: Any]])?.first)
            #expect(Set(event.keys) == ["id", "at", "type", "userId", "sessionId", "ip", "userAgent", "requestId", "details"])
            #expect(event["sessionId"] is NSNull)

            for query in ["userId=nope", "type=login.nonsense", "since=yesterday", "since=86400", "since=99999999d", "limit=0", "cursor=nonsense"] {
                let refused = try await client.request(.get, "/admin/audit?\(query)", bearer: admin)
                #expect(refused.status == .badRequest && refused.error?.error == .validationError, "\(query)")
            }
        }
    }
}
