import Foundation
import LatchkeyAPI
import Logging
import Metrics

/// Who asked for a change and from where: kept with the sessions it opens and in the audit log.
public struct ClientInfo: Sendable {
    public var userAgent: String?
    public var ip: String?
    public var requestID: String?
    /// The administrator acting on someone else's account.
    public var actorID: UUID?

    public init(userAgent: String?, ip: String?, requestID: String? = nil, actorID: UUID? = nil) {
        self.userAgent = userAgent.map { String($0.prefix(512)) }
        self.ip = ip
        self.requestID = requestID
        self.actorID = actorID
    }

    /// An operator's `latchkey` command.
    public static let commandLine = ClientInfo(userAgent: "latchkey command line", ip: nil)
    /// The server itself, at its first start (the first signing key).
    public static let serverStart = ClientInfo(userAgent: "latchkey server start", ip: nil)
}

/// What a user logs in with.
public struct Credentials: Sendable {
    public var email: String
    public var password: String

    public init(email: String, password: String) {
        self.email = email
        self.password = password
    }
}

/// A new session's or a rotation's tokens. The refresh token exists nowhere else: only its hash is stored.
public struct IssuedTokens: Sendable {
    public var accessToken: String
    public var refreshToken: String
    /// Seconds.
    public var accessTokenTTL: Int
    public var refreshTokenTTL: Int
    public var user: User
    /// How the session signed in: the access token's `amr`.
    public var amr: [String]
}

/// One page of a user's live sessions, newest first; `nextCursor` continues after it.
public struct SessionPage: Sendable {
    public var sessions: [Session]
    public var nextCursor: String?
}

/// The caller of a protected route: a verified access token whose session is live, and its user as just read.
public struct Identity: Sendable {
    public var user: User
    public var sessionID: UUID
    /// How and when the session signed in, as the access token says: the confirmation of sensitive actions and
    /// `LATCHKEY_ADMIN_REQUIRE_MFA` read them. A token of an earlier version, without them, counts as a password
    /// sign-in long ago.
    public var amr: [String]
    public var authTime: Date
    public var userID: UUID { user.id }

    public init(user: User, sessionID: UUID, amr: [String], authTime: Date) {
        self.user = user
        self.sessionID = sessionID
        self.amr = amr
        self.authTime = authTime
    }
}

/// Logins, refresh-token rotation and revocation.
public struct SessionService: Sendable {
    let database: any StorageBackend
    let issuer: TokenIssuer
    let hasher: PasswordHasher
    let accounts: AccountConfiguration
    let limiter: RateLimiter
    /// Seals the successor of a refresh token that a step-up replaced: it had no token in hand to seal it under.
    let steppedUpSuccessors: SecretSealer

    public init(
        database: any StorageBackend,
        issuer: TokenIssuer,
        hasher: PasswordHasher,
        accounts: AccountConfiguration,
        limiter: RateLimiter,
        keyEncryptionKey: KeyEncryptionKey
    ) {
        self.database = database
        self.issuer = issuer
        self.hasher = hasher
        self.accounts = accounts
        self.limiter = limiter
        self.steppedUpSuccessors = SecretSealer(keyEncryptionKey: keyEncryptionKey, purpose: "stepped-up refresh successor")
    }

    var tokens: TokenConfiguration { issuer.configuration }

