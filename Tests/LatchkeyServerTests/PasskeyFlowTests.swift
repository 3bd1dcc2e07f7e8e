import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// Contract v3, "Passkeys (WebAuthn Level 3)", through the real app with a software authenticator.
@Suite struct PasskeyFlowTests {
    static let password = "Tr1cky!pass"
    static let environment = ["LATCHKEY_APP_URL": "https://example.com"]

    static func authenticator(_ algorithm: COSEAlgorithm = .es256) throws -> SoftwareAuthenticator {
        try SoftwareAuthenticator(algorithm, rpID: "example.com", origin: "https://example.com")
    }

    /// A registered account signed in with its password, and the creation options it asked for.
    struct Account {
        var email: String
        var bearer: String
        var userHandle: String
    }

    static func account(_ client: Client) async throws -> Account {
        let email = "passkey-\(UUID())@example.com".lowercased()
        let registered = try await client.register(email: email)
        let bearer = try #require(registered.accessToken)
        let options = try await client.request(.post, "/auth/passkeys/register/options", json: ["password": password], bearer: bearer)
        let user = try #require(options.json["user"] as? [String: Any])
        return Account(email: email, bearer: bearer, userHandle: try #require(user["id"] as? String))
    }

    /// Registers `authenticator` on the account with a fresh challenge.
    @discardableResult
    static func register(_ authenticator: SoftwareAuthenticator, on account: Account, _ client: Client) async throws -> TestResponse {
        let options = try await client.request(.post, "/auth/passkeys/register/options", json: ["password": password], bearer: account.bearer)
        let challenge = try #require(options.json["challenge"] as? String)
        return try await client.request(
            .post,
            "/auth/passkeys/register",
            json: ["credential": try authenticator.registrationJSON(challenge: challenge), "name": "Phone"],
            bearer: account.bearer
        )
    }

    static func signIn(_ authenticator: SoftwareAuthenticator, userHandle: String?, _ client: Client) async throws -> TestResponse {
        let options = try await client.request(.post, "/auth/passkeys/login/options", json: [:])
        let challenge = try #require(options.json["challenge"] as? String)
        return try await client.request(
            .post,
            "/auth/passkeys/login",
            json: ["credential": try authenticator.assertionJSON(challenge: challenge, userHandle: userHandle)]
        )
    }

    @Test func registrationAndDiscoverableSignIn() async throws {
        try await TestApp(Self.environment).run { client in
            let email = "passkey-\(UUID())@example.com".lowercased()
            let bearer = try #require(try await client.register(email: email, name: "Ada").accessToken)
            // The confirmation rule: the password.
            let unconfirmed = try await client.request(.post, "/auth/passkeys/register/options", json: [:], bearer: bearer)
            #expect(unconfirmed.status == .badRequest && unconfirmed.error?.details?.map(\.field) == ["password"])
            let answered = try await client.request(.post, "/auth/passkeys/register/options", json: ["password": Self.password], bearer: bearer)
            #expect(answered.status == .ok && answered.headers[.cacheControl] == "no-store")
            let options = try answered.decode(PublicKeyCredentialCreationOptionsJSON.self)
            #expect(options.rp == .init(id: "example.com", name: "Latchkey"))
            #expect(options.user.name == email && options.user.displayName == "Ada")
            // A random 32-byte handle, never the email or the id.
            #expect(SoftwareAuthenticator.bytes(base64URL: options.user.id).count == 32)
            #expect(SoftwareAuthenticator.bytes(base64URL: options.challenge).count == 32)
            #expect(options.pubKeyCredParams.map(\.alg) == [-8, -7, -257] && options.pubKeyCredParams.allSatisfy { $0.type == "public-key" })
            #expect(options.timeout == 300_000 && options.excludeCredentials.isEmpty && options.attestation == "none")
            #expect(options.authenticatorSelection.residentKey == "required" && options.authenticatorSelection.userVerification == "preferred")

            let authenticator = try Self.authenticator()
            let credential = try authenticator.registrationJSON(challenge: options.challenge)
            let registered = try await client.request(.post, "/auth/passkeys/register", json: ["credential": credential], bearer: bearer)
            #expect(registered.status == .created)
            let passkey = try registered.decode(PasskeyResponse.self)
            #expect(passkey.name == "Passkey" && passkey.lastUsedAt == nil && registered.json["lastUsedAt"] is NSNull)
            #expect(passkey.transports == ["internal", "hybrid"] && passkey.aaguid == "00000000-0000-0000-0000-000000000000")
            // The same response again: its challenge is spent.
            let replayed = try await client.request(.post, "/auth/passkeys/register", json: ["credential": credential], bearer: bearer)
            #expect(replayed.status == .badRequest && replayed.error?.error == .passkeyInvalid)
            // The same credential with a fresh challenge: registered already.
            let twice = try await Self.register(authenticator, on: Account(email: email, bearer: bearer, userHandle: options.user.id), client)
            #expect(twice.status == .conflict && twice.error?.error == .passkeyAlreadyRegistered)
            let again = try await client.request(.post, "/auth/passkeys/register/options", json: ["password": Self.password], bearer: bearer)
            let excluded = try again.decode(PublicKeyCredentialCreationOptionsJSON.self)
            #expect(
                excluded.excludeCredentials == [
                    .init(id: SoftwareAuthenticator.base64URL(authenticator.credentialID), transports: ["internal", "hybrid"])
                ]
            )
            #expect(excluded.user.id == options.user.id)

            let signInOptions = try await client.request(.post, "/auth/passkeys/login/options", json: [:])
            #expect(signInOptions.status == .ok && signInOptions.headers[.cacheControl] == "no-store")
            let requestOptions = try signInOptions.decode(PublicKeyCredentialRequestOptionsJSON.self)
            #expect(requestOptions.rpId == "example.com" && requestOptions.allowCredentials.isEmpty && requestOptions.timeout == 300_000)
            #expect(requestOptions.userVerification == "preferred")
            let assertion = try authenticator.assertionJSON(challenge: requestOptions.challenge, userHandle: options.user.id)
            let signedIn = try await client.request(.post, "/auth/passkeys/login", json: ["credential": assertion])
            #expect(signedIn.status == .ok)
            #expect(try signedIn.decode(TokenPairResponse.self).amr == ["hwk", "mfa"])
            let replayedSignIn = try await client.request(.post, "/auth/passkeys/login", json: ["credential": assertion])
            #expect(replayedSignIn.status == .unauthorized && replayedSignIn.error?.error == .invalidCredentials)

            var withoutUV = authenticator
            withoutUV.flags = [.userPresent]
            let hwk = try await Self.signIn(withoutUV, userHandle: options.user.id, client)
            #expect(hwk.status == .ok)
            #expect(try hwk.decode(TokenPairResponse.self).amr == ["hwk"])
            let listed = try await client.request(.get, "/auth/passkeys", bearer: bearer).decode(PasskeyListResponse.self)
            #expect(listed.passkeys.count == 1 && listed.passkeys.first?.lastUsedAt != nil)
            #expect(try await client.request(.get, "/auth/mfa", bearer: bearer).json["passkeys"] as? Int == 1)
        }
    }

