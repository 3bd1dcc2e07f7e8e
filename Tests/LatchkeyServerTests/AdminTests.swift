import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyCore
import LatchkeyServer
import Logging
import Testing

/// `/admin` through the real app: who may call it, the user list's pages, and what each change does at once.
@Suite struct AdminTests {
    /// Registers an account and makes it an admin through the command line's own code path (the admin service).
    static func admin(_ client: Client, app: TestApp) async throws -> String {
        let email = "admin-\(UUID())@example.com"
        _ = try await client.register(email: email)
        try await app.promote(email)
        return try #require(try await client.login(email: email).json["accessToken"] as? String)
    }

    @Test func onlyAdminsMayCall() async throws {
        let app = TestApp()
        try await app.run { client in
            let user = try await client.register()
            for path in ["/admin/users", "/admin/users/\(UUID())"] {
                let anonymous = try await client.request(.get, path)
                #expect(anonymous.error?.error == .tokenMissing)
                let forbidden = try await client.request(.get, path, bearer: user.accessToken!)
                #expect(forbidden.status == .forbidden)
                #expect(forbidden.error?.error == .forbidden)
                #expect(forbidden.headers[.wwwAuthenticate]?.contains(#"error="insufficient_scope""#) == true)
            }
            let patch = try await client.request(.patch, "/admin/users/\(user.user.id)", json: ["role": "admin"], bearer: user.accessToken!)
            #expect(patch.status == .forbidden)
            #expect(try await client.request(.get, "/auth/me", bearer: user.accessToken!).decode(UserResponse.self).role == "user")
        }
    }

    @Test func usersArePagedNewestFirstWithoutGapsOrDuplicates() async throws {
        let app = TestApp()
        try await app.run { client in
            let token = try await Self.admin(client, app: app)
            for _ in 0..<6 { _ = try await client.register(email: "paged-\(UUID())@list.example") }
            var seen: [AdminUserResponse] = []
            var cursor: String?
            repeat {
                let path = "/admin/users?limit=4&email=%40LIST.example" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.request(.get, path, bearer: token).decode(AdminUserListResponse.self)
                seen += page.users
                cursor = page.nextCursor
                #expect(page.users.count == (cursor == nil ? 2 : 4))
            } while cursor != nil
            #expect(seen.count == 6 && Set(seen.map(\.id)).count == 6)
            #expect(seen.map(\.createdAt) == seen.map(\.createdAt).sorted(by: >))
            #expect(try await client.request(.get, "/admin/users?cursor=nonsense", bearer: token).error?.error == .validationError)
            #expect(try await client.request(.get, "/admin/users?limit=201", bearer: token).error?.error == .validationError)
            // The AdminUser object: null rather than absent for what is unset.
            let listed = try await client.request(.get, "/admin/users?email=paged", bearer: token)
            let first = try #require((listed.json["users"] as? [[String: Any]])?.first)
            #expect(first["deletedAt"] is NSNull && first["lastLoginAt"] is String)
            #expect(first["disabled"] as? Bool == false && first["activeSessions"] as? Int == 1)
            #expect(first["passwordHash"] == nil && first["password_hash"] == nil)
        }
    }

    @Test func disablingEndsTheSessionsAtOnceAndEnablingLetsTheOwnerBackIn() async throws {
        let app = TestApp()
        try await app.run { client in
            let token = try await Self.admin(client, app: app)
            let email = "target-\(UUID())@example.com"
            let target = try await client.register(email: email)
            let shown = try await client.request(.get, "/admin/users/\(target.user.id)", bearer: token).decode(AdminUserResponse.self)
            #expect(shown.email == email.lowercased() && shown.activeSessions == 1 && shown.lastLoginAt != nil && !shown.disabled)

            let disabled = try await client.request(.patch, "/admin/users/\(target.user.id)", json: ["disabled": true], bearer: token)
            #expect(disabled.status == .ok)
            let body = try disabled.decode(AdminUserResponse.self)
            #expect(body.disabled && body.activeSessions == 0)
            #expect(try await client.request(.get, "/auth/me", bearer: target.accessToken!).error?.error == .tokenInvalid)
            #expect(try await client.refresh(target.refreshToken).error?.error == .accountDisabled)
            #expect(try await client.login(email: email).error?.error == .accountDisabled)

            let enabled = try await client.request(.patch, "/admin/users/\(target.user.id)", json: ["disabled": false], bearer: token)
            #expect(try enabled.decode(AdminUserResponse.self).disabled == false)
            #expect(try await client.login(email: email).status == .ok)
        }
    }

