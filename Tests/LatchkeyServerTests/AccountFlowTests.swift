import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyTestSupport
import Testing

@Suite struct AccountFlowTests {
    @Test func registerLoginMeRefreshLogout() async throws {
        try await TestApp().run { client in
            let registered = try await client.register(email: "  Ada@Example.COM ", name: "Ada Lovelace")
            #expect(registered.user.email == "ada@example.com")
            #expect(registered.user.role == "user")
            #expect(registered.user.emailVerified == false)
            #expect(registered.tokenType == "Bearer")
            #expect(registered.expiresIn == 900)
            #expect(registered.refreshExpiresIn == 604800)

            let login = try await client.login(email: "ADA@example.com")
            #expect(login.status == .ok)
            #expect(login.headers[.cacheControl] == "no-store")
            let pair = try login.decode(TokenPairResponse.self)
            #expect(pair.user.id == registered.user.id)

            let me = try await client.request(.get, "/auth/me", bearer: pair.accessToken)
            #expect(me.status == .ok)
            let user = try me.decode(UserResponse.self)
            #expect(user.name == "Ada Lovelace")
            #expect(me.json["createdAt"] as? String != nil)
            #expect((me.json["createdAt"] as? String)?.hasSuffix("Z") == true)

            let refreshed = try await client.refresh(pair.refreshToken)
            #expect(refreshed.status == .ok)
            let next = try refreshed.decode(TokenPairResponse.self)
            #expect(next.refreshToken != pair.refreshToken)
            #expect(next.refreshToken?.count ?? 0 >= 43)

            let logout = try await client.request(.post, "/auth/logout", json: ["refreshToken": next.refreshToken!])
            #expect(logout.status == .noContent)
            let afterLogout = try await client.refresh(next.refreshToken)
            #expect(afterLogout.error?.error == .invalidRefreshToken)
            let meAfter = try await client.request(.get, "/auth/me", bearer: next.accessToken)
            #expect(meAfter.status == .unauthorized)
            #expect(meAfter.error?.error == .tokenInvalid)
            // Logout is idempotent, also for tokens it never saw.
            #expect(try await client.request(.post, "/auth/logout", json: ["refreshToken": next.refreshToken!]).status == .noContent)
            #expect(try await client.request(.post, "/auth/logout", json: ["refreshToken": "nonsense"]).status == .noContent)
        }
    }

    @Test func logoutWithBearerOnly() async throws {
        try await TestApp().run { client in
            let pair = try await client.register()
            let logout = try await client.request(.post, "/auth/logout", body: "", bearer: pair.accessToken!)
            #expect(logout.status == .noContent)
            #expect(try await client.refresh(pair.refreshToken!).error?.error == .invalidRefreshToken)
            #expect(try await client.request(.post, "/auth/logout").error?.error == .validationError)
        }
    }

    @Test func duplicateEmailInAnyCase() async throws {
        try await TestApp().run { client in
            _ = try await client.register(email: "dup@example.com")
            let again = try await client.request(
                .post,
                "/auth/register",
                json: ["email": "DUP@example.com", "password": "Other!pass9", "name": "B"]
            )
            #expect(again.status == .conflict)
            #expect(again.error?.error == .emailAlreadyRegistered)
        }
    }

    @Test func wrongPasswordAndUnknownEmailGetTheSameAnswer() async throws {
        try await TestApp().run { client in
            let user = try await client.register()
            let wrong = try await client.login(email: user.user.email, password: "Wrong!pass1")
            let unknown = try await client.login(email: "nobody@example.com", password: "Wrong!pass1")
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(wrong.error == unknown.error)
            #expect(wrong.error?.error == .invalidCredentials)
        }
    }

    @Test func updateProfile() async throws {
        try await TestApp().run { client in
            let pair = try await client.register()
            let updated = try await client.request(.patch, "/auth/me", json: ["name": "  Grace  "], bearer: pair.accessToken!)
            #expect(updated.status == .ok)
            #expect(try updated.decode(UserResponse.self).name == "Grace")
            let empty = try await client.request(.patch, "/auth/me", json: ["name": " "], bearer: pair.accessToken!)
            #expect(empty.error?.details?.first?.field == "name")
            let wrongType = try await client.request(.patch, "/auth/me", json: ["name": 42], bearer: pair.accessToken!)
            #expect(wrongType.error?.details == [FieldError(field: "name", message: "must be a string")])
        }
    }