    /// One answer for every refusal; the challenge is spent by each.
    @Test func signInRefusalsAnswerInvalidCredentials() async throws {
        try await TestApp(Self.environment).run { client in
            let account = try await Self.account(client)
            let authenticator = try Self.authenticator()
            #expect(try await Self.register(authenticator, on: account, client).status == .created)
            var wrongOrigin = authenticator
            wrongOrigin.origin = "https://evil.example"
            var cloned = authenticator
            cloned.key = try PasskeyKey(.es256)
            var unregistered = try Self.authenticator()
            unregistered.credentialID = [1, 2, 3]
            for (what, refused, handle) in [
                ("no user handle", authenticator, nil), ("another handle", authenticator, SoftwareAuthenticator.base64URL([9])),
                ("wrong origin", wrongOrigin, account.userHandle), ("wrong key", cloned, account.userHandle),
                ("unknown credential", unregistered, account.userHandle),
            ] as [(String, SoftwareAuthenticator, String?)] {
                let answer = try await Self.signIn(refused, userHandle: handle, client)
                #expect(answer.status == .unauthorized && answer.error?.error == .invalidCredentials, "\(what)")
            }
            // A registration challenge does not sign in, nor a sign-in challenge register.
            let registration = try await client.request(
                .post,
                "/auth/passkeys/register/options",
                json: ["password": Self.password],
                bearer: account.bearer
            )
            let registerChallenge = try #require(registration.json["challenge"] as? String)
            let crossed = try await client.request(
                .post,
                "/auth/passkeys/login",
                json: ["credential": try authenticator.assertionJSON(challenge: registerChallenge, userHandle: account.userHandle)]
            )
            #expect(crossed.status == .unauthorized)
            let login = try await client.request(.post, "/auth/passkeys/login/options", json: [:])
            let other = try Self.authenticator()
            let wrongPurpose = try await client.request(
                .post,
                "/auth/passkeys/register",
                json: ["credential": try other.registrationJSON(challenge: try #require(login.json["challenge"] as? String))],
                bearer: account.bearer
            )
            #expect(wrongPurpose.status == .badRequest && wrongPurpose.error?.error == .passkeyInvalid)
            // A body that is not the JSON form at all is a validation error naming the field.
            for body in [[:], ["credential": "nope"], ["credential": ["id": "x"]]] as [[String: any Sendable]] {
                let malformed = try await client.request(.post, "/auth/passkeys/login", json: body)
                #expect(malformed.status == .badRequest && malformed.error?.details?.map(\.field) == ["credential"], "\(body)")
            }
            // Still good after all of them.
            #expect(try await Self.signIn(authenticator, userHandle: account.userHandle, client).status == .ok)
        }
    }

    @Test func aCounterThatDoesNotGrowIsRefusedAndAudited() async throws {
        let app = TestApp(Self.environment)
        try await app.run { client in
            let account = try await Self.account(client)
            var authenticator = try Self.authenticator()
            authenticator.signCount = 5
            #expect(try await Self.register(authenticator, on: account, client).status == .created)
            authenticator.signCount = 6
            #expect(try await Self.signIn(authenticator, userHandle: account.userHandle, client).status == .ok)
            let copy = try await Self.signIn(authenticator, userHandle: account.userHandle, client)
            #expect(copy.status == .unauthorized && copy.error?.error == .invalidCredentials)
            // The genuine authenticator goes on.
            authenticator.signCount = 7
            #expect(try await Self.signIn(authenticator, userHandle: account.userHandle, client).status == .ok)
            let admin = try await AdminTests.admin(client, app: app)
            let events = try await client.request(.get, "/admin/audit?type=passkey.clone_suspected", bearer: admin).decode(
                AuditEventListResponse.self
            )
            #expect(events.events.count == 1 && events.events.first?.details["storedCount"] == .int(6))
            // The administrator sees how many passkeys the account has.
            let userID = try #require(try await client.request(.get, "/auth/me", bearer: account.bearer).json["id"] as? String)
            #expect(try await client.request(.get, "/admin/users/\(userID)", bearer: admin).json["passkeys"] as? Int == 1)
        }
    }

    @Test func anAccountWithTOTPChallengesASignInWithoutUserVerification() async throws {
        try await TestApp(Self.environment).run { client in
            let enrolled = try await SecondFactorFlowTests.enroll(client)
            let fresh = try await client.login(email: enrolled.email)
            let mfaToken = try #require(fresh.json["mfaToken"] as? String)
            let session = try await client.request(
                .post,
                "/auth/mfa/verify",
                json: ["mfaToken": mfaToken, "code": try await enrolled.app.nextCode()]
            ).decode(TokenPairResponse.self)
            let options = try await client.request(
                .post,
                "/auth/passkeys/register/options",
                json: ["password": Self.password, "code": try await enrolled.app.nextCode()],
                bearer: session.accessToken
            )
            let handle = try #require((options.json["user"] as? [String: Any])?["id"] as? String)
            var authenticator = try Self.authenticator(.edDSA)
            let credential = try authenticator.registrationJSON(challenge: try #require(options.json["challenge"] as? String))
            let registered = try await client.request(.post, "/auth/passkeys/register", json: ["credential": credential], bearer: session.accessToken)
            #expect(registered.status == .created)

            // With UV the passkey is both factors; without, the second is asked for.
            #expect(try await Self.signIn(authenticator, userHandle: handle, client).decode(TokenPairResponse.self).amr == ["hwk", "mfa"])
            authenticator.flags = [.userPresent]
            let challenged = try await Self.signIn(authenticator, userHandle: handle, client)
            #expect(challenged.status == .ok && challenged.json["mfaRequired"] as? Bool == true && challenged.json["accessToken"] == nil)
        }
    }

    @Test func aDeletedAccountIsToldSoOnlyAfterEveryCheck() async throws {
        try await TestApp(Self.environment).run { client in
            let account = try await Self.account(client)
            let authenticator = try Self.authenticator(.rs256)
            #expect(try await Self.register(authenticator, on: account, client).status == .created)
            #expect(try await client.request(.delete, "/auth/me", json: ["password": Self.password], bearer: account.bearer).status == .noContent)
            let refused = try await Self.signIn(authenticator, userHandle: SoftwareAuthenticator.base64URL([1]), client)
            #expect(refused.status == .unauthorized)
            let deleted = try await Self.signIn(authenticator, userHandle: account.userHandle, client)
            #expect(deleted.status == .forbidden && deleted.error?.error == .accountDisabled)
        }
    }

    @Test func renamingAndRemoving() async throws {
        try await TestApp(Self.environment).run { client in
            let account = try await Self.account(client)
            let other = try await Self.account(client)
            let passkey = try await Self.register(try Self.authenticator(), on: account, client).decode(PasskeyResponse.self)
            #expect(passkey.name == "Phone")
            for bad in ["", String(repeating: "x", count: 65), "two\nlines", "tab\there", "bidi\u{202E}"] {
                let refused = try await client.request(.patch, "/auth/passkeys/\(passkey.id)", json: ["name": bad], bearer: account.bearer)
                #expect(refused.status == .badRequest && refused.error?.details?.map(\.field) == ["name"], "\(bad)")
            }
            let renamed = try await client.request(.patch, "/auth/passkeys/\(passkey.id)", json: ["name": "Écran 🔑"], bearer: account.bearer)
            #expect(renamed.status == .ok)
            #expect(try renamed.decode(PasskeyResponse.self).name == "Écran 🔑")
            #expect(
                try await client.request(.patch, "/auth/passkeys/\(passkey.id)", json: ["name": "Mine"], bearer: other.bearer).status == .notFound
            )
            #expect(
                try await client.request(.delete, "/auth/passkeys/\(passkey.id)", json: ["password": Self.password], bearer: other.bearer).status
                    == .notFound
            )
            let unconfirmed = try await client.request(.delete, "/auth/passkeys/\(passkey.id)", json: ["password": "wrong"], bearer: account.bearer)
            #expect(unconfirmed.status == .unauthorized)
            #expect(
                try await client.request(.delete, "/auth/passkeys/\(passkey.id)", json: ["password": Self.password], bearer: account.bearer).status
                    == .noContent
            )
            #expect(try await client.request(.get, "/auth/passkeys", bearer: account.bearer).decode(PasskeyListResponse.self).passkeys.isEmpty)
        }
    }