    /// Throws `RATE_LIMITED`, before the password is checked, while the client IP's login budget is spent or the
    /// account waits after too many failures.
    public func login(_ credentials: Credentials, client: ClientInfo, logger: Logger) async throws -> SignIn {
        let email = EmailAddress.lookupForm(credentials.email)
        let reservation = try await limiter.reserveLogin(email: email, ip: client.ip)
        let user = try await database.users.user(email: email)
        // bcrypt runs whether or not the account exists, so timing does not reveal it.
        let matches = try await hasher.verify(credentials.password, hash: user?.passwordHash)
        let now = Date()
        guard let user, matches else {
            Measured.loginsFailed.increment()
            logger.info("login failed", metadata: ["event": "login.failed"])
            // An unknown email has no account to name: the event names the address tried, when it is one (what was
            // typed may be anything, a password too).
            let about: [String: AuditValue] =
                if user != nil { ["reason": "wrong_password"] } else if let address = EmailAddress.normalized(credentials.email) {
                    ["reason": "unknown_email", "email": .string(address)]
                } else { ["reason": "malformed_email"] }
            var events = [AuditEvent(.loginFailed, by: client, at: now, userID: user?.id, details: about)]
            if let state = reservation.state, let waitUntil = state.waitUntil {
                let wait = Rate.wholeSeconds(waitUntil - now.timeIntervalSince1970)
                logger.warning(
                    "account waits after failed logins",
                    metadata: [
                        "event": "login.throttled", "account": "\(reservation.logName)", "failures": "\(state.failures)", "waitSeconds": "\(wait)",
                    ]
                )
                // This failure started the wait: the one event of it (the 429s during the wait write nothing).
                let details = about.merging(["failures": .int(state.failures), "waitSeconds": .int(wait)]) { old, _ in old }
                events.append(AuditEvent(.loginThrottled, by: client, at: now, userID: user?.id, details: details))
            }
            try await database.audit.record(events)
            throw AuthError.invalidCredentials
        }
        // The password was right: the reserved failure is not one.
        guard user.isActive, !accounts.requireEmailVerification || user.emailVerified else {
            try await limiter.clearLoginFailures(email: email)
            Measured.loginsFailed.increment()
            let reason = user.isActive ? "email_not_verified" : "account_disabled"
            try await database.audit.record([AuditEvent(.loginFailed, by: client, at: now, userID: user.id, details: ["reason": .string(reason)])])
            throw user.isActive ? AuthError.emailNotVerified : AuthError.accountDisabled
        }
        let signIn = try await finishSignIn(user, methods: [.password], client: client, clearingLoginFailures: reservation.accountKey, logger: logger)
        if hasher.needsRehash(user.passwordHash) { await rehash(user, credentials.password, logger: logger) }
        return signIn
    }

    /// An imported hash, or one from before a cost change, is replaced by one at the configured cost. The login has
    /// succeeded already: a failure here is only logged, and the next login tries again.
    private func rehash(_ user: User, _ password: String, logger: Logger) async {
        do {
            try await database.users.rehashPassword(userID: user.id, from: user.passwordHash, to: try await hasher.hash(password))
            logger.info("password rehashed at the configured cost", metadata: ["event": "password.rehashed", "user": "\(user.id)"])
        } catch {
            logger.warning("password not rehashed", metadata: ["user": "\(user.id)", "error": "\(String(describing: error))"])
        }
    }

    /// Opens a session for an authenticated user and returns its first tokens. Past the per-user cap, the
    /// least recently used live session is revoked. `recording` is the audit event's type (none for the session a
    /// registration opens: its `user.registered` says it); `amr`, how the user signed in.
    public func startSession(
        for user: User,
        client: ClientInfo,
        recording type: AuditEvent.Kind?,
        amr: [AuthenticationMethod] = [.password],
        clearingLoginFailures accountKey: String? = nil,
        now: Date = Date()
    ) async throws -> IssuedTokens {
        let new = newSession(for: user, client: client, recording: type, amr: amr, now: now)
        try await database.sessions.createSession(
            new.stored.session,
            refreshTokenHash: new.stored.refreshTokenHash,
            maxLiveSessions: new.stored.maxLiveSessions,
            clearingLoginFailures: accountKey,
            audit: new.stored.audit
        )
        return try await opened(new, user: user, recording: type, now: now)
    }

    /// A session to store, and its first refresh token, which exists nowhere else.
    struct PreparedSession {
        var stored: NewSession
        var refreshToken: String
    }

