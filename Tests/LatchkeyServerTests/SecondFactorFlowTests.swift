import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// Contract v3, "Second factor: TOTP and recovery codes" and "Confirming a sensitive action", through the real app.
@Suite struct SecondFactorFlowTests {
    static let password = "Tr1cky!pass"

    /// A registered account with TOTP on, signed in on the session that enrolled it (whose `amr` is still `pwd`).
    struct Enrolled {
        var email: String
        var userID: String
        var session: TokenPairResponse
        var app: AuthenticatorApp
        var recoveryCodes: [String]
    }

    static func enroll(_ client: Client) async throws -> Enrolled {
        let email = "mfa-\(UUID())@example.com".lowercased()
        let registered = try await client.register(email: email)
        let session = try await client.login(email: email).decode(TokenPairResponse.self)
        let enrolment = try await client.request(.post, "/auth/mfa/totp/enroll", json: ["password": password], bearer: session.accessToken)
        #expect(enrolment.status == .ok)
        let app = try AuthenticatorApp(secret: try enrolment.decode(TOTPEnrolmentResponse.self).secret)
        let confirmed = try await client.request(
            .post,
            "/auth/mfa/totp/confirm",
            json: ["code": try await app.nextCode()],
            bearer: session.accessToken
        )
        #expect(confirmed.status == .ok)
        let codes = try confirmed.decode(RecoveryCodesResponse.self).recoveryCodes
        return Enrolled(email: email, userID: registered.user.id, session: session, app: app, recoveryCodes: codes)
    }

    /// The login challenge's `mfaToken`.
    static func challenge(_ client: Client, _ email: String) async throws -> String {
        let login = try await client.login(email: email)
        #expect(login.status == .ok)
        return try #require(login.json["mfaToken"] as? String)
    }

