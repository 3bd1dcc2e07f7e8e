import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// The public routes: register, login, refresh, logout. Register and refresh take from the client IP's budget
/// before anything else; login's budgets are checked by `SessionService.login`, in the same round trip as the
/// account's throttle.
struct AuthController {
    let accounts: AccountService
    let sessions: SessionService
    let limiter: RateLimiter

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .post("register", use: register)
            .post("login", use: login)
            .post("refresh", use: refresh)
            .post("logout", use: logout)
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<RegisterResponse> {
        try await limiter.check(.register, ip: context.clientIP)
        let input = try await request.decode(as: RegisterRequest.self, context: context)
        let account = NewAccount(email: input.email, password: input.password, name: input.name)
        let registered = try await accounts.register(account, client: context.client(request), logger: context.logger)
        return .noStore(RegisterResponse(user: registered.user.response, tokens: registered.tokens?.response), status: .created)
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TokenPairResponse> {
        let input = try await request.decode(as: LoginRequest.self, context: context)
        let credentials = Credentials(email: input.email, password: input.password)
        return .noStore(try await sessions.login(credentials, client: context.client(request), logger: context.logger).response)
    }

    @Sendable func refresh(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TokenPairResponse> {
        try await limiter.check(.refresh, ip: context.clientIP)
        let input = try await request.decode(as: RefreshRequest.self, context: context)
        return .noStore(try await sessions.refresh(input.refreshToken, logger: context.logger).response)
    }

    /// Idempotent: unknown tokens are a 204 too. An expired or invalid access token does not block a
    /// logout by refresh token; without a refresh token, the access token names the session.
    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        // The body is optional: many clients send none (or an empty one) with a Bearer token.
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let refreshToken = body.readableBytes == 0 ? nil : try await request.decode(as: LogoutRequest.self, context: context).refreshToken
        var identity: Identity?
        if let bearer = request.bearerToken {
            do {
                identity = try await sessions.authenticate(accessToken: bearer)
            } catch  where refreshToken != nil {
                identity = nil
            }
        }
        guard refreshToken != nil || identity != nil else { throw AuthError.validation(field: "refreshToken", "is required") }
        try await sessions.logout(refreshToken: refreshToken, identity: identity, logger: context.logger)
        return .noContent
    }
}

extension EditedResponse {
    /// Token responses must never be cached, by HTTP/1.1 caches (`Cache-Control`) or HTTP/1.0 ones (`Pragma`).
    static func noStore(_ response: Generator, status: HTTPResponse.Status = .ok) -> Self {
        EditedResponse(status: status, headers: [.cacheControl: "no-store", .pragma: "no-cache"], response: response)
    }
}

extension TokenPairResponse: ResponseEncodable {}
extension RegisterResponse: ResponseEncodable {}
extension UserResponse: ResponseEncodable {}
extension SessionListResponse: ResponseEncodable {}
extension StatusResponse: ResponseEncodable {}
