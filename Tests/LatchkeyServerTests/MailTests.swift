import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyTestSupport
import Testing

/// The emailed flows against a real SMTP server on loopback.
@Suite struct MailTests {
    @Test func registerVerifyLoginWithRealMail() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment).run { client in
            let registered = try await client.request(
                .post,
                "/auth/register",
                json: ["email": "Mia@Example.com", "password": "Tr1cky!pass", "name": "Mia Müller"]
            )
            #expect(registered.status == .created)
            #expect(registered.json["accessToken"] == nil)
            #expect(try await client.login(email: "mia@example.com").error?.error == .emailNotVerified)

            let mail = try #require(try await smtp.waitForMessages(1).first)
            #expect(mail.from == "auth@latchkey.test")
            #expect(mail.to == ["mia@example.com"])
            #expect(mail.header("Subject") == "Confirm your email address")
            #expect(mail.header("From") == "Latchkey <auth@latchkey.test>")
            #expect(mail.header("To") == "<mia@example.com>")
            #expect(mail.header("Date") != nil)
            #expect(mail.header("Message-ID")?.hasSuffix("@latchkey.test>") == true)
            #expect(mail.header("Content-Type")?.hasPrefix("multipart/alternative") == true)
            #expect(mail.parts.count == 2)
            #expect(mail.parts[0].contains("Hello Mia Müller"))
            #expect(mail.parts[0].contains("https://app.example.com/auth/verify-email?token="))
            #expect(mail.parts[0].contains("24 hours"))
            #expect(mail.parts[1].contains("<a href=\"https://app.example.com/auth/verify-email?token="))
            let token = try #require(mail.token(after: "/auth/verify-email"))
            #expect(token.count >= 43)

            // A verification token cannot reset a password.
            let wrongPurpose = try await client.request(.post, "/auth/reset-password", json: ["token": token, "newPassword": "Brand!new42"])
            #expect(wrongPurpose.error?.error == .invalidOrExpiredToken)

            let verified = try await client.request(.post, "/auth/verify-email", json: ["token": token])
            #expect(verified.status == .ok)
            #expect(try verified.decode(UserResponse.self).emailVerified)
            #expect(try await client.login(email: "mia@example.com").status == .ok)
            let again = try await client.request(.post, "/auth/verify-email", json: ["token": token])
            #expect(again.status == .badRequest)
            #expect(again.error?.error == .invalidOrExpiredToken)
            #expect(try await client.request(.post, "/auth/verify-email", json: ["token": "made-up"]).error?.error == .invalidOrExpiredToken)
            #expect(try await client.request(.post, "/auth/verify-email", json: [:]).error?.error == .validationError)
            // A verified account gets no more verification mails.
            #expect(try await client.request(.post, "/auth/verify-email/resend", json: ["email": "mia@example.com"]).status == .accepted)
            try await Task.sleep(for: .milliseconds(400))
            #expect(smtp.messages.count == 1)
        }
        smtp.stop()
    }

    @Test func forgotAndResetPassword() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment.merging(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false"]) { $1 }).run { client in
            let pair = try await client.register(email: "reset@example.com")
            let forgot = try await client.request(.post, "/auth/forgot-password", json: ["email": "RESET@example.com"])
            #expect(forgot.status == .accepted)
            let first = try #require(try await smtp.waitForMessages(1).first?.token(after: "/auth/reset-password"))
            // A second request voids the first link.
            #expect(try await client.request(.post, "/auth/forgot-password", json: ["email": "reset@example.com"]).status == .accepted)
            let mails = try await smtp.waitForMessages(2)
            #expect(mails[1].header("Subject") == "Reset your password")
            #expect(mails[1].parts[0].contains("1 hour"))
            let second = try #require(mails[1].token(after: "/auth/reset-password"))
            #expect(
                try await client.request(.post, "/auth/reset-password", json: ["token": first, "newPassword": "Brand!new42"]).error?.error
                    == .invalidOrExpiredToken
            )
            let weak = try await client.request(.post, "/auth/reset-password", json: ["token": second, "newPassword": "weak"])
            #expect(weak.error?.error == .validationError)

            let reset = try await client.request(.post, "/auth/reset-password", json: ["token": second, "newPassword": "Brand!new42"])
            #expect(reset.status == .noContent)
            // Every session is gone, the old password too; the link is single-use.
            #expect(try await client.request(.get, "/auth/me", bearer: pair.accessToken!).error?.error == .tokenInvalid)
            #expect(try await client.refresh(pair.refreshToken!).error?.error == .invalidRefreshToken)
            #expect(try await client.login(email: "reset@example.com").error?.error == .invalidCredentials)
            #expect(try await client.login(email: "reset@example.com", password: "Brand!new42").status == .ok)
            #expect(
                try await client.request(.post, "/auth/reset-password", json: ["token": second, "newPassword": "Other!new42"]).error?.error
                    == .invalidOrExpiredToken
            )
            let notice = try await smtp.waitForMessages(3)
            #expect(notice.count == 3)
            #expect(notice[2].header("Subject") == "Your password was changed")
        }
        smtp.stop()
    }

    @Test func changePasswordVoidsResetLinksAndSendsANotice() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment.merging(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false"]) { $1 }).run { client in
            let pair = try await client.register(email: "change@example.com")
            #expect(try await client.request(.post, "/auth/forgot-password", json: ["email": "change@example.com"]).status == .accepted)
            let token = try #require(try await smtp.waitForMessages(1).first?.token(after: "/auth/reset-password"))
            let changed = try await client.request(
                .post,
                "/auth/change-password",
                json: ["currentPassword": "Tr1cky!pass", "newPassword": "Brand!new42"],
                bearer: pair.accessToken!
            )
            #expect(changed.status == .noContent)
            #expect(
                try await client.request(.post, "/auth/reset-password", json: ["token": token, "newPassword": "Other!new42"]).error?.error
                    == .invalidOrExpiredToken
            )
            let mails = try await smtp.waitForMessages(2)
            #expect(mails.last?.header("Subject") == "Your password was changed")
        }
        smtp.stop()
    }

    /// Unknown and deleted accounts get the same answer, in about the same time, and no mail.
    @Test func enumerationSafeAnswers() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment.merging(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false"]) { $1 }).run { client in
            let gone = try await client.register(email: "gone@example.com")
            _ = try await client.request(.delete, "/auth/me", json: ["password": "Tr1cky!pass"], bearer: gone.accessToken!)
            _ = try await client.register(email: "known@example.com")
            for path in ["/auth/forgot-password", "/auth/verify-email/resend"] {
                var bodies: Set<String> = []
                var durations: [Duration] = []
                for email in ["known@example.com", "nobody@example.com", "gone@example.com", "not an email"] {
                    let start = ContinuousClock.now
                    let response = try await client.request(.post, path, json: ["email": email])
                    durations.append(ContinuousClock.now - start)
                    #expect(response.status == .accepted)
                    bodies.insert(String(buffer: response.body))
                }
                #expect(bodies.count == 1, "\(path) answers the same body")
                #expect(durations.allSatisfy { $0 >= .milliseconds(250) }, "\(path) takes its minimum time")
            }
            try await Task.sleep(for: .milliseconds(500))
            // One reset mail and one verification mail for the known account, nothing else.
            #expect(smtp.messages.map(\.to) == [["known@example.com"], ["known@example.com"]])
        }
        smtp.stop()
    }

    @Test func expiredLinks() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        let environment = smtp.environment.merging(["LATCHKEY_VERIFICATION_TOKEN_TTL": "1s"]) { $1 }
        try await TestApp(environment).run { client in
            _ = try await client.request(.post, "/auth/register", json: ["email": "late@example.com", "password": "Tr1cky!pass", "name": "L"])
            let token = try #require(try await smtp.waitForMessages(1).first?.token(after: "/auth/verify-email"))
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await client.request(.post, "/auth/verify-email", json: ["token": token]).error?.error == .invalidOrExpiredToken)
        }
        smtp.stop()
    }

    /// SMTP down → mails wait → SMTP up → every mail delivered exactly once.
    @Test func outageThenRecovery() async throws {
        let smtp = SMTPTestServer()
        try await TestApp(smtp.environment).run { client in
            for index in 0..<3 {
                let body: [String: any Sendable] = ["email": "wait\(index)@example.com", "password": "Tr1cky!pass", "name": "W"]
                #expect(try await client.request(.post, "/auth/register", json: body).status == .created)
            }
            try await Task.sleep(for: .milliseconds(1500))
            try await smtp.start()
            // Generous: the whole suite runs in parallel on two cores, and each mail retries on its own backoff.
            let mails = try await smtp.waitForMessages(3, timeout: .seconds(30))
            try await Task.sleep(for: .milliseconds(1500))
            #expect(smtp.messages.count == 3)
            #expect(Set(mails.flatMap(\.to)) == ["wait0@example.com", "wait1@example.com", "wait2@example.com"])
        }
        smtp.stop()
    }

    /// A mailed link's token is nowhere at rest: not while the mail waits, not after it was sent, not in free pages
    /// or the WAL. On PostgreSQL the sealed body is what the table holds.
    @Test func noMailedTokenRestsInTheDatabase() async throws {
        let smtp = SMTPTestServer()
        let app = TestApp(smtp.environment.merging(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false"]) { $1 })
        try await app.run { client in
            _ = try await client.register(email: "at-rest@example.com")
            #expect(try await client.request(.post, "/auth/forgot-password", json: ["email": "at-rest@example.com"]).status == .accepted)
            // The mail waits while SMTP is down, then goes out.
            try await Task.sleep(for: .milliseconds(600))
            let pending = try await app.database.rows("SELECT text_body, html_body, sealed_body FROM mail_outbox WHERE sent_at IS NULL")
            #expect(pending.count == 1)
            #expect(pending.first?["text_body"] == "")
            #expect(pending.first?["sealed_body"] != nil)
            try await smtp.start()
            let token = try #require(try await smtp.waitForMessages(1).first?.token(after: "/auth/reset-password"))
            for _ in 0..<100 where try await !app.database.rows("SELECT id FROM mail_outbox WHERE sent_at IS NULL").isEmpty {
                try await Task.sleep(for: .milliseconds(50))
            }
            let dump =
                try await app.database.rows("SELECT * FROM mail_outbox").description
                + (try await app.database.rows("SELECT * FROM email_tokens").description)
            #expect(!dump.contains(token))
            let url = app.database.url
            if url.hasPrefix("sqlite://") {
                let path = String(url.dropFirst("sqlite://".count))
                for file in [path, path + "-wal", path + "-shm"] {
                    let bytes = FileManager.default.contents(atPath: file) ?? Data()
                    #expect(bytes.range(of: Data(token.utf8)) == nil, "the token is in \(file)")
                }
                let keyFile = try FileManager.default.attributesOfItem(atPath: path + ".kek")
                #expect((keyFile[.posixPermissions] as? Int) == 0o600)
            }
        }
        smtp.stop()
    }

    @Test func deliveredMailsAreCleanedUpAfterTheRetention() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        // Long enough that the sent row is seen before the cleanup removes it, also on a busy machine.
        let app = TestApp(smtp.environment.merging(["LATCHKEY_MAIL_RETENTION": "3s", "LATCHKEY_CLEANUP_INTERVAL": "1s"]) { $1 })
        try await app.run { client in
            _ = try await client.request(.post, "/auth/register", json: ["email": "old@example.com", "password": "Tr1cky!pass", "name": "O"])
            _ = try await smtp.waitForMessages(1)
            var sent: [String: String]?
            for _ in 0..<100 where sent?["sent_at"] == nil {
                try await Task.sleep(for: .milliseconds(50))
                sent = try await app.database.rows("SELECT text_body, sent_at FROM mail_outbox").first
            }
            #expect(sent?["text_body"] == "", "a sent mail keeps no token")
            #expect(sent?["sent_at"] != nil)
            for _ in 0..<100 where try await !app.database.rows("SELECT id FROM mail_outbox").isEmpty {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        smtp.stop()
        #expect(try await app.database.rows("SELECT id FROM mail_outbox").isEmpty)
    }

    @Test func temporaryRejectionIsRetried() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start(["--fail-first", "1", "--fail-code", "451"])
        try await TestApp(smtp.environment).run { client in
            _ = try await client.request(.post, "/auth/register", json: ["email": "retry@example.com", "password": "Tr1cky!pass", "name": "R"])
            let mails = try await smtp.waitForMessages(1)
            try await Task.sleep(for: .milliseconds(1200))
            #expect(mails.count == 1)
            #expect(smtp.messages.count == 1)
        }
        smtp.stop()
    }

    @Test func permanentRejectionGivesUp() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start(["--always-code", "550"])
        let app = TestApp(smtp.environment)
        try await app.run { client in
            _ = try await client.request(.post, "/auth/register", json: ["email": "bounce@example.com", "password": "Tr1cky!pass", "name": "B"])
            try await Task.sleep(for: .milliseconds(1500))
        }
        smtp.stop()
        let row = try await app.database.rows("SELECT attempts, failed_at, last_error, text_body FROM mail_outbox").first
        #expect(row?["attempts"] == "1")
        #expect(row?["failed_at"] != nil)
        #expect(row?["last_error"]?.contains("550") == true)
        #expect(row?["text_body"] == "", "a dead mail keeps no token")
    }

    /// A mail queued while SMTP was down is sent by the next start of the server.
    @Test func restartLosesNothing() async throws {
        let smtp = SMTPTestServer()
        let first = TestApp(smtp.environment)
        try await first.run { client in
            _ = try await client.request(.post, "/auth/register", json: ["email": "restart@example.com", "password": "Tr1cky!pass", "name": "R"])
            try await Task.sleep(for: .milliseconds(300))
        }
        try await smtp.start()
        try await TestApp(smtp.environment, database: first.database).run { _ in
            let mails = try await smtp.waitForMessages(1)
            #expect(mails.first?.to == ["restart@example.com"])
        }
        smtp.stop()
    }

    @Test func smtpAuthentication() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start(["--auth", "mailer:s3cret"])
        let environment = smtp.environment.merging(["LATCHKEY_SMTP_USERNAME": "mailer", "LATCHKEY_SMTP_PASSWORD": "s3cret"]) { $1 }
        try await TestApp(environment).run { client in
            _ = try await client.request(.post, "/auth/register", json: ["email": "auth@example.com", "password": "Tr1cky!pass", "name": "A"])
            let mails = try await smtp.waitForMessages(1)
            #expect(mails.first?.authenticated == true)
        }
        smtp.stop()
    }

    @Test(arguments: ["starttls", "tls"])
    func encryptedDelivery(mode: String) async throws {
        let smtp = SMTPTestServer()
        let certificates = FileManager.default.temporaryDirectory.appending(path: "latchkey-tls-\(UUID())")
        try await smtp.start([mode == "tls" ? "--implicit-tls" : "--starttls", certificates.path])
        let environment = smtp.environment.merging([
            "LATCHKEY_SMTP_HOST": "localhost",
            "LATCHKEY_SMTP_TLS": mode,
            "LATCHKEY_SMTP_CA_FILE": certificates.appending(path: "cert.pem").path,
        ]) { $1 }
        try await TestApp(environment).run { client in
            _ = try await client.request(.post, "/auth/register", json: ["email": "tls@example.com", "password": "Tr1cky!pass", "name": "T"])
            let mails = try await smtp.waitForMessages(1)
            #expect(mails.first?.tls == true)
            #expect(mails.first?.to == ["tls@example.com"])
        }
        smtp.stop()
    }

    /// Without the test CA the self-signed certificate is refused: nothing is sent in the clear or to an impostor.
    @Test func untrustedCertificateIsRefused() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start(["--starttls", FileManager.default.temporaryDirectory.appending(path: "latchkey-tls-\(UUID())").path])
        let environment = smtp.environment.merging(["LATCHKEY_SMTP_HOST": "localhost", "LATCHKEY_SMTP_TLS": "starttls"]) { $1 }
        try await TestApp(environment).run { client in
            _ = try await client.request(.post, "/auth/register", json: ["email": "mitm@example.com", "password": "Tr1cky!pass", "name": "M"])
            try await Task.sleep(for: .milliseconds(1500))
            #expect(smtp.messages.isEmpty)
        }
        smtp.stop()
    }
}