    @Test func changePasswordRevokesOtherSessions() async throws {
        try await TestApp().run { client in
            let first = try await client.register()
            let email = first.user.email
            let second = try await client.login(email: email).decode(TokenPairResponse.self)

            let wrong = try await client.request(
                .post,
                "/auth/change-password",
                json: ["currentPassword": "Nope!nope1", "newPassword": "Brand!new42"],
                bearer: second.accessToken
            )
            #expect(wrong.error?.error == .invalidCredentials)
            let weak = try await client.request(
                .post,
                "/auth/change-password",
                json: ["currentPassword": "Tr1cky!pass", "newPassword": "short"],
                bearer: second.accessToken
            )
            #expect(weak.error?.error == .validationError)
            #expect(weak.error?.details?.allSatisfy { $0.field == "newPassword" } == true)

            let changed = try await client.request(
                .post,
                "/auth/change-password",
                json: ["currentPassword": "Tr1cky!pass", "newPassword": "Brand!new42"],
                bearer: second.accessToken
            )
            #expect(changed.status == .noContent)
            // The other session is gone, the caller's stays.
            #expect(try await client.request(.get, "/auth/me", bearer: first.accessToken!).error?.error == .tokenInvalid)
            #expect(try await client.refresh(first.refreshToken!).error?.error == .invalidRefreshToken)
            #expect(try await client.request(.get, "/auth/me", bearer: second.accessToken).status == .ok)
            #expect(try await client.refresh(second.refreshToken).status == .ok)
            #expect(try await client.login(email: email).error?.error == .invalidCredentials)
            #expect(try await client.login(email: email, password: "Brand!new42").status == .ok)
        }
    }

    @Test func softDelete() async throws {
        try await TestApp().run { client in
            let pair = try await client.register(email: "gone@example.com")
            let wrong = try await client.request(.delete, "/auth/me", json: ["password": "Wrong!pass1"], bearer: pair.accessToken!)
            #expect(wrong.error?.error == .invalidCredentials)
            let deleted = try await client.request(.delete, "/auth/me", json: ["password": "Tr1cky!pass"], bearer: pair.accessToken!)
            #expect(deleted.status == .noContent)
            #expect(try await client.request(.get, "/auth/me", bearer: pair.accessToken!).error?.error == .tokenInvalid)
            #expect(try await client.refresh(pair.refreshToken!).error?.error == .accountDisabled)
            let login = try await client.login(email: "gone@example.com")
            #expect(login.status == .forbidden)
            #expect(login.error?.error == .accountDisabled)
            // A wrong password still gets the generic answer: nothing is revealed without the password.
            #expect(try await client.login(email: "gone@example.com", password: "Wrong!pass1").error?.error == .invalidCredentials)
            let reuse = try await client.request(
                .post,
                "/auth/register",
                json: ["email": "gone@example.com", "password": "Tr1cky!pass", "name": "Again"]
            )
            #expect(reuse.error?.error == .emailAlreadyRegistered)
        }
    }

    @Test func sessionsListAndRevoke() async throws {
        try await TestApp().run { client in
            let first = try await client.register()
            let second = try await client.login(email: first.user.email).decode(TokenPairResponse.self)
            let other = try await client.register()

            let list = try await client.request(.get, "/auth/sessions", bearer: second.accessToken)
            #expect(list.status == .ok)
            let sessions = try list.decode(SessionListResponse.self).sessions
            #expect(sessions.count == 2)
            #expect(sessions.filter(\.current).count == 1)
            let firstSession = try #require(sessions.first { !$0.current })

            let foreign = try await client.request(.delete, "/auth/sessions/\(firstSession.id)", bearer: other.accessToken!)
            #expect(foreign.status == .notFound)
            #expect(foreign.error?.error == .notFound)
            #expect(try await client.request(.delete, "/auth/sessions/not-a-uuid", bearer: other.accessToken!).status == .notFound)

            let revoke = try await client.request(.delete, "/auth/sessions/\(firstSession.id)", bearer: second.accessToken)
            #expect(revoke.status == .noContent)
            #expect(try await client.request(.get, "/auth/me", bearer: first.accessToken!).error?.error == .tokenInvalid)
            let after = try await client.request(.get, "/auth/sessions", bearer: second.accessToken).decode(SessionListResponse.self)
            #expect(after.sessions.count == 1)
        }
    }

    @Test func logoutAll() async throws {
        try await TestApp().run { client in
            let first = try await client.register()
            let second = try await client.login(email: first.user.email).decode(TokenPairResponse.self)
            #expect(try await client.request(.post, "/auth/logout-all", bearer: first.accessToken!).status == .noContent)
            #expect(try await client.request(.get, "/auth/me", bearer: second.accessToken).error?.error == .tokenInvalid)
            #expect(try await client.refresh(second.refreshToken).error?.error == .invalidRefreshToken)
            #expect(try await client.request(.post, "/auth/logout-all").error?.error == .tokenMissing)
        }
    }