    @Test func nativeAppsGetTheirAssociationDocuments() async throws {
        try await TestApp().run { client in
            let apple = try await client.request(.get, "/.well-known/apple-app-site-association")
            let android = try await client.request(.get, "/.well-known/assetlinks.json")
            #expect(apple.status == .notFound && android.status == .notFound)
        }
        let (first, second) = (String(repeating: "0f", count: 32), String(repeating: "A1:", count: 31) + "A1")
        let apps = [
            "LATCHKEY_APPLE_APP_IDS": "ABCDE12345.com.example.app, ABCDE12345.com.example.clip",
            "LATCHKEY_ANDROID_APPS": "com.example.app=SHA256:\(first),com.example.app=\(second),org.example.other=\(second)",
        ]
        try await TestApp(apps).run { client in
            let apple = try await client.request(.get, "/.well-known/apple-app-site-association")
            #expect(apple.status == .ok && apple.headers[.contentType] == "application/json")
            let ids = ["ABCDE12345.com.example.app", "ABCDE12345.com.example.clip"]
            let expected: NSDictionary = [
                "webcredentials": ["apps": ids],
                "applinks": ["details": [["appIDs": ids, "components": [["/": "/auth/*"]]]]],
            ]
            #expect(NSDictionary(dictionary: apple.json) == expected)

            let android = try await client.request(.get, "/.well-known/assetlinks.json")
            #expect(android.status == .ok && android.headers[.contentType] == "application/json")
            let statements = try JSONSerialization.jsonObject(with: Data(buffer: android.body)) as? [[String: Any]]
            let relations = ["delegate_permission/common.get_login_creds", "delegate_permission/common.handle_all_urls"]
            let upper = (0..<32).map { _ in "0F" }.joined(separator: ":")
            let expectedStatements: NSArray = [
                [
                    "relation": relations,
                    "target": ["namespace": "android_app", "package_name": "com.example.app", "sha256_cert_fingerprints": [upper, second]],
                ],
                [
                    "relation": relations,
                    "target": ["namespace": "android_app", "package_name": "org.example.other", "sha256_cert_fingerprints": [second]],
                ],
            ]
            #expect(statements.map { NSArray(array: $0) } == expectedStatements)
        }
    }
}
