import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// The pages the emailed links open, and the form posts they make. A GET only shows a form: mail scanners open every
/// link, so a token is spent only by the POST that the person's button sends. Form posts take from the same client IP
/// budgets as the JSON routes and answer with pages: 200, or 400 with the form again and what went wrong.
struct EmailLinkPagesController {
    let accounts: AccountService
    let limiter: RateLimiter
    let pages: PageRenderer
    let origins: OriginPolicy

    static let resendSent = "If the account exists and is not verified, a verification email is on its way."
    static let resetSent = "If the account exists, a password reset email is on its way."
    static func isTokenShaped(_ text: String) -> Bool {
        (1...128).contains(text.utf8.count) && text.utf8.allSatisfy { $0.isBase64URL }
    }

    static let incompleteLink = "This link is incomplete. Open the link from the email again, or ask for a new one below."

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .get("verify-email", use: verifyEmailPage)
            .get("reset-password", use: resetPasswordPage)
    }

    /// The stylesheet every page links to.
    func addAssets(to router: Router<AppRequestContext>) {
        router.get("assets/latchkey.css") { _, _ in pages.stylesheetResponse() }
    }

    // The page does not check the token, so it tells nothing about it.
    @Sendable func verifyEmailPage(_ request: Request, context: AppRequestContext) -> Response {
        guard let token = request.linkToken else {
            return pages.render("verify-email", status: .badRequest, ["errors": [Self.incompleteLink], "offerResend": true])
        }
        return pages.render("verify-email", ["token": token])
    }

    @Sendable func resetPasswordPage(_ request: Request, context: AppRequestContext) -> Response {
        guard let token = request.linkToken else {
            return pages.render("reset-password", status: .badRequest, ["errors": [Self.incompleteLink], "offerForgot": true])
        }
        return pages.render("reset-password", ["token": token])
    }

    func verifyEmail(_ request: Request, context: AppRequestContext) async -> Response {
        await answering(request, context) { form in
            try await limiter.check(.verifyEmail, ip: context.clientIP)
            do {
                let user = try await accounts.verifyEmail(token: form["token"] ?? "", client: context.client(request), logger: context.logger)
                return pages.render("verify-email-done", ["name": user.name])
            } catch let error as AuthError where error.code == .invalidOrExpiredToken {
                let problem = "\(error.message). Ask for a new one below."
                return pages.render("verify-email", status: .badRequest, ["errors": [problem], "offerResend": true])
            }
        }
    }

    func resendVerification(_ request: Request, context: AppRequestContext) async -> Response {
        await mailForm(request, context, route: .resendVerification, page: "verify-email", offer: "offerResend", sent: Self.resendSent) {
            try await accounts.resendVerification(to: $0, logger: context.logger)
        }
    }

    func forgotPassword(_ request: Request, context: AppRequestContext) async -> Response {
        await mailForm(request, context, route: .forgotPassword, page: "reset-password", offer: "offerForgot", sent: Self.resetSent) {
            try await accounts.forgotPassword(email: $0, client: context.client(request), logger: context.logger)
        }
    }

    /// A form asking for a new mail: the same answer whether or not the account exists, or `page` again (its form
    /// `offer` shown) when no address was given.
    private func mailForm(
        _ request: Request,
        _ context: AppRequestContext,
        route: RateLimiter.Route,
        page: String,
        offer: String,
        sent: String,
        send: (String) async throws -> Void
    ) async -> Response {
        await answering(request, context) { form in
            try await limiter.check(route, ip: context.clientIP)
            guard let email = form["email"], !email.isEmpty else {
                return pages.render(page, status: .badRequest, ["errors": ["Enter your email address."], offer: true])
            }
            try await send(email)
            return pages.render("mail-sent", ["message": sent])
        }
    }

    func resetPassword(_ request: Request, context: AppRequestContext) async -> Response {
        await answering(request, context) { form in
            try await limiter.check(.resetPassword, ip: context.clientIP)
            // Only a token-shaped value is ever shown again (in the form's hidden field).
            let token = form["token"].flatMap { Self.isTokenShaped($0) ? $0 : nil } ?? ""
            let newPassword = form["newPassword"] ?? ""
            guard newPassword == form["confirmPassword"] ?? "" else {
                return pages.render("reset-password", status: .badRequest, ["errors": ["The two passwords do not match."], "token": token])
            }
            do {
                try await accounts.resetPassword(token: token, newPassword: newPassword, client: context.client(request), logger: context.logger)
                return pages.render("reset-password-done")
            } catch let error as AuthError where error.code == .validationError {
                let problems = error.details.map { "The new password \($0.message)." }
                return pages.render("reset-password", status: .badRequest, ["errors": problems, "token": token])
            } catch let error as AuthError where error.code == .invalidOrExpiredToken {
                let problem = "\(error.message). Ask for a new one below."
                return pages.render("reset-password", status: .badRequest, ["errors": [problem], "offerForgot": true])
            }
        }
    }

    /// Refuses a post from a foreign page (403, nothing done), reads the form, and turns any failure into a page.
    private func answering(
        _ request: Request,
        _ context: AppRequestContext,
        _ body: ([String: String]) async throws -> Response
    ) async -> Response {
        guard origins.allowsFormPost(request) else { return pages.problem(.csrfRejected) }
        do {
            let form = Self.fields(of: String(buffer: try await request.body.collect(upTo: context.maxUploadSize)))
            return try await body(form)
        } catch {
            return pages.problem(AuthError(error, logger: context.logger))
        }
    }

    /// The fields of an `application/x-www-form-urlencoded` body, the first value of each name. Unknown and malformed
    /// fields are ignored, as unknown JSON members are (Hummingbird's form decoder refuses a whole form for one of them).
    static func fields(of body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            // `+` is a space in a form body; a literal plus arrives as %2B. Bad percent-encoding makes the field nil.
            let decoded = parts.map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decoded[0], fields[name] == nil else { continue }
            fields[name] = decoded.count > 1 ? decoded[1] : ""
        }
        return fields
    }
}

extension Request {
    /// The form posts of the pages, as browsers send them.
    var isFormPost: Bool {
        headers[.contentType].flatMap(MediaType.init(from:))?.isType(.applicationUrlEncoded) == true
    }

    /// The `token` of an emailed link, nil when absent, empty or not in the base64url alphabet of our tokens: a page
    /// never echoes anything else a link may carry.
    fileprivate var linkToken: String? {
        uri.queryParameters["token"].map(String.init).flatMap { EmailLinkPagesController.isTokenShaped($0) ? $0 : nil }
    }
}

extension UInt8 {
    fileprivate var isBase64URL: Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "-") || self == UInt8(ascii: "_")
    }
}