    @Test func verificationRequiredBlocksLogin() async throws {
        try await TestApp(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "true"]).run { client in
            let registered = try await client.register(email: "new@example.com")
            #expect(registered.accessToken == nil)
            #expect(registered.refreshToken == nil)
            let login = try await client.login(email: "new@example.com")
            #expect(login.status == .forbidden)
            #expect(login.error?.error == .emailNotVerified)
        }
    }

    /// The SQLite store remembers who a session belongs to between requests: every write that changes a
    /// session or its user must be seen by the very next request. Each session is used once before the change.
    @Test func authenticatedRequestsSeeEveryChangeAtOnce() async throws {
        try await TestApp().run { client in
            let registered = try await client.register(name: "Before")
            let email = registered.user.email
            func session() async throws -> TokenPairResponse {
                let pair = try await client.login(email: email).decode(TokenPairResponse.self)
                #expect(try await client.request(.get, "/auth/me", bearer: pair.accessToken).status == .ok)
                return pair
            }
            func me(_ pair: TokenPairResponse) async throws -> TestResponse {
                try await client.request(.get, "/auth/me", bearer: pair.accessToken)
            }

            let a = try await session()
            #expect(try await client.request(.patch, "/auth/me", json: ["name": "After"], bearer: a.accessToken).status == .ok)
            #expect(try await me(a).decode(UserResponse.self).name == "After")

            let (b, c) = (try await session(), try await session())
            let list = try await client.request(.get, "/auth/sessions", bearer: b.accessToken).decode(SessionListResponse.self)
            let idB = try #require(list.sessions.first(where: \.current)?.id)
            #expect(try await client.request(.delete, "/auth/sessions/\(idB)", bearer: c.accessToken).status == .noContent)
            #expect(try await me(b).error?.error == .tokenInvalid)

            #expect(try await client.request(.post, "/auth/logout", json: ["refreshToken": c.refreshToken!]).status == .noContent)
            #expect(try await me(c).error?.error == .tokenInvalid)

            let d = try await session()
            let first = try await client.refresh(d.refreshToken).decode(TokenPairResponse.self)
            #expect(try await me(first).status == .ok)
            _ = try await client.refresh(first.refreshToken)
            #expect(try await client.refresh(d.refreshToken).error?.error == .refreshTokenReused)  // two rotations old
            #expect(try await me(first).error?.error == .tokenInvalid)

            let (e, f) = (try await session(), try await session())
            let change = try await client.request(
                .post,
                "/auth/change-password",
                json: ["currentPassword": "Tr1cky!pass", "newPassword": "N3w!passphrase"],
                bearer: e.accessToken
            )
            #expect(change.status == .noContent)
            #expect(try await me(f).error?.error == .tokenInvalid)
            #expect(try await me(e).status == .ok)

            #expect(try await client.request(.post, "/auth/logout-all", bearer: e.accessToken).status == .noContent)
            #expect(try await me(e).error?.error == .tokenInvalid)

            let g = try await client.login(email: email, password: "N3w!passphrase").decode(TokenPairResponse.self)
            #expect(try await me(g).status == .ok)
            #expect(try await client.request(.delete, "/auth/me", json: ["password": "N3w!passphrase"], bearer: g.accessToken).status == .noContent)
            #expect(try await me(g).error?.error == .tokenInvalid)
        }
    }

    /// On PostgreSQL, concurrent authenticated requests share their session checks in one query: each must
    /// still get its own user, and its revoked session must still be refused.
    @Test func concurrentRequestsOfManySessionsGetTheirOwnAnswers() async throws {
        try await TestApp().run { client in
            var sessions: [(email: String, accessToken: String, live: Bool)] = []
            for user in 0..<4 {
                let email = try await client.register(email: "user\(user)@example.com").user.email
                for index in 0..<3 {
                    let pair = try await client.login(email: email).decode(TokenPairResponse.self)
                    let live = index != 1
                    if !live { #expect(try await client.request(.post, "/auth/logout", bearer: pair.accessToken).status == .noContent) }
                    sessions.append((email, pair.accessToken, live))
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for session in sessions + sessions + sessions {
                    group.addTask {
                        let response = try await client.request(.get, "/auth/me", bearer: session.accessToken)
                        if session.live {
                            #expect(try response.decode(UserResponse.self).email == session.email)
                        } else {
                            #expect(response.error?.error == .tokenInvalid)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// A change made outside the server (an operator's SQL shell) is seen within a second, and at once on PostgreSQL.
    @Test func outsideWritesAreSeenWithinASecond() async throws {
        let app = TestApp()
        try await app.run { client in
            let pair = try await client.register()
            let token = try #require(pair.accessToken)
            #expect(try await client.request(.get, "/auth/me", bearer: token).status == .ok)
            try await app.database.execute("UPDATE sessions SET revoked_at = created_at")
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await client.request(.get, "/auth/me", bearer: token).error?.error == .tokenInvalid)
        }
    }

    /// A later migration may add columns while servers run (`latchkey migrate` before a rolling restart):
    /// statements the server prepared earlier must keep working.
    @Test func addedColumnsDoNotBreakPreparedStatements() async throws {
        let app = TestApp()
        try await app.run { client in
            let registered = try await client.register()
            let pair = try await client.login(email: registered.user.email).decode(TokenPairResponse.self)
            #expect(try await client.request(.get, "/auth/me", bearer: pair.accessToken).status == .ok)
            try await app.database.execute("ALTER TABLE users ADD COLUMN nickname TEXT")
            try await app.database.execute("ALTER TABLE sessions ADD COLUMN device TEXT")
            let again = try await client.login(email: registered.user.email)
            #expect(again.status == .ok)
            let next = try await client.refresh(pair.refreshToken)
            #expect(next.status == .ok)
            #expect(try await client.request(.get, "/auth/me", bearer: try next.decode(TokenPairResponse.self).accessToken).status == .ok)
        }
    }
}
