import Foundation
import LatchkeyAPI
import Logging

/// Where a request came from, kept with the session it opens.
public struct ClientInfo: Sendable {
    public var userAgent: String?
    public var ip: String?

    public init(userAgent: String?, ip: String?) {
        self.userAgent = userAgent.map { String($0.prefix(512)) }
        self.ip = ip
    }
}

/// The caller of a protected route: a verified access token whose session is live, and its user as just read.
public struct Identity: Sendable {
    public var user: User
    public var sessionID: UUID
    public var userID: UUID { user.id }
}

/// Logins, refresh-token rotation and revocation.
public struct SessionService: Sendable {
    let database: any Database
    let issuer: TokenIssuer
    let hasher: PasswordHasher
    let accounts: AccountConfiguration

    public init(database: any Database, issuer: TokenIssuer, hasher: PasswordHasher, accounts: AccountConfiguration) {
        self.database = database
        self.issuer = issuer
        self.hasher = hasher
        self.accounts = accounts
    }

    var tokens: TokenConfiguration { issuer.configuration }

    public func login(_ request: LoginRequest, client: ClientInfo, logger: Logger) async throws -> TokenPairResponse {
        let email = AccountService.normalizedEmail(request.email)
        let user = try await database.users.user(email: email)
        // bcrypt runs whether or not the account exists, so timing does not reveal it.
        let matches = try await hasher.verify(request.password, hash: user?.passwordHash)
        guard let user, matches else {
            logger.info("login failed", metadata: ["event": "login.failed"])
            throw AuthError.invalidCredentials
        }
        guard user.isActive else { throw AuthError.accountDisabled }
        if accounts.requireEmailVerification && !user.emailVerified { throw AuthError.emailNotVerified }
        let pair = try await startSession(for: user, client: client)
        logger.info("login", metadata: ["event": "login.succeeded", "user": "\(user.id)"])
        return pair
    }

    /// Opens a session for an authenticated user and returns its first token pair.
    public func startSession(for user: User, client: ClientInfo, now: Date = Date()) async throws -> TokenPairResponse {
        let refreshToken = RandomToken.make()
        let session = Session(
            id: UUID(),
            userID: user.id,
            createdAt: now,
            lastUsedAt: now,
            expiresAt: now.addingTimeInterval(Double(tokens.refreshTokenTTL)),
            userAgent: client.userAgent,
            ip: client.ip,
            revokedAt: nil
        )
        try await database.sessions.createSession(session, refreshTokenHash: RandomToken.hash(refreshToken))
        return try await tokenPair(user: user, sessionID: session.id, refreshToken: refreshToken, now: now)
    }

    public func refresh(_ presented: String, logger: Logger, now: Date = Date()) async throws -> TokenPairResponse {
        let successor = RandomToken.make()
        let rotation = RefreshRotation(
            presentedHash: RandomToken.hash(presented),
            successorHash: RandomToken.hash(successor),
            sealedSuccessor: try RefreshRotation.seal(successor, presented: presented),
            sessionExpiresAt: now.addingTimeInterval(Double(tokens.refreshTokenTTL)),
            now: now,
            grace: tokens.refreshReuseGrace
        )
        switch try await database.sessions.rotateRefreshToken(rotation) {
        case .rotated(let session, let user):
            logger.info("refresh", metadata: ["event": "refresh", "user": "\(user.id)", "session": "\(session.id)"])
            return try await tokenPair(user: user, sessionID: session.id, refreshToken: successor, now: now)
        case .replayed(let session, let user, let sealed):
            let sameSuccessor = try RefreshRotation.open(sealed, presented: presented)
            logger.info("refresh within grace", metadata: ["event": "refresh.grace", "user": "\(user.id)", "session": "\(session.id)"])
            return try await tokenPair(user: user, sessionID: session.id, refreshToken: sameSuccessor, now: now)
        case .reused:
            logger.warning("refresh token reuse detected; session revoked", metadata: ["event": "refresh.reuse"])
            throw AuthError.refreshTokenReused
        case .invalid:
            throw AuthError.invalidRefreshToken
        case .accountDisabled:
            throw AuthError.accountDisabled
        }
    }

    /// Ends the session of `refreshToken`, or else of the caller's access token. Unknown tokens are fine.
    public func logout(refreshToken: String?, identity: Identity?, logger: Logger, now: Date = Date()) async throws {
        if let refreshToken {
            try await database.sessions.revokeSession(refreshTokenHash: RandomToken.hash(refreshToken), now: now)
        } else if let identity {
            _ = try await database.sessions.revokeSession(id: identity.sessionID, userID: identity.userID, now: now)
        }
        logger.info("logout", metadata: ["event": "logout"])
    }

    public func logoutEverywhere(_ identity: Identity, logger: Logger, now: Date = Date()) async throws {
        try await database.sessions.revokeAllSessions(userID: identity.userID, now: now)
        logger.info("logout everywhere", metadata: ["event": "logout.all", "user": "\(identity.userID)"])
    }

    public func sessions(of identity: Identity, now: Date = Date()) async throws -> [SessionResponse] {
        try await database.sessions.liveSessions(userID: identity.userID, now: now).map {
            $0.response(currentSessionID: identity.sessionID)
        }
    }

    /// Throws `notFound` for an unknown id or another user's session.
    public func revokeSession(id: UUID, of identity: Identity, now: Date = Date()) async throws {
        guard try await database.sessions.revokeSession(id: id, userID: identity.userID, now: now) else {
            throw AuthError(.notFound, "No such session")
        }
    }

    /// Verifies an access token and checks that its session is still live.
    public func authenticate(accessToken: String, now: Date = Date()) async throws -> Identity {
        let token = try await issuer.verify(accessToken, now: now)
        guard let user = try await database.sessions.activeUser(sessionID: token.sessionID, userID: token.userID, now: now) else {
            throw AuthError.tokenInvalid
        }
        return Identity(user: user, sessionID: token.sessionID)
    }

    private func tokenPair(user: User, sessionID: UUID, refreshToken: String, now: Date) async throws -> TokenPairResponse {
        TokenPairResponse(
            accessToken: try await issuer.issue(for: user, sessionID: sessionID, now: now),
            refreshToken: refreshToken,
            expiresIn: tokens.accessTokenTTL,
            refreshExpiresIn: tokens.refreshTokenTTL,
            user: user.response
        )
    }
}
