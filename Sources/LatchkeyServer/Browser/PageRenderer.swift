import Configuration
import Foundation
import Hummingbird
import LatchkeyCore
import Mustache

/// Renders the HTML pages for the emailed links (`Resources/Pages`, Mustache; everything interpolated is HTML-escaped
/// by `HTMLEscaping`, which each template asks for with `{{% CONTENT_TYPE: HTML}}`) and serves their one stylesheet.
/// An operator replaces any template, or the stylesheet `latchkey.css`, with a file of the same name in `templatesDir`.
///
/// Keys (under `latchkey.`): `templatesDir`, `productName`.
struct PageRenderer: Sendable {
    /// The contract's policy for pages: the stylesheet from here, forms posting here, nothing else.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    private var library: MustacheLibrary
    let productName: String
    let stylesheet: ByteBuffer

    init(reader: ConfigReader) async throws {
        productName = reader.productName
        guard let builtIn = Bundle.module.resourceURL else { throw ConfigurationError("the page templates are missing from the build") }
        HTMLEscaping.registered
        library = try await MustacheLibrary(directory: builtIn.appending(path: "Pages").path)
        var stylesheetURL = builtIn.appending(path: "Assets/latchkey.css")
        if let directory = reader.text("templatesDir") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConfigurationError(key: "templatesDir", "must name a directory, not '\(directory)'")
            }
            let custom: MustacheLibrary
            do {
                custom = try await MustacheLibrary(directory: directory)
            } catch {
                throw ConfigurationError(key: "templatesDir", "holds a template that does not parse: \(error)")
            }
            for name in Self.templateNames {
                if let template = custom.getTemplate(named: name) { library.register(template, named: name) }
            }
            let customStylesheet = URL(filePath: directory).appending(path: "latchkey.css")
            if FileManager.default.isReadableFile(atPath: customStylesheet.path) { stylesheetURL = customStylesheet }
        }
        stylesheet = ByteBuffer(bytes: try Data(contentsOf: stylesheetURL))
    }

    static let templateNames = [
        "layout", "verify-email", "verify-email-done", "resend-form", "reset-password", "reset-password-done", "mail-sent", "problem",
    ]

    /// A page as a response with the page headers (`SecurityHeadersMiddleware` adds the rest).
    func render(_ template: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], _ values: [String: Any] = [:]) -> Response {
        var context = values
        context["productName"] = productName
        context["hasErrors"] = !((values["errors"] as? [String]) ?? []).isEmpty
        let html = library.render(context, withTemplate: template) ?? ""
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Any failure of a form post as a page with the contract's status (and `Retry-After` where it has one).
    func problem(_ error: AuthError) -> Response {
        let heading =
            switch error.code {
            case .rateLimited: "Too many attempts"
            case .serviceUnavailable: "Temporarily unavailable"
            case .forbidden, .csrfRejected: "Request refused"
            case .payloadTooLarge, .invalidJSON, .validationError, .unsupportedMediaType: "The form could not be read"
            default: "Something went wrong"
            }
        let message =
            switch error.code {
            case .internalError: "Please try again later."
            default: error.message
            }
        let headers: HTTPFields = error.retryAfter.map { [.retryAfter: String($0)] } ?? [:]
        return render("problem", status: error.status, headers: headers, ["heading": heading, "message": message])
    }

    func stylesheetResponse() -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
            body: .init(byteBuffer: stylesheet)
        )
    }
}
