import HTTPTypes
import Hummingbird

/// Which browser pages may act on this server: the CSRF rules of the page forms and of cookie mode.
struct OriginPolicy: Sendable {
    /// `LATCHKEY_CORS_ORIGINS` and the app URL's origin: the browser apps that may use the refresh cookie.
    let appOrigins: Set<String>
    /// The app URL's origin and the server's own listening origin: the pages that may post the forms.
    let formOrigins: Set<String>

    /// A form post is refused when it names an origin that is neither ours nor the app's. Browsers send
    /// `Origin: null` for a form post from a page under `Referrer-Policy: no-referrer` (every page of ours): then the
    /// fetch metadata, which no page can forge, must say it came from this origin.
    func allowsFormPost(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        if origin == "null" { return request.headers[.secFetchSite] == "same-origin" }
        return formOrigins.contains(origin) || Self.isOrigin(origin, of: request)
    }

    /// A request that uses the refresh cookie must send `X-Latchkey-CSRF: 1` (which no form can, and no other origin
    /// without a CORS preflight that we refuse) and come from an allowed origin, or without `Origin`, from this one.
    func allowsCookieUse(_ request: Request) -> Bool {
        guard request.headers[.latchkeyCSRF] == "1" else { return false }
        guard let origin = request.headers[.origin] else { return request.headers[.secFetchSite] == "same-origin" }
        return appOrigins.contains(origin)
    }

    /// Whether `origin` is the server as the browser reached it (its `Host`), whatever address it listens on.
    private static func isOrigin(_ origin: String, of request: Request) -> Bool {
        guard let authority = request.head.authority, let normalized = ServerConfiguration.origin(of: origin) else { return false }
        return ["http", "https"].contains { ServerConfiguration.origin(of: "\($0)://\(authority)") == normalized }
    }
}

extension HTTPField.Name {
    static let latchkeyCSRF = Self("X-Latchkey-CSRF")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
}
