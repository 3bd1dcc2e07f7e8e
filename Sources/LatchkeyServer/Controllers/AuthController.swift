import Hummingbird
import LatchkeyAPI
import LatchkeyCore

/// The public routes: register, login, refresh, logout.
struct AuthController {
    let accounts: AccountService
    let sessions: SessionService

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .post("register", use: register)
            .post("login", use: login)
            .post("refresh", use: refresh)
            .post("logout", use: logout)
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<RegisterResponse> {
        let input = try await request.decode(as: RegisterRequest.self, context: context)
        let registered = try await accounts.register(input, client: context.client(request), logger: context.logger)
        return EditedResponse(status: .created, headers: [.cacheControl: "no-store"], response: registered)
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TokenPairResponse> {
        let input = try await request.decode(as: LoginRequest.self, context: context)
        return .noStore(try await sessions.login(input, client: context.client(request), logger: context.logger))
    }

    @Sendable func refresh(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TokenPairResponse> {
        let input = try await request.decode(as: RefreshRequest.self, context: context)
        return .noStore(try await sessions.refresh(input.refreshToken, logger: context.logger))
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
            } catch where refreshToken != nil {
                identity = nil
            }
        }
        guard refreshToken != nil || identity != nil else { throw AuthError.validation(field: "refreshToken", "is required") }
        try await sessions.logout(refreshToken: refreshToken, identity: identity, logger: context.logger)
        return .noContent
    }
}

extension EditedResponse where Generator == TokenPairResponse {
    /// Token responses must never be cached.
    static func noStore(_ pair: TokenPairResponse) -> Self {
        EditedResponse(headers: [.cacheControl: "no-store"], response: pair)
    }
}

extension TokenPairResponse: ResponseEncodable {}
extension RegisterResponse: ResponseEncodable {}
extension UserResponse: ResponseEncodable {}
extension SessionListResponse: ResponseEncodable {}
extension StatusResponse: ResponseEncodable {}