    @Test func enrolmentConfirmationAndTheLoginChallenge() async throws {
        try await TestApp().run { client in
            let email = "enrol-\(UUID())@example.com".lowercased()
            try await client.register(email: email)
            let session = try await client.login(email: email).decode(TokenPairResponse.self)
            let other = try await client.login(email: email).decode(TokenPairResponse.self)
            let bearer = session.accessToken

            let none = try await client.request(.get, "/auth/mfa", bearer: bearer)
            #expect(none.status == .ok)
            #expect(none.json["totp"] is NSNull && none.json["recoveryCodesRemaining"] as? Int == 0 && none.json["passkeys"] as? Int == 0)

            // The confirmation: the password is required, and checked.
            let missing = try await client.request(.post, "/auth/mfa/totp/enroll", json: [:], bearer: bearer)
            #expect(missing.status == .badRequest && missing.error?.details?.map(\.field) == ["password"])
            let wrong = try await client.request(.post, "/auth/mfa/totp/enroll", json: ["password": "nope"], bearer: bearer)
            #expect(wrong.status == .unauthorized && wrong.error?.error == .invalidCredentials)

            // A second enrolment replaces a pending one.
            _ = try await client.request(.post, "/auth/mfa/totp/enroll", json: ["password": Self.password], bearer: bearer)
            let enrolled = try await client.request(.post, "/auth/mfa/totp/enroll", json: ["password": Self.password], bearer: bearer)
            #expect(enrolled.status == .ok && enrolled.headers[.cacheControl] == "no-store")
            let enrolment = try enrolled.decode(TOTPEnrolmentResponse.self)
            #expect(enrolment.secret.count == 32 && enrolment.algorithm == "SHA1" && enrolment.digits == 6 && enrolment.period == 30)
            #expect(
                enrolment.otpauthUri
                    == "otpauth://totp/Latchkey:\(email)?secret=\(enrolment.secret)&issuer=Latchkey&algorithm=SHA1&digits=6&period=30"
            )
            #expect(enrolment.qrSvg.hasPrefix("<svg") && enrolment.qrSvg.hasSuffix("</svg>"))
            let pending = try await client.request(.get, "/auth/mfa", bearer: bearer).json["totp"] as? [String: Any]
            #expect(pending?["enabled"] as? Bool == false && pending?["confirmedAt"] is NSNull)

            let app = try AuthenticatorApp(secret: enrolment.secret)
            let badCode = try await client.request(.post, "/auth/mfa/totp/confirm", json: ["code": "000000"], bearer: bearer)
            #expect(badCode.status == .unauthorized && badCode.error?.error == .invalidMFACode)
            let confirmed = try await client.request(.post, "/auth/mfa/totp/confirm", json: ["code": try await app.nextCode()], bearer: bearer)
            #expect(confirmed.status == .ok && confirmed.headers[.cacheControl] == "no-store")
            let codes = try confirmed.decode(RecoveryCodesResponse.self).recoveryCodes
            #expect(codes.count == 10 && Set(codes).count == 10)
            #expect(codes.allSatisfy { $0.wholeMatch(of: /[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}/) != nil })
            let again = try await client.request(.post, "/auth/mfa/totp/confirm", json: ["code": "123456"], bearer: bearer)
            #expect(again.status == .notFound)

            // Every other session ended at the confirmation; this one goes on.
            #expect(try await client.refresh(other.refreshToken).status == .unauthorized)
            let status = try await client.request(.get, "/auth/mfa", bearer: bearer)
            #expect((status.json["totp"] as? [String: Any])?["enabled"] as? Bool == true && status.json["recoveryCodesRemaining"] as? Int == 10)

            // TOTP on: a new enrolment needs a code, then is refused.
            let noCode = try await client.request(.post, "/auth/mfa/totp/enroll", json: ["password": Self.password], bearer: bearer)
            #expect(noCode.status == .badRequest && noCode.error?.details?.map(\.field) == ["code"])
            let enabled = try await client.request(
                .post,
                "/auth/mfa/totp/enroll",
                json: ["password": Self.password, "code": codes[9]],
                bearer: bearer
            )
            #expect(enabled.status == .conflict && enabled.error?.error == .mfaAlreadyEnabled)

            // The login challenge: no session, no token; the confirming code does not finish it (replay).
            let login = try await client.login(email: email)
            #expect(login.status == .ok && login.headers[.cacheControl] == "no-store")
            #expect(login.json["mfaRequired"] as? Bool == true && login.json["accessToken"] == nil && login.json["expiresIn"] as? Int == 300)
            #expect(login.json["methods"] as? [String] == ["totp", "recovery"])
            let mfaToken = try #require(login.json["mfaToken"] as? String)
            #expect(mfaToken.count >= 43)
            let replayed = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "code": app.usedCode()])
            #expect(replayed.status == .unauthorized && replayed.error?.error == .invalidMFACode)
            let verified = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "code": try await app.nextCode()])
            #expect(verified.status == .ok && verified.headers[.cacheControl] == "no-store")
            let pair = try verified.decode(TokenPairResponse.self)
            #expect(try pair.amr == ["pwd", "otp", "mfa"] && SignInMethodTests.claims(pair.accessToken).amr == ["pwd", "otp", "mfa"])
            let used = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "code": try await app.nextCode()])
            #expect(used.status == .unauthorized && used.error?.error == .invalidMFAToken)
            #expect(try await client.request(.get, "/auth/me", bearer: pair.accessToken).status == .ok)
        }
    }

    @Test func recoveryCodesAreForgivingSingleUseAndReplaced() async throws {
        try await TestApp().run { client in
            let account = try await Self.enroll(client)
            let typed = account.recoveryCodes[0].uppercased().replacingOccurrences(of: "-", with: " ")
            let first = try await client.request(
                .post,
                "/auth/mfa/verify",
                json: ["mfaToken": try await Self.challenge(client, account.email), "recoveryCode": typed]
            )
            #expect(first.status == .ok)
            #expect(try first.decode(TokenPairResponse.self).amr == ["pwd", "recovery", "mfa"])
            let mfaToken = try await Self.challenge(client, account.email)
            let again = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "recoveryCode": account.recoveryCodes[0]])
            #expect(again.status == .unauthorized && again.error?.error == .invalidMFACode)
            let status = try await client.request(.get, "/auth/mfa", bearer: account.session.accessToken)
            #expect(status.json["recoveryCodesRemaining"] as? Int == 9)

            // One code, used by two requests at once: one success.
            let results = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<2 {
                    let token = try await Self.challenge(client, account.email)
                    group.addTask {
                        try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": token, "recoveryCode": account.recoveryCodes[1]])
                            .status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.sorted { $0.code < $1.code } == [.ok, .unauthorized])

            // New codes, confirmed with the password and a code; the old ones die.
            let regenerated = try await client.request(
                .post,
                "/auth/mfa/recovery-codes",
                json: ["password": Self.password, "code": try await account.app.nextCode()],
                bearer: account.session.accessToken
            )
            #expect(regenerated.status == .ok && regenerated.headers[.cacheControl] == "no-store")
            let fresh = try regenerated.decode(RecoveryCodesResponse.self).recoveryCodes
            #expect(fresh.count == 10 && Set(fresh).isDisjoint(with: account.recoveryCodes))
            let old = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "recoveryCode": account.recoveryCodes[2]])
            #expect(old.status == .unauthorized && old.error?.error == .invalidMFACode)
            let new = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "recoveryCode": fresh[0]])
            #expect(new.status == .ok)
            // `code` takes a recovery code too.
            let asCode = try await client.request(
                .post,
                "/auth/mfa/verify",
                json: ["mfaToken": try await Self.challenge(client, account.email), "code": fresh[1]]
            )
            #expect(try asCode.decode(TokenPairResponse.self).amr == ["pwd", "recovery", "mfa"])
        }
    }

    @Test func oneTOTPCodeSentTwiceAtOnceSucceedsOnce() async throws {
        try await TestApp().run { client in
            let account = try await Self.enroll(client)
            let tokens = [try await Self.challenge(client, account.email), try await Self.challenge(client, account.email)]
            let code = try await account.app.nextCode()
            let results = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for token in tokens {
                    group.addTask { try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": token, "code": code]).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.sorted { $0.code < $1.code } == [.ok, .unauthorized])
        }
    }

    @Test func anMFATokenDiesAfterFiveWrongCodes() async throws {
        try await TestApp(["LATCHKEY_MFA_FREE_FAILURES": "100"]).run { client in
            let account = try await Self.enroll(client)
            let mfaToken = try await Self.challenge(client, account.email)
            for _ in 1...5 {
                let wrong = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "code": "123456"])
                #expect(wrong.status == .unauthorized && wrong.error?.error == .invalidMFACode)
            }
            let right = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "code": try await account.app.nextCode()])
            #expect(right.status == .unauthorized && right.error?.error == .invalidMFAToken)
            let unknown = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": "nope", "code": "123456"])
            #expect(unknown.error?.error == .invalidMFAToken)
        }
    }

    /// Wrong codes and wrong passwords each have their own budget: neither wait blocks the other.
    @Test func codeAndPasswordThrottlesAreIndependent() async throws {
        let environment = ["LATCHKEY_MFA_FREE_FAILURES": "2", "LATCHKEY_LOGIN_FREE_FAILURES": "2", "LATCHKEY_LOGIN_DELAY": "60s"]
        try await TestApp(environment).run { client in
            let account = try await Self.enroll(client)
            var mfaToken = try await Self.challenge(client, account.email)
            for _ in 1...2 {
                #expect(try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "code": "123456"]).status == .unauthorized)
            }
            // During the code wait, a right code (TOTP or recovery) is a 429 too; the password login goes on.
            let right = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": mfaToken, "recoveryCode": account.recoveryCodes[0]])
            #expect(right.status == .tooManyRequests && right.headers[.retryAfter] != nil)
            mfaToken = try await Self.challenge(client, account.email)
            // Confirmations take codes from the same budget.
            let confirm = try await client.request(
                .post,
                "/auth/mfa/recovery-codes",
                json: ["password": Self.password, "code": account.recoveryCodes[0]],
                bearer: account.session.accessToken
            )
            #expect(confirm.status == .tooManyRequests)

            // The password wait does not block the second step of a sign-in.
            let other = try await Self.enroll(client)
            let pending = try await Self.challenge(client, other.email)
            for _ in 1...2 { #expect(try await client.login(email: other.email, password: "wrong").status == .unauthorized) }
            #expect(try await client.login(email: other.email).status == .tooManyRequests)
            let verified = try await client.request(.post, "/auth/mfa/verify", json: ["mfaToken": pending, "code": try await other.app.nextCode()])
            #expect(verified.status == .ok)
        }
    }

    /// A wrong password in a confirmation counts as a failed login; during the account's wait a confirmation is a 429
    /// without its password being checked, the right one too.
    @Test func aConfirmationWaitsOutTheAccountsLoginThrottle() async throws {
        try await TestApp(["LATCHKEY_LOGIN_FREE_FAILURES": "1", "LATCHKEY_LOGIN_DELAY": "60s"]).run { client in
            let pair = try await client.register()
            let bearer = try #require(pair.accessToken)
            let wrong = try await client.request(.post, "/auth/mfa/totp/enroll", json: ["password": "Wrong!pass1"], bearer: bearer)
            #expect(wrong.status == .unauthorized && wrong.error?.error == .invalidCredentials)
            let waiting = try await client.request(.post, "/auth/mfa/totp/enroll", json: ["password": Self.password], bearer: bearer)
            #expect(waiting.status == .tooManyRequests && waiting.headers[.retryAfter] != nil)
            #expect(try await client.login(email: pair.user.email).status == .tooManyRequests)
        }
    }

    @Test func stepUpAddsTheFactorToTheSessionAndRotatesItsRefreshToken() async throws {
        try await TestApp().run { client in
            let account = try await Self.enroll(client)
            #expect(account.session.amr == ["pwd"])
            let steppedAt = Int64(Date().timeIntervalSince1970)
            let stepped = try await client.request(
                .post,
                "/auth/mfa/verify",
                json: ["code": try await account.app.nextCode()],
                bearer: account.session.accessToken
            )
            #expect(stepped.status == .ok)
            let pair = try stepped.decode(TokenPairResponse.self)
            let (before, after) = (try SignInMethodTests.claims(account.session.accessToken), try SignInMethodTests.claims(pair.accessToken))
            #expect(pair.amr == ["pwd", "otp", "mfa"] && after.amr == ["pwd", "otp", "mfa"] && after.sid == before.sid)
            #expect(try #require(after.authTime) >= steppedAt)
            // The replaced refresh token counts as rotated: within the grace it gets the same successor.
            let replay = try await client.refresh(account.session.refreshToken)
            #expect(replay.status == .ok)
            #expect(try replay.decode(TokenPairResponse.self).refreshToken == pair.refreshToken)
            #expect(try replay.decode(TokenPairResponse.self).amr == ["pwd", "otp", "mfa"])
            let sessions = try await client.request(.get, "/auth/sessions", bearer: pair.accessToken).decode(SessionListResponse.self)
            #expect(sessions.sessions.first { $0.current }?.amr == ["pwd", "otp", "mfa"])

            // An account without TOTP has no code to add.
            let plain = try await client.register()
            let refused = try await client.request(.post, "/auth/mfa/verify", json: ["code": "123456"], bearer: plain.accessToken)
            #expect(refused.status == .unauthorized && refused.error?.error == .invalidMFACode)
            let neither = try await client.request(.post, "/auth/mfa/verify", json: ["code": "123456"])
            #expect(neither.status == .badRequest && neither.error?.details?.map(\.field) == ["mfaToken"])
            // Authentication comes before the body's fields.
            let badToken = try await client.request(.post, "/auth/mfa/verify", json: [:], bearer: "not-a-token")
            #expect(badToken.status == .unauthorized && badToken.error?.error == .tokenInvalid)
        }
    }

    @Test func sensitiveActionsNeedTheCodeAndTurningTOTPOffWorks() async throws {
        try await TestApp().run { client in
            let account = try await Self.enroll(client)
            let bearer = account.session.accessToken
            let noCode = try await client.request(.delete, "/auth/mfa/totp", json: ["password": Self.password], bearer: bearer)
            #expect(noCode.status == .badRequest && noCode.error?.details?.map(\.field) == ["code"])
            let wrongPassword = try await client.request(.delete, "/auth/mfa/totp", json: ["password": "wrong", "code": "123456"], bearer: bearer)
            #expect(wrongPassword.status == .unauthorized && wrongPassword.error?.error == .invalidCredentials)
            let wrongCode = try await client.request(.delete, "/auth/mfa/totp", json: ["password": Self.password, "code": "123456"], bearer: bearer)
            #expect(wrongCode.status == .unauthorized && wrongCode.error?.error == .invalidMFACode)
            let deleteMe = try await client.request(.delete, "/auth/me", json: ["password": Self.password], bearer: bearer)
            #expect(deleteMe.status == .badRequest && deleteMe.error?.details?.map(\.field) == ["code"])

            let off = try await client.request(
                .delete,
                "/auth/mfa/totp",
                json: ["password": Self.password, "code": try await account.app.nextCode()],
                bearer: bearer
            )
            #expect(off.status == .noContent)
            let status = try await client.request(.get, "/auth/mfa", bearer: bearer)
            #expect(status.json["totp"] is NSNull && status.json["recoveryCodesRemaining"] as? Int == 0)
            let login = try await client.login(email: account.email)
            #expect(try login.decode(TokenPairResponse.self).amr == ["pwd"])
            let offAgain = try await client.request(.delete, "/auth/mfa/totp", json: ["password": Self.password], bearer: bearer)
            #expect(offAgain.status == .notFound)
        }
    }

    @Test func administratorsResetTheFactorAndMayBeRequiredToUseOne() async throws {
        let app = TestApp(["LATCHKEY_ADMIN_REQUIRE_MFA": "on"])
        try await app.run { client in
            let adminAccount = try await Self.enroll(client)
            try await app.promote(adminAccount.email)
            let passwordOnly = try await client.request(.post, "/auth/refresh", json: ["refreshToken": adminAccount.session.refreshToken ?? ""])
                .decode(TokenPairResponse.self)
            let refused = try await client.request(.get, "/admin/users", bearer: passwordOnly.accessToken)
            #expect(refused.status == .forbidden && refused.error?.error == .mfaRequired)
            #expect(refused.headers[.wwwAuthenticate]?.contains(#"error="insufficient_user_authentication""#) == true)
            let mfaToken = try await Self.challenge(client, adminAccount.email)
            let admin = try await client.request(
                .post,
                "/auth/mfa/verify",
                json: ["mfaToken": mfaToken, "code": try await adminAccount.app.nextCode()]
            )
            .decode(TokenPairResponse.self).accessToken
            #expect(try await client.request(.get, "/admin/users", bearer: admin).status == .ok)

            let user = try await Self.enroll(client)
            let reset = try await client.request(.delete, "/admin/users/\(user.userID)/mfa", bearer: admin)
            #expect(reset.status == .noContent)
            #expect(try await client.refresh(user.session.refreshToken).status == .unauthorized)
            #expect(try await client.login(email: user.email).decode(TokenPairResponse.self).amr == ["pwd"])
            #expect(try await client.request(.delete, "/admin/users/\(UUID())/mfa", bearer: admin).status == .notFound)
            let events = try await client.request(.get, "/admin/audit?type=mfa.reset&userId=\(user.userID)", bearer: admin)
                .decode(AuditEventListResponse.self)
            #expect(events.events.count == 1)
        }
    }

    @Test func aPasswordResetLeavesTheSecondFactorOn() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        defer { smtp.stop() }
        try await TestApp(smtp.environment.merging(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false"]) { $1 }).run { client in
            let account = try await Self.enroll(client)
            let forgot = try await client.request(.post, "/auth/forgot-password", json: ["email": account.email])
            #expect(forgot.status == .accepted, "\(forgot.json)")
            let token = try #require(try await smtp.waitForMessages(1).first?.token(after: "/auth/reset-password"))
            let reset = try await client.request(.post, "/auth/reset-password", json: ["token": token, "newPassword": "Brand!new42"])
            #expect(reset.status == .noContent)
            let login = try await client.login(email: account.email, password: "Brand!new42")
            #expect(login.status == .ok && login.json["mfaRequired"] as? Bool == true && login.json["accessToken"] == nil)
        }
    }

    /// The enrolment's QR code, rendered and read by zxing-cpp (`Tests/Support/qr_decode.py`), is exactly its URI: for a
    /// long address and a product name with spaces too.
    @Test func theEnrolmentsQRCodeReadsAsItsURI() async throws {
        try await TestApp(["LATCHKEY_PRODUCT_NAME": "Acme Single Sign-On"]).run { client in
            let email = String(repeating: "a", count: 60) + "@" + String(repeating: "b", count: 60) + ".example.com"
            let pair = try await client.register(email: email)
            let enrolled = try await client.request(
                .post,
                "/auth/mfa/totp/enroll",
                json: ["password": Self.password],
                bearer: try #require(pair.accessToken)
            )
            let enrolment = try enrolled.decode(TOTPEnrolmentResponse.self)
            #expect(enrolment.otpauthUri.hasPrefix("otpauth://totp/Acme%20Single%20Sign-On:\(email)?secret="))
            #expect(enrolment.otpauthUri.hasSuffix("&issuer=Acme%20Single%20Sign-On&algorithm=SHA1&digits=6&period=30"))
            let directory = FileManager.default.temporaryDirectory.appending(path: "latchkey-enrolment-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try enrolment.qrSvg.write(to: directory.appending(path: "enrolment.svg"), atomically: true, encoding: .utf8)
            let script = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Support/qr_decode.py")
            let process = Process()
            process.executableURL = URL(filePath: "/usr/bin/env")
            process.arguments = ["python3", script.path, directory.path]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "qr_decode.py failed: are zxing-cpp, cairosvg and pillow installed (scripts/test does it)?")
            let decoded = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(decoded["enrolment"] as? String == enrolment.otpauthUri)
        }
    }

    /// An account without a password confirms with a recent sign-in: within `LATCHKEY_REAUTH_MAX_AGE` of it, and not after.
    /// Two servers on one database, one allowing an hour and one a second, so that a loaded machine's delays cannot
    /// turn a recent sign-in into an old one.
    @Test func accountsWithoutAPasswordConfirmWithARecentSignIn() async throws {
        let lenient = TestApp(["LATCHKEY_REAUTH_MAX_AGE": "1h"])
        let strict = TestApp(["LATCHKEY_REAUTH_MAX_AGE": "1s"], database: lenient.database)
        let bearer = try await lenient.run { client in
            let pair = try await client.register()
            try await lenient.database.execute("UPDATE users SET password_hash = '' WHERE email = '\(pair.user.email)'")
            // SQLite's session cache holds the account for at most a second.
            try await Task.sleep(for: .milliseconds(1100))
            let enrolled = try await client.request(.post, "/auth/mfa/totp/enroll", json: [:], bearer: try #require(pair.accessToken))
            #expect(enrolled.status == .ok)
            return try #require(pair.accessToken)
        }
        try await strict.run { client in
            let stale = try await client.request(.post, "/auth/mfa/totp/enroll", json: ["password": "anything"], bearer: bearer)
            #expect(stale.status == .forbidden && stale.error?.error == .reauthenticationRequired)
            #expect(stale.headers[.wwwAuthenticate]?.contains(#"error="insufficient_user_authentication""#) == true)
        }
    }

    /// Secrets rest only sealed or hashed: the TOTP secret, the recovery codes, the challenge's token.
    @Test func nothingSecretIsStoredInTheClear() async throws {
        let app = TestApp()
        try await app.run { client in
            let account = try await Self.enroll(client)
            let mfaToken = try await Self.challenge(client, account.email)
            let dump = try await [
                "SELECT * FROM totp_factors", "SELECT * FROM recovery_codes", "SELECT * FROM mfa_challenges", "SELECT * FROM audit_events",
            ].asyncFlatMap { try await app.database.rows($0) }.description.lowercased()
            let secret = TOTPFactor.base32(account.app.secret).lowercased()
            #expect(!dump.contains(secret) && !dump.contains(String(decoding: account.app.secret, as: UTF8.self).lowercased()))
            for code in account.recoveryCodes {
                #expect(!dump.contains(code) && !dump.contains(code.replacingOccurrences(of: "-", with: "")))
            }
            #expect(!dump.contains(mfaToken.lowercased()))
        }
    }
}

extension Array {
    func asyncFlatMap<T>(_ transform: (Element) async throws -> [T]) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result += try await transform(element) }
        return result
    }
}
