import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// The public routes: register, login, refresh, logout. Register and refresh take from the client IP's budget
/// before they act; login's budgets are checked by `SessionService.login`, in the same round trip as the
/// account's throttle. In cookie mode (`RefreshCookie`) the refresh token travels in a cookie for browser apps.
struct AuthController {
    let accounts: AccountService
    let sessions: SessionService
    let secondFactors: SecondFactorService
    let passkeys: PasskeyService
    let limiter: RateLimiter
    let cookie: RefreshCookie

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .post("register", use: register)
            .post("login", use: login)
            .post("refresh", use: refresh)
            .post("logout", use: logout)
            .post("mfa/verify", use: verifySecondFactor)
            .post("passkeys/login/options", use: passkeySignInOptions)
            .post("passkeys/login", use: passkeySignIn)
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<RegisterResponse> {
        try await limiter.check(.register, ip: context.clientIP)
        let input = try await request.decode(as: RegisterRequest.self, context: context)
        let account = NewAccount(email: input.email, password: input.password, name: input.name)
        let registered = try await accounts.register(account, client: context.client(request), logger: context.logger)
        guard let tokens = registered.tokens else {
            return .noStore(RegisterResponse(user: registered.user.response, tokens: nil), status: .created)
        }
        let answer = tokenAnswer(tokens, inCookie: cookie.carriesToken(request))
        return EditedResponse(
            status: .created,
            headers: answer.headers,
            response: RegisterResponse(user: tokens.user.response, tokens: answer.responseGenerator)
        )
    }

