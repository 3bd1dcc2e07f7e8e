import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyAPI

/// A request context that can carry the caller's verified claims, for `LatchkeyAuthenticator`.
///
/// ```swift
/// struct AppContext: LatchkeyRequestContext {
///     var coreContext: CoreRequestContextStorage
///     var latchkeyClaims: AccessTokenClaims?
///     init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
/// }
/// ```
public protocol LatchkeyRequestContext: RequestContext {
    /// Set by `LatchkeyAuthenticator` for a request with a good access token.
    var latchkeyClaims: AccessTokenClaims? { get set }
}

extension LatchkeyRequestContext {
    /// The caller's claims, behind `LatchkeyAuthenticator`. On a route left without it by mistake this throws the
    /// contract's 401 `TOKEN_MISSING`, so the route refuses instead of serving nobody in particular.
    ///
    /// ```swift
    /// protected.get { _, context in "Hello, \(try context.claims().sub)" }
    /// ```
    public func claims() throws -> AccessTokenClaims {
        guard let latchkeyClaims else { throw MissingClaims() }
        return latchkeyClaims
    }
}

/// The 401 of `claims()` on a route without the authenticator.
struct MissingClaims: HTTPResponseError {
    var status: HTTPResponse.Status { .unauthorized }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Refusal.tokenMissing
    }
}

/// Hummingbird middleware that lets only requests with a good Latchkey access token through, with its claims on the
/// context; others get the contract's 401 (`TOKEN_MISSING`, `TOKEN_EXPIRED`, `TOKEN_INVALID`) with `WWW-Authenticate`.
/// With `requiredRole`, a token of another role gets 403 `FORBIDDEN` (`insufficient_scope`). With `requireMFA`, a token
/// whose session did not sign in with two factors (its `amr` lacks `mfa`) gets 403 `MFA_REQUIRED` with RFC 9470's
/// `WWW-Authenticate: Bearer error="insufficient_user_authentication"`: the app then steps the session up
/// (`POST /auth/mfa/verify` with the Bearer token and a code) and retries.
///
/// ```swift
/// let verifier = AccessTokenVerifier(configuration: .init(serverURL: URL(string: "http://127.0.0.1:8080")!))
/// router.group("notes").add(middleware: LatchkeyAuthenticator(verifier: verifier)).get { _, context in
///     "Hello, \(try context.claims().sub)"
/// }
/// router.group("admin").add(middleware: LatchkeyAuthenticator(verifier: verifier, requiredRole: "admin"))
/// router.group("payments").add(middleware: LatchkeyAuthenticator(verifier: verifier, requireMFA: true))
/// ```
public struct LatchkeyAuthenticator<Context: LatchkeyRequestContext>: RouterMiddleware {
    public let verifier: AccessTokenVerifier
    public let requiredRole: String?
    public let requireMFA: Bool

    public init(verifier: AccessTokenVerifier, requiredRole: String? = nil, requireMFA: Bool = false) {
        self.verifier = verifier
        self.requiredRole = requiredRole
        self.requireMFA = requireMFA
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = AccessTokenRules.bearerToken(request.headers[.authorization]) else {
            return Refusal.tokenMissing
        }
        let claims: AccessTokenClaims
        do {
            claims = try await verifier.verify(token)
        } catch {
            return Refusal.response(ErrorAnswer(error.code))
        }
        if let requiredRole, claims.role != requiredRole {
            return Refusal.response(ErrorAnswer(.forbidden, message: "This route needs the role \(requiredRole)"))
        }
        if requireMFA, !(claims.amr ?? []).contains(AuthenticationMethod.multiFactor.rawValue) {
            return Refusal.response(ErrorAnswer(.mfaRequired))
        }
        var context = context
        context.latchkeyClaims = claims
        return try await next(request, context)
    }
}

/// The contract's refusals, as Hummingbird responses.
enum Refusal {
    static var tokenMissing: Response { response(ErrorAnswer(.tokenMissing)) }

    static func response(_ answer: ErrorAnswer) -> Response {
        var headers = HTTPFields()
        for (name, value) in answer.headers { if let name = HTTPField.Name(name) { headers[name] = value } }
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