    @Test func changesAreValidatedAndApplied() async throws {
        let app = TestApp()
        try await app.run { client in
            let token = try await Self.admin(client, app: app)
            let target = try await client.register()
            let path = "/admin/users/\(target.user.id)"
            let changed = try await client.request(.patch, path, json: ["name": "  Grace  ", "emailVerified": false, "role": "admin"], bearer: token)
            let body = try changed.decode(AdminUserResponse.self)
            #expect(body.name == "Grace" && !body.emailVerified && body.role == "admin")
            let bad = try await client.request(.patch, path, json: ["role": "root", "disabled": "yes", "name": "\u{202E}x"], bearer: token)
            #expect(bad.error?.error == .validationError)
            #expect(Set(bad.error?.details?.map(\.field) ?? []) == ["disabled"])
            let badRole = try await client.request(.patch, path, json: ["role": "root"], bearer: token)
            #expect(badRole.error?.details?.map(\.field) == ["role"])
            let badName = try await client.request(.patch, path, json: ["name": "\u{202E}x"], bearer: token)
            #expect(badName.error?.details?.map(\.field) == ["name"])
            #expect(try await client.request(.patch, "/admin/users/\(UUID())", json: ["name": "X"], bearer: token).error?.error == .notFound)
            #expect(try await client.request(.get, "/admin/users/not-a-uuid", bearer: token).error?.error == .notFound)
            // An admin cannot lock themselves out by a slip.
            let me = try await client.request(.get, "/auth/me", bearer: token).decode(UserResponse.self)
            let selfDemotion = try await client.request(.patch, "/admin/users/\(me.id)", json: ["role": "user", "disabled": true], bearer: token)
            #expect(Set(selfDemotion.error?.details?.map(\.field) ?? []) == ["role", "disabled"])
        }
    }

    @Test func logoutAllEndsEverySessionOfTheAccount() async throws {
        let app = TestApp()
        try await app.run { client in
            let token = try await Self.admin(client, app: app)
            let email = "sessions-\(UUID())@example.com"
            let first = try await client.register(email: email)
            let second = try await client.login(email: email).decode(TokenPairResponse.self)
            let answer = try await client.request(.post, "/admin/users/\(first.user.id)/logout-all", bearer: token)
            #expect(answer.status == .noContent)
            #expect(try await client.request(.get, "/auth/me", bearer: first.accessToken!).error?.error == .tokenInvalid)
            #expect(try await client.request(.get, "/auth/me", bearer: second.accessToken).error?.error == .tokenInvalid)
            #expect(try await client.request(.post, "/admin/users/\(UUID())/logout-all", bearer: token).error?.error == .notFound)
            // The admin's own session is untouched.
            #expect(try await client.request(.get, "/auth/me", bearer: token).status == .ok)
        }
    }
}

extension TestApp {
    /// Makes an account an admin, its email verified, with the services the `users promote` command uses.
    func promote(_ email: String) async throws {
        let services = try await LatchkeyServices.open(configuration: LatchkeyConfiguration(reader: reader), logger: Logger(label: "test"))
        try await services.whileConnected {
            let account = try #require(try await services.accounts.account(email: email))
            _ = try await services.admin.update(
                userID: account.id,
                UserChanges(role: .admin, emailVerified: true),
                client: .commandLine,
                logger: Logger(label: "test")
            )
        }
    }
}