    /// A token pair, or for an account with TOTP the challenge that `mfa/verify` answers.
    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decode(as: LoginRequest.self, context: context)
        let credentials = Credentials(email: input.email, password: input.password)
        let signIn = try await sessions.login(credentials, client: context.client(request), logger: context.logger)
        return try signInAnswer(signIn, request: request, context: context)
    }

    /// The second step of a sign-in (`mfaToken` and a code), or with a Bearer token and no `mfaToken` a step-up of the
    /// caller's session. Both answer a token pair, in cookie mode as login does.
    /// `code` is a TOTP code or a recovery code; `recoveryCode` only the latter. A step-up is authenticated before its
    /// body's fields are checked.
    @Sendable func verifySecondFactor(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TokenPairResponse> {
        let input = try await request.decode(as: MFAVerifyRequest.self, context: context)
        var stepUp: Identity?
        if input.mfaToken == nil {
            guard let bearer = request.bearerToken else {
                throw AuthError.validation(field: "mfaToken", "is required (or an Authorization: Bearer token for a step-up)")
            }
            stepUp = try await sessions.authenticate(accessToken: bearer)
        }
        let code: SecondFactorCode
        switch (input.code, input.recoveryCode) {
        case (let typed?, nil): code = SecondFactorCode(either: typed)
        case (nil, let typed?): code = .recovery(typed)
        case (nil, nil): throw AuthError.validation(field: "code", "is required (or recoveryCode)")
        case (.some, .some): throw AuthError.validation(field: "recoveryCode", "must not come with code: send one of them")
        }
        let client = context.client(request)
        let tokens =
            if let identity = stepUp {
                try await secondFactors.stepUp(identity, code: code, client: client, logger: context.logger)
            } else {
                try await secondFactors.verify(mfaToken: input.mfaToken ?? "", code: code, client: client, logger: context.logger)
            }
        return tokenAnswer(tokens, inCookie: cookie.carriesToken(request))
    }

    /// Options for a discoverable sign-in. The body is `{}`: nothing is asked.
    @Sendable func passkeySignInOptions(
        _ request: Request,
        context: AppRequestContext
    ) async throws -> EditedResponse<PublicKeyCredentialRequestOptionsJSON> {
        _ = try await request.decode(as: EmptyRequest.self, context: context)
        return .noStore(try await passkeys.signInOptions(client: context.client(request)))
    }

    /// A token pair, or for a sign-in without user verification on an account with TOTP the challenge.
    @Sendable func passkeySignIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let input = try await request.decode(as: PasskeySignInRequest.self, context: context)
        guard let credential = input.credential else { throw AuthError.validation(field: "credential", "is required") }
        let signIn = try await passkeys.signIn(credential, client: context.client(request), logger: context.logger)
        return try signInAnswer(signIn, request: request, context: context)
    }

    private func signInAnswer(_ signIn: SignIn, request: Request, context: AppRequestContext) throws -> Response {
        switch signIn {
        case .signedIn(let tokens):
            return try tokenAnswer(tokens, inCookie: cookie.carriesToken(request)).response(from: request, context: context)
        case .secondFactorRequired(let pending):
            let challenge = MFAChallengeResponse(mfaToken: pending.mfaToken, methods: pending.methods, expiresIn: pending.expiresIn)
            return try EditedResponse.noStore(challenge).response(from: request, context: context)
        }
    }

    /// The token comes from the body, or else from the cookie; a refresh through the cookie rotates the cookie, and
    /// one that finds its session dead clears it.
    @Sendable func refresh(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TokenPairResponse> {
        var request = request
        let fromBody = try await request.refreshTokenInBody(context: context)
        let fromCookie = fromBody == nil ? try cookie.token(of: request) : nil
        guard let presented = fromBody ?? fromCookie else { throw AuthError.validation(field: "refreshToken", "is required") }
        try await limiter.check(.refresh, ip: context.clientIP)
        do {
            let tokens = try await sessions.refresh(presented, client: context.client(request), logger: context.logger)
            return tokenAnswer(tokens, inCookie: fromCookie != nil || cookie.carriesToken(request))
        } catch let error as AuthError where fromCookie != nil && [.invalidRefreshToken, .refreshTokenReused].contains(error.code) {
            throw AuthErrorWithHeaders(error: error, headers: RefreshCookie.clearing)
        }
    }

    /// Idempotent: unknown tokens are a 204 too. An expired or invalid access token does not block a
    /// logout by refresh token; without a refresh token (body, then cookie), the access token names the session.
    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let fromBody = try await request.refreshTokenInBody(context: context)
        let refreshToken = try fromBody ?? cookie.token(of: request)
        var identity: Identity?
        if let bearer = request.bearerToken {
            do {
                identity = try await sessions.authenticate(accessToken: bearer)
            } catch  where refreshToken != nil {
                identity = nil
            }
        }
        guard refreshToken != nil || identity != nil else { throw AuthError.validation(field: "refreshToken", "is required") }
        try await sessions.logout(refreshToken: refreshToken, identity: identity, client: context.client(request), logger: context.logger)
        return Response(status: .noContent, headers: cookie.isPresent(in: request) ? RefreshCookie.clearing : [:])
    }

    /// A token pair answer; in cookie mode the refresh token goes into the cookie and out of the body.
    private func tokenAnswer(_ tokens: IssuedTokens, inCookie: Bool) -> EditedResponse<TokenPairResponse> {
        var answer = EditedResponse.noStore(tokens.response)
        if inCookie {
            answer.responseGenerator.refreshToken = nil
            answer.headers.append(contentsOf: cookie.setting(tokens.refreshToken))
        }
        return answer
    }
}

extension Request {
    /// The `refreshToken` of a refresh or logout body. The body is optional: browsers (cookie mode) and clients that
    /// log out with a Bearer token send none, an empty one without a content type, or `{}`.
    mutating func refreshTokenInBody(context: AppRequestContext) async throws -> String? {
        let body = try await collectBody(upTo: context.maxUploadSize)
        guard body.readableBytes > 0 else { return nil }
        // Both bodies have this shape: an optional refresh token.
        return try await decode(as: LogoutRequest.self, context: context).refreshToken
    }
}

extension EditedResponse {
    /// Token and account answers must never be cached, by HTTP/1.1 caches (`Cache-Control`) or HTTP/1.0 ones (`Pragma`).
    static func noStore(_ response: Generator, status: HTTPResponse.Status = .ok) -> Self {
        EditedResponse(status: status, headers: [.cacheControl: "no-store", .pragma: "no-cache"], response: response)
    }
}

extension TokenPairResponse: ResponseEncodable {}
extension MFAChallengeResponse: ResponseEncodable {}
extension RegisterResponse: ResponseEncodable {}
extension UserResponse: ResponseEncodable {}
extension SessionListResponse: ResponseEncodable {}
extension StatusResponse: ResponseEncodable {}
