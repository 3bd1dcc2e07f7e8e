import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import Testing

/// The pages the emailed links open and their form posts, with real mail from a real SMTP server.
@Suite struct EmailLinkPagesTests {
    static let pagePolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// Registers `email` and returns the token of its verification mail.
    static func registered(_ client: Client, _ smtp: SMTPTestServer, email: String, name: String = "Ada") async throws -> String {
        let response = try await client.request(.post, "/auth/register", json: ["email": email, "password": "Tr1cky!pass", "name": name])
        #expect(response.status == .created)
        let mails = try await smtp.waitForMessages(smtp.messages.count + 1)
        return try #require(mails.last?.token(after: "/auth/verify-email"))
    }

    @Test func verifyPageShowsAFormAndAGetSpendsNothing() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment).run { client in
            let token = try await Self.registered(client, smtp, email: "page@example.com")
            for _ in 0..<3 {  // a mail scanner, then the person
                let page = try await client.request(.get, "/auth/verify-email?token=\(token)")
                #expect(page.status == .ok)
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                #expect(page.headers[.contentSecurityPolicy] == Self.pagePolicy)
                #expect(page.headers[.cacheControl] == "no-store")
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(page.text.contains(#"<form method="post" action="/auth/verify-email">"#))
                #expect(page.text.contains(#"<input type="hidden" name="token" value="\#(token)">"#))
                #expect(page.text.contains(#"<link rel="stylesheet" href="/assets/latchkey.css">"#))
                #expect(!page.text.contains("<script") && !page.text.contains("style="))
            }
            #expect(try await client.login(email: "page@example.com").error?.error == .emailNotVerified)
            // The page never looked at the token: a made-up one gets the same page.
            #expect(try await client.request(.get, "/auth/verify-email?token=made-up").status == .ok)
            let head = try await client.request(.head, "/auth/verify-email?token=\(token)")
            #expect(head.status == .ok && head.body.readableBytes == 0)

            let confirmed = try await client.form("/auth/verify-email", ["token": token])
            #expect(confirmed.status == .ok)
            #expect(confirmed.headers[.contentType] == "text/html; charset=utf-8")
            #expect(confirmed.headers[.contentSecurityPolicy] == Self.pagePolicy)
            #expect(confirmed.text.contains("Your email address is confirmed"))
            #expect(try await client.login(email: "page@example.com").status == .ok)

            let again = try await client.form("/auth/verify-email", ["token": token])
            #expect(again.status == .badRequest)
            #expect(again.text.contains("The link is invalid, used or expired"))
            #expect(again.text.contains(#"<form method="post" action="/auth/verify-email/resend">"#))
            #expect(try await client.form("/auth/verify-email", [:]).status == .badRequest)
        }
        smtp.stop()
    }

    @Test func everythingFromARequestOrTheDatabaseIsEscaped() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment).run { client in
            // U+0D4E is a letter that joins the next character into one grapheme: escaping that compares whole
            // characters would let this `<` through.
            let attack = "\u{D4E}<img src=x onerror=alert(1)>"
            let token = try await Self.registered(client, smtp, email: "xss@example.com", name: attack)
            let mail = try #require(smtp.messages.last)
            #expect(mail.parts[1].contains("&lt;img src=x onerror=alert(1)&gt;") && !mail.parts[1].contains("<img"))
            // A link that carries anything but a token is shown as incomplete, and what it carried is not echoed.
            for carried in ["%22%3E%3Cscript%3Ealert(1)%3C/script%3E", "x%22%CC%81%20autofocus%20onfocus%3Dalert(1)", "x%D8%80%3Cb%3E"] {
                let page = try await client.request(.get, "/auth/verify-email?token=\(carried)")
                #expect(page.status == .badRequest)
                #expect(!page.text.contains("<script") && !page.text.contains("onfocus") && !page.text.contains("<b>"))
            }
            let confirmed = try await client.form("/auth/verify-email", ["token": token])
            #expect(confirmed.status == .ok)
            #expect(confirmed.text.contains("Thank you, \u{D4E}&lt;img src=x onerror=alert(1)&gt;."))
            #expect(!confirmed.text.contains("<img"))
            let resend = try await client.form("/auth/verify-email/resend", ["email": ""])
            #expect(resend.status == .badRequest)
        }
        smtp.stop()
    }

    @Test func aLinkWithoutATokenOffersANewMail() async throws {
        try await TestApp().run { client in
            for (path, action) in [("/auth/verify-email", "/auth/verify-email/resend"), ("/auth/reset-password", "/auth/forgot-password")] {
                let page = try await client.request(.get, path)
                #expect(page.status == .badRequest)
                #expect(page.text.contains("This link is incomplete"))
                #expect(page.text.contains(#"<form method="post" action="\#(action)">"#))
                #expect(try await client.request(.get, "\(path)?token=").status == .badRequest)
            }
        }
    }

    @Test func resendByFormSendsAMailAndAnswersTheSameForAnyone() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment).run { client in
            _ = try await Self.registered(client, smtp, email: "again@example.com")
            let known = try await client.form("/auth/verify-email/resend", ["email": "again@example.com"])
            let unknown = try await client.form("/auth/verify-email/resend", ["email": "nobody@example.com"])
            #expect(known.status == .ok && unknown.status == .ok)
            #expect(known.text == unknown.text)
            #expect(known.text.contains("a verification email is on its way"))
            #expect(try await smtp.waitForMessages(2).count == 2)
        }
        smtp.stop()
    }

    @Test func resetPasswordPageSaysWhatWentWrongThenWorks() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment.merging(["LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "false"]) { $1 }).run { client in
            _ = try await client.register(email: "forms@example.com")
            let sent = try await client.form("/auth/forgot-password", ["email": "forms@example.com"])
            #expect(sent.status == .ok)
            #expect(sent.text.contains("a password reset email is on its way"))
            let token = try #require(try await smtp.waitForMessages(1).first?.token(after: "/auth/reset-password"))

            let page = try await client.request(.get, "/auth/reset-password?token=\(token)")
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy] == Self.pagePolicy)
            for field in ["token", "newPassword", "confirmPassword"] { #expect(page.text.contains(#"name="\#(field)""#)) }
            #expect(page.text.contains(#"<label for="newPassword">"#) && page.text.contains(#"<label for="confirmPassword">"#))

            let mismatch = try await client.form(
                "/auth/reset-password",
                ["token": token, "newPassword": "Brand!new42", "confirmPassword": "Brand!new43"]
            )
            #expect(mismatch.status == .badRequest)
            #expect(mismatch.text.contains("The two passwords do not match."))
            #expect(mismatch.text.contains(#"value="\#(token)""#))
            let weak = try await client.form("/auth/reset-password", ["token": token, "newPassword": "password", "confirmPassword": "password"])
            #expect(weak.status == .badRequest)
            #expect(weak.text.contains("The new password must contain a digit."))
            #expect(weak.text.contains("The new password is too common."))
            #expect(try await client.login(email: "forms@example.com").status == .ok)

            let done = try await client.form(
                "/auth/reset-password",
                ["token": token, "newPassword": "Brand!new42", "confirmPassword": "Brand!new42"]
            )
            #expect(done.status == .ok)
            #expect(done.text.contains("Your password was changed"))
            #expect(try await client.login(email: "forms@example.com", password: "Brand!new42").status == .ok)

            let dead = try await client.form(
                "/auth/reset-password",
                ["token": token, "newPassword": "Other!new42", "confirmPassword": "Other!new42"]
            )
            #expect(dead.status == .badRequest)
            #expect(dead.text.contains("The link is invalid, used or expired"))
            #expect(dead.text.contains(#"<form method="post" action="/auth/forgot-password">"#))
            // JSON bodies still get JSON; other media types are still 415.
            let json = try await client.request(.post, "/auth/reset-password", json: ["token": token, "newPassword": "Other!new42"])
            #expect(json.error?.error == .invalidOrExpiredToken)
            let text = try await client.request(.post, "/auth/reset-password", body: "token=x", headers: [.contentType: "text/plain"])
            #expect(text.status == .unsupportedMediaType)
        }
        smtp.stop()
    }

    @Test func formsAreReadAsBrowsersSendThem() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment).run { client in
            let token = try await Self.registered(client, smtp, email: "fields@example.com")
            // Unknown, repeated, nameless and badly encoded fields are ignored; the first value of a name counts.
            let body = "=v&x=1&x=2&bad=%zz&token=\(token)&token=ignored"
            let verified = try await client.request(
                .post,
                "/auth/verify-email",
                body: body,
                headers: [.contentType: "application/x-www-form-urlencoded"]
            )
            #expect(verified.status == .ok)
            #expect(try await client.request(.post, "/auth/forgot-password", json: ["email": "fields@example.com"]).status == .accepted)
            let reset = try #require(try await smtp.waitForMessages(2).last?.token(after: "/auth/reset-password"))
            // `+` is a space, %2B a plus.
            let password = "Brand+new%2B42%21"
            let changed = try await client.request(
                .post,
                "/auth/reset-password",
                body: "token=\(reset)&newPassword=\(password)&confirmPassword=\(password)",
                headers: [.contentType: "application/x-www-form-urlencoded; charset=UTF-8"]
            )
            #expect(changed.status == .ok)
            #expect(try await client.login(email: "fields@example.com", password: "Brand new+42!").status == .ok)
        }
        smtp.stop()
    }

    @Test func aFormPostFromAForeignPageIsRefusedAndChangesNothing() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment).run { client in
            let token = try await Self.registered(client, smtp, email: "csrf@example.com")
            let refused: [HTTPFields] = [
                [.origin: "https://evil.example"],
                [.origin: "http://app.example.com"],  // the app URL is https
                [.origin: "null", HTTPField.Name("Sec-Fetch-Site")!: "cross-site"],
                [.origin: "null"],
            ]
            for headers in refused {
                let answer = try await client.form("/auth/verify-email", ["token": token], headers: headers)
                #expect(answer.status == .forbidden)
                #expect(answer.headers[.contentType] == "text/html; charset=utf-8")
                #expect(answer.headers[.contentSecurityPolicy] == Self.pagePolicy)
            }
            #expect(try await client.login(email: "csrf@example.com").error?.error == .emailNotVerified)
            // Our own page under `Referrer-Policy: no-referrer`: Origin null, but the browser says same-origin.
            let ours = try await client.form(
                "/auth/verify-email",
                ["token": token],
                headers: [.origin: "null", HTTPField.Name("Sec-Fetch-Site")!: "same-origin"]
            )
            #expect(ours.status == .ok)
        }
        smtp.stop()
    }

    @Test func formPostsFromTheAppAndTheServerItselfAreAccepted() async throws {
        let smtp = SMTPTestServer()
        try await smtp.start()
        try await TestApp(smtp.environment.merging(["LATCHKEY_HOST": "127.0.0.1", "LATCHKEY_PORT": "8123"]) { $1 }).run { client in
            for origin in ["https://app.example.com", "http://127.0.0.1:8123"] {
                let token = try await Self.registered(client, smtp, email: "origin-\(UUID())@example.com")
                #expect(try await client.form("/auth/verify-email", ["token": token], headers: [.origin: origin]).status == .ok)
            }
        }
        smtp.stop()
    }

    @Test func aSpentBudgetIsAPageWithRetryAfter() async throws {
        try await TestApp(["LATCHKEY_PORT": "0", "LATCHKEY_RATE_LIMIT_TOKEN": "1/1m"]).runLive { client in
            #expect(try await client.form("/auth/verify-email", ["token": "guess-1"]).status == .badRequest)
            let limited = try await client.form("/auth/verify-email", ["token": "guess-2"])
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.contentType] == "text/html; charset=utf-8")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(limited.text.contains("Too many attempts"))
        }
    }

    @Test func theOperatorReplacesTemplatesAndTheProductName() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "latchkey-templates-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "<p>{{productName}} custom: {{token}}</p>".write(
            to: directory.appending(path: "verify-email.mustache"),
            atomically: true,
            encoding: .utf8
        )
        try "body { color: teal; }".write(to: directory.appending(path: "latchkey.css"), atomically: true, encoding: .utf8)
        let environment = ["LATCHKEY_TEMPLATES_DIR": directory.path, "LATCHKEY_PRODUCT_NAME": "Acme & Co"]
        try await TestApp(environment).run { client in
            let page = try await client.request(.get, "/auth/verify-email?token=abc")
            #expect(page.text == "<p>Acme &amp; Co custom: abc</p>")
            // Templates it does not replace stay built in, with the product name.
            let reset = try await client.request(.get, "/auth/reset-password?token=abc")
            #expect(reset.text.contains("<title>Choose a new password · Acme &amp; Co</title>"))
            let css = try await client.request(.get, "/assets/latchkey.css")
            #expect(css.status == .ok)
            #expect(css.headers[.contentType] == "text/css; charset=utf-8")
            #expect(css.text == "body { color: teal; }")
        }
        let broken = TestApp(["LATCHKEY_TEMPLATES_DIR": "/nonexistent-\(UUID())"])
        await #expect(throws: (any Error).self) { try await broken.build() }
    }

    @Test func theBuiltInStylesheetIsServed() async throws {
        try await TestApp().run { client in
            let css = try await client.request(.get, "/assets/latchkey.css")
            #expect(css.status == .ok)
            #expect(css.headers[.contentType] == "text/css; charset=utf-8")
            #expect(css.text.contains("max-width"))
        }
    }
}

extension Client {
    /// Posts an HTML form (`application/x-www-form-urlencoded`), as a browser does.
    func form(_ path: String, _ fields: [String: String], headers extra: HTTPFields = [:]) async throws -> TestResponse {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await request(.post, path, body: body, headers: headers)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}
