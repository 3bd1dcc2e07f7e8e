import Foundation
import LatchkeyAPI
import Logging

/// A TOTP enrolment waiting for its first code: the secret as apps take it, typed or scanned.
public struct TOTPEnrolment: Sendable {
    /// Base32 without padding.
    public var secret: String
    public var otpauthURI: String
    /// An SVG document of a QR code of `otpauthURI`.
    public var qrSVG: String
}

/// The account's second factors: TOTP and recovery codes, the login challenge's second step, and step-up.
public struct SecondFactorService: Sendable {
    let database: any StorageBackend
    let sessions: SessionService
    let codes: SecondFactorCodes
    public let confirmation: ActionConfirmation
    let issuer: String

    public init(
        database: any StorageBackend,
        sessions: SessionService,
        hasher: PasswordHasher,
        configuration: SecondFactorConfiguration,
        keyEncryptionKey: KeyEncryptionKey
    ) {
        self.database = database
        self.sessions = sessions
        let codes = SecondFactorCodes(
            database: database,
            limiter: sessions.limiter,
            throttle: configuration.throttle,
            keyEncryptionKey: keyEncryptionKey
        )
        self.codes = codes
        self.confirmation = ActionConfirmation(hasher: hasher, limiter: sessions.limiter, codes: codes, reauthMaxAge: configuration.reauthMaxAge)
        self.issuer = configuration.issuer
    }

    public func factors(of userID: UUID) async throws -> SecondFactors {
        try await database.mfa.factors(userID: userID)
    }

    /// Starts (or restarts) a TOTP enrolment; `MFA_ALREADY_ENABLED` when TOTP is on.
    public func enrollTOTP(_ identity: Identity, _ confirmation: Confirmation, client: ClientInfo) async throws -> TOTPEnrolment {
        let factors = try await self.confirmation.confirm(identity, confirmation, client: client)
        guard !factors.requiresCode else { throw AuthError.mfaAlreadyEnabled }
        let secret = TOTPFactor.newSecret()
        let now = Date()
        guard
            try await database.mfa.startTOTPEnrolment(
                userID: identity.userID,
                sealedSecret: try codes.seal(secret, userID: identity.userID),
                now: now
            )
        else { throw AuthError.mfaAlreadyEnabled }
        let uri = TOTPFactor.uri(secret: secret, issuer: issuer, account: identity.user.email)
        return TOTPEnrolment(secret: TOTPFactor.base32(secret), otpauthURI: uri, qrSVG: try QRCode(uri).svg)
    }

    /// Turns the pending TOTP on with its first code, and returns the first recovery codes. Every other session of the
    /// account ends: whoever enrolled may have shared it with an attacker who now cannot pass the new factor.
    public func confirmTOTP(_ identity: Identity, code: String, client: ClientInfo, logger: Logger) async throws -> [String] {
        let now = Date()
        guard let pending = try await database.mfa.factors(userID: identity.userID).totp, !pending.isOn else {
            throw AuthError(.notFound, "No TOTP enrolment is waiting for a code")
        }
        let (recoveryCodes, hashes) = codes.recoveryCodes.generate()
        _ = try await codes.attempt(.otp, userID: identity.userID, client: client, now: now) {
            guard
                let step = TOTPFactor.matchingStep(
                    code,
                    secret: try codes.secret(of: pending, userID: identity.userID),
                    now: now,
                    after: pending.lastUsedStep
                )
            else { return false }
            return try await database.mfa.confirmTOTP(
                userID: identity.userID,
                sealedSecret: pending.sealedSecret,
                step: step,
                recoveryCodeHashes: hashes,
                keepSessionID: identity.sessionID,
                now: now,
                audit: AuditEvent(.mfaTOTPEnabled, by: client, at: now, userID: identity.userID, sessionID: identity.sessionID)
            )
        }
        logger.info("TOTP turned on", metadata: ["event": "mfa.totp_enabled", "user": "\(identity.userID)"])
        return recoveryCodes
    }

    /// Ten new recovery codes; the old ones die. `NOT_FOUND` on an account without TOTP, for which they would stand
    /// in for nothing.
    public func regenerateRecoveryCodes(
        _ identity: Identity,
        _ confirmation: Confirmation,
        client: ClientInfo,
        logger: Logger
    ) async throws -> [String] {
        guard try await self.confirmation.confirm(identity, confirmation, client: client).requiresCode else { throw Self.totpOff }
        let (recoveryCodes, hashes) = codes.recoveryCodes.generate()
        let now = Date()
        let audit = AuditEvent(.mfaRecoveryCodesRegenerated, by: client, at: now, userID: identity.userID, sessionID: identity.sessionID)
        // TOTP turned off meanwhile: codes that stand in for nothing are not made.
        guard try await database.mfa.replaceRecoveryCodes(userID: identity.userID, hashes: hashes, now: now, audit: audit) else {
            throw Self.totpOff
        }
        logger.info("recovery codes replaced", metadata: ["event": "mfa.recovery_codes_regenerated", "user": "\(identity.userID)"])
        return recoveryCodes
    }

