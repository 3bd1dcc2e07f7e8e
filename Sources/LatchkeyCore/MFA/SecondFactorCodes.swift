import Foundation
import LatchkeyAPI

/// A code typed as the second factor.
public enum SecondFactorCode: Sendable, Equatable {
    case totp(String)
    case recovery(String)

    /// A `code` field, which takes either: six digits (spaces aside) are a TOTP code, anything else a recovery code.
    public init(either typed: String) {
        let digits = typed.filter { !$0.isWhitespace }
        let isTOTP = digits.count == TOTPFactor.digits && digits.allSatisfy { $0.isASCII && $0.isNumber }
        self = isTOTP ? .totp(typed) : .recovery(typed)
    }

    public var method: AuthenticationMethod {
        switch self {
        case .totp: .otp
        case .recovery: .recovery
        }
    }
}

/// Takes second-factor codes wherever a route accepts one (the login challenge, step-up, the confirmation of a
/// sensitive action), with the same rules everywhere: the account's own budget of wrong codes, reserved before the
/// check (so a wait answers 429 to right and wrong codes alike), a TOTP step or recovery code spent atomically by the
/// database, and one record of each wrong code.
struct SecondFactorCodes: Sendable {
    let database: any StorageBackend
    let limiter: RateLimiter
    let throttle: LoginThrottle
    let secrets: SecretSealer
    let recoveryCodes: RecoveryCodes

    init(database: any StorageBackend, limiter: RateLimiter, throttle: LoginThrottle, keyEncryptionKey: KeyEncryptionKey) {
        self.database = database
        self.limiter = limiter
        self.throttle = throttle
        self.secrets = SecretSealer(keyEncryptionKey: keyEncryptionKey, purpose: "totp secret")
        self.recoveryCodes = RecoveryCodes(keyEncryptionKey: keyEncryptionKey)
    }

    /// Spends `code` of the account: a TOTP code of a step after its last used one, or an unused recovery code. Throws
    /// `INVALID_MFA_CODE` when it is neither (an account without that factor too), `RATE_LIMITED` during a wait.
    func check(_ code: SecondFactorCode, of user: User, factors: SecondFactors, client: ClientInfo, now: Date) async throws -> AuthenticationMethod {
        try await attempt(code.method, userID: user.id, client: client, now: now) {
            switch try spendable(code, of: user.id, factors: factors, client: client, now: now) {
            case nil: return false
            case .totpStep(let step): return try await database.mfa.useTOTPStep(userID: user.id, step: step)
            case .recoveryCode(let hash, let audit):
                return try await database.mfa.useRecoveryCode(userID: user.id, hash: hash, now: now, audit: audit)
            }
        }
    }

    /// What of the account's `code` is to spend: the TOTP step it is the code of (within the window, after the last
    /// used one), or the recovery code's hash. Nil for a wrong code, or one of a factor the account does not have.
    func spendable(_ code: SecondFactorCode, of userID: UUID, factors: SecondFactors, client: ClientInfo, now: Date) throws -> SpendableCode? {
        switch code {
        case .totp(let typed):
            guard let totp = factors.totp, totp.isOn,
                let step = TOTPFactor.matchingStep(typed, secret: try secret(of: totp, userID: userID), now: now, after: totp.lastUsedStep)
            else { return nil }
            return .totpStep(step)
        case .recovery(let typed):
            // Recovery codes stand in for TOTP, so only while it is on (the store checks again as it spends one).
            guard factors.requiresCode, let hash = recoveryCodes.hash(typed) else { return nil }
            return .recoveryCode(hash: hash, audit: AuditEvent(.mfaRecoveryCodeUsed, by: client, at: now, userID: userID))
        }
    }

    /// A wrong code, counted and recorded; the error to answer with.
    func rejected(_ method: AuthenticationMethod, userID: UUID, client: ClientInfo, now: Date) async throws -> AuthError {
        Measured.mfaVerifications["\(Self.name(method)) failure"]?.increment()
        let failed = AuditEvent(.mfaChallengeFailed, by: client, at: now, userID: userID, details: ["method": .string(method.rawValue)])
        try await database.audit.record([failed])
        return AuthError.invalidMFACode
    }

    /// A code refused during the account's wait; the error to answer with.
    func throttled(_ method: AuthenticationMethod, retryAfter: Int) -> AuthError {
        Measured.mfaVerifications["\(Self.name(method)) throttled"]?.increment()
        return RateLimiter.limited("mfa_account", retryAfter: retryAfter)
    }

    /// A right code, counted.
    func accepted(_ method: AuthenticationMethod) {
        Measured.mfaVerifications["\(Self.name(method)) success"]?.increment()
    }

    /// The metric's name of a method.
    private static func name(_ method: AuthenticationMethod) -> String { method == .otp ? "totp" : method.rawValue }

    /// One try of a code that `accept` checks and spends: throttled, counted and recorded like every other.
    func attempt(
        _ method: AuthenticationMethod,
        userID: UUID,
        client: ClientInfo,
        now: Date,
        _ accept: () async throws -> Bool
    ) async throws -> AuthenticationMethod {
        let attempt = LoginAttempt(accountKey: RateLimiter.secondFactorKey(userID), throttle: throttle, ipBucket: nil)
        switch try await database.rateLimits.reserveLoginAttempt(attempt, now: now) {
        case .throttled(let retryAfter), .ipLimited(let retryAfter): throw throttled(method, retryAfter: retryAfter)
        case .reserved: break
        }
        guard try await accept() else { throw try await rejected(method, userID: userID, client: client, now: now) }
        try await limiter.clearSecondFactorFailures(userID: userID)
        accepted(method)
        return method
    }

    func secret(of totp: TOTPRecord, userID: UUID) throws -> [UInt8] {
        Array(try secrets.open(totp.sealedSecret, owner: userID.uuidString.lowercased()))
    }

    func seal(_ secret: [UInt8], userID: UUID) throws -> Data {
        try secrets.seal(Data(secret), owner: userID.uuidString.lowercased())
    }
}