    func newSession(for user: User, client: ClientInfo, recording type: AuditEvent.Kind?, amr: [AuthenticationMethod], now: Date) -> PreparedSession {
        let refreshToken = RefreshToken.make(now: now)
        let session = Session(
            id: UUID(),
            userID: user.id,
            createdAt: now,
            lastUsedAt: now,
            expiresAt: now.addingTimeInterval(Double(tokens.refreshTokenTTL)),
            userAgent: client.userAgent,
            ip: client.ip,
            revokedAt: nil,
            amr: amr.map(\.rawValue),
            authTime: now
        )
        let audit = type.map { AuditEvent($0, by: client, at: now, userID: user.id, sessionID: session.id, details: ["amr": .strings(session.amr)]) }
        return PreparedSession(
            stored: NewSession(
                session: session,
                refreshTokenHash: RefreshToken.key(refreshToken),
                maxLiveSessions: accounts.maxSessionsPerUser,
                audit: audit
            ),
            refreshToken: refreshToken
        )
    }

    /// The first tokens of a session just stored.
    func opened(_ new: PreparedSession, user: User, recording type: AuditEvent.Kind?, now: Date) async throws -> IssuedTokens {
        // A sign-in counts once it has a session: a password that leads to the second factor's challenge does not yet.
        if type == .loginSucceeded { Measured.loginsSucceeded.increment() }
        return try await issue(user: user, session: new.stored.session, refreshToken: new.refreshToken, now: now)
    }

    public func refresh(_ presented: String, client: ClientInfo, logger: Logger, now: Date = Date()) async throws -> IssuedTokens {
        let successor = RefreshToken.make(now: now)
        let rotation = RefreshRotation(
            presentedHash: RefreshToken.key(presented),
            successorHash: RefreshToken.key(successor),
            sealedSuccessor: try RefreshRotation.seal(successor, presented: presented),
            sessionExpiresAt: now.addingTimeInterval(Double(tokens.refreshTokenTTL)),
            now: now,
            grace: tokens.refreshReuseGrace,
            client: client
        )
        let outcome = try await database.sessions.rotateRefreshToken(rotation)
        Measured.refreshes[outcome.name]?.increment()
        switch outcome {
        case .rotated(let session, let user):
            logger.info("refresh", metadata: ["event": "refresh", "user": "\(user.id)", "session": "\(session.id)"])
            return try await issue(user: user, session: session, refreshToken: successor, now: now)
        case .replayed(let session, let user, let sealed):
            let sameSuccessor = try openSuccessor(sealed, presented: presented, presentedKey: rotation.presentedHash)
            logger.info("refresh within grace", metadata: ["event": "refresh.grace", "user": "\(user.id)", "session": "\(session.id)"])
            return try await issue(user: user, session: session, refreshToken: sameSuccessor, now: now)
        case .reused:
            logger.warning("refresh token reuse detected; session revoked", metadata: ["event": "refresh.reuse"])
            throw AuthError.refreshTokenReused
        case .invalid:
            throw AuthError.invalidRefreshToken
        case .accountDisabled:
            throw AuthError.accountDisabled
        }
    }

    /// A rotation seals the successor under the presented token; a step-up, which has no refresh token in hand, under
    /// the KEK with the replaced token's key authenticated.
    private func openSuccessor(_ sealed: Data, presented: String, presentedKey: Data) throws -> String {
        if let successor = try? RefreshRotation.open(sealed, presented: presented) { return successor }
        return String(decoding: try steppedUpSuccessors.open(sealed, owner: Base64URL.encode(presentedKey)), as: UTF8.self)
    }

    /// Adds a second factor to the caller's session (step-up): new `amr` and `auth_time`, and a rotated refresh token;
    /// the token it replaces is treated as rotated.
    public func addFactor(_ method: AuthenticationMethod, to identity: Identity, now: Date = Date()) async throws -> IssuedTokens {
        let successor = RefreshToken.make(now: now)
        let sealer = steppedUpSuccessors
        guard
            let session = try await database.sessions.stepUp(
                sessionID: identity.sessionID,
                userID: identity.userID,
                amr: { current in Self.amr(current, adding: method) },
                successorHash: RefreshToken.key(successor),
                sealSuccessor: { replaced in try sealer.seal(Data(successor.utf8), owner: Base64URL.encode(replaced)) },
                sessionExpiresAt: now.addingTimeInterval(Double(tokens.refreshTokenTTL)),
                now: now
            )
        else { throw AuthError.tokenInvalid }
        return try await issue(user: identity.user, session: session, refreshToken: successor, now: now)
    }