    /// Removes TOTP and the recovery codes.
    public func disableTOTP(_ identity: Identity, _ confirmation: Confirmation, client: ClientInfo, logger: Logger) async throws {
        guard try await self.confirmation.confirm(identity, confirmation, client: client).requiresCode else { throw Self.totpOff }
        let now = Date()
        let audit = AuditEvent(.mfaTOTPDisabled, by: client, at: now, userID: identity.userID, sessionID: identity.sessionID)
        guard try await database.mfa.removeTOTP(userID: identity.userID, revokingSessions: false, now: now, audit: audit) else { throw Self.totpOff }
        logger.info("TOTP turned off", metadata: ["event": "mfa.totp_disabled", "user": "\(identity.userID)"])
    }

    /// The second step of a sign-in: `mfaToken` from the challenge and a code. The session it opens has the first
    /// factor's `amr`, then the code's method, then `mfa`.
    ///
    /// Two store calls (on SQLite two write transactions): one admits the attempt (reserving a wrong code on the
    /// account's budget and on the challenge, before the code is checked, so that concurrent guesses cannot get past
    /// either), the other spends the right code, ends the challenge and opens the session. Only this route's wrong codes
    /// count toward the challenge's five; a 429 is not one.
    public func verify(mfaToken: String, code: SecondFactorCode, client: ClientInfo, logger: Logger) async throws -> IssuedTokens {
        let now = Date()
        let tokenHash = RandomToken.hash(mfaToken)
        let method = code.method
        let (challenge, user, factors): (MFAChallenge, User, SecondFactors)
        switch try await database.mfa.admitSecondStep(tokenHash: tokenHash, throttle: codes.throttle, now: now) {
        case .challengeGone: throw AuthError.invalidMFAToken
        case .throttled(let retryAfter): throw codes.throttled(method, retryAfter: retryAfter)
        case .admitted(let admitted, let owner, let ownerFactors): (challenge, user, factors) = (admitted, owner, ownerFactors)
        }
        guard user.isActive else { throw AuthError.accountDisabled }
        guard let spendable = try codes.spendable(code, of: user.id, factors: factors, client: client, now: now) else {
            throw try await codes.rejected(method, userID: user.id, client: client, now: now)
        }
        let amr = SessionService.amr(challenge.amr, adding: method).compactMap(AuthenticationMethod.init(rawValue:))
        let new = sessions.newSession(for: user, client: client, recording: .loginSucceeded, amr: amr, now: now)
        switch try await database.mfa.completeSecondStep(tokenHash: tokenHash, userID: user.id, code: spendable, session: new.stored, now: now) {
        case .codeRejected: throw try await codes.rejected(method, userID: user.id, client: client, now: now)
        case .challengeGone: throw AuthError.invalidMFAToken
        case .completed: codes.accepted(method)
        }
        logger.info("signed in with a second factor", metadata: ["event": "login.succeeded", "user": "\(user.id)"])
        return try await sessions.opened(new, user: user, recording: .loginSucceeded, now: now)
    }

    /// Step-up: a code adds its factor to the caller's session.
    public func stepUp(_ identity: Identity, code: SecondFactorCode, client: ClientInfo, logger: Logger) async throws -> IssuedTokens {
        let now = Date()
        let factors = try await database.mfa.factors(userID: identity.userID)
        let method = try await codes.check(code, of: identity.user, factors: factors, client: client, now: now)
        let tokens = try await sessions.addFactor(method, to: identity, now: now)
        logger.info("session stepped up", metadata: ["event": "mfa.step_up", "user": "\(identity.userID)"])
        return tokens
    }

    /// An administrator's reset: TOTP and recovery codes removed (passkeys stay), every session revoked. False for an
    /// unknown account.
    public func reset(userID: UUID, client: ClientInfo, logger: Logger) async throws -> Bool {
        guard try await database.users.user(id: userID) != nil else { return false }
        let now = Date()
        let audit = AuditEvent(.mfaReset, by: client, at: now, userID: userID)
        _ = try await database.mfa.removeTOTP(userID: userID, revokingSessions: true, now: now, audit: audit)
        logger.notice("second factor reset by an administrator", metadata: ["event": "mfa.reset", "user": "\(userID)"])
        return true
    }

    static let totpOff = AuthError(.notFound, "TOTP is not on for this account")
}