    /// `amr` once `method` is added: the methods in the order of use, then `mfa` when there are two of them.
    static func amr(_ current: [String], adding method: AuthenticationMethod) -> [String] {
        var methods = current.filter { $0 != AuthenticationMethod.multiFactor.rawValue }
        if !methods.contains(method.rawValue) { methods.append(method.rawValue) }
        return methods.count > 1 || current.contains(AuthenticationMethod.multiFactor.rawValue)
            ? methods + [AuthenticationMethod.multiFactor.rawValue] : methods
    }

    /// Ends the session of `refreshToken`, or else of the caller's access token. Unknown tokens are fine.
    public func logout(refreshToken: String?, identity: Identity?, client: ClientInfo, logger: Logger, now: Date = Date()) async throws {
        let event = AuditEvent(.logout, by: client, at: now)
        if let refreshToken {
            try await database.sessions.revokeSession(refreshTokenHash: RefreshToken.key(refreshToken), now: now, audit: event)
        } else if let identity {
            let audit = event.about(userID: identity.userID, sessionID: identity.sessionID)
            _ = try await database.sessions.revokeSession(id: identity.sessionID, userID: identity.userID, now: now, audit: audit)
        }
        logger.info("logout", metadata: ["event": "logout"])
    }

    /// Revokes every session of the user (the caller's own, an admin's or a command's request).
    public func logoutEverywhere(userID: UUID, client: ClientInfo, logger: Logger, now: Date = Date()) async throws {
        try await database.sessions.revokeAllSessions(userID: userID, now: now, audit: AuditEvent(.logoutAll, by: client, at: now, userID: userID))
        logger.info("logout everywhere", metadata: ["event": "logout.all", "user": "\(userID)"])
    }

    /// A page of at most `limit` live sessions, newest first, after the one `cursor` (a `nextCursor`) names.
    /// Throws a validation error for a cursor this server did not hand out.
    public func sessions(ofUser userID: UUID, limit: Int, cursor: String?, now: Date = Date()) async throws -> SessionPage {
        let found = try await database.sessions.liveSessions(userID: userID, now: now, limit: limit + 1, after: try PageCursor.after(cursor))
        let (page, next) = PageCursor.page(found, limit: limit, id: \.id)
        return SessionPage(sessions: page, nextCursor: next)
    }

    /// Throws `notFound` for an unknown id or another user's session.
    public func revokeSession(id: UUID, ofUser userID: UUID, client: ClientInfo, now: Date = Date()) async throws {
        let audit = AuditEvent(.sessionRevoked, by: client, at: now, userID: userID, sessionID: id)
        guard try await database.sessions.revokeSession(id: id, userID: userID, now: now, audit: audit) else {
            throw AuthError(.notFound, "No such session")
        }
    }

    /// Verifies an access token and checks that its session is still live.
    public func authenticate(accessToken: String, now: Date = Date()) async throws -> Identity {
        let token = try await issuer.verify(accessToken, now: now)
        guard let user = try await database.sessions.activeUser(sessionID: token.sessionID, userID: token.userID, now: now) else {
            throw AuthError.tokenInvalid
        }
        return Identity(
            user: user,
            sessionID: token.sessionID,
            amr: token.claims.amr ?? [AuthenticationMethod.password.rawValue],
            authTime: token.claims.authTime.map { Date(timeIntervalSince1970: Double($0)) } ?? .distantPast
        )
    }

    private func issue(user: User, session: Session, refreshToken: String, now: Date) async throws -> IssuedTokens {
        IssuedTokens(
            accessToken: try await issuer.issue(for: user, session: session, now: now),
            refreshToken: refreshToken,
            accessTokenTTL: tokens.accessTokenTTL,
            refreshTokenTTL: tokens.refreshTokenTTL,
            user: user,
            amr: session.amr
        )
    }
}
