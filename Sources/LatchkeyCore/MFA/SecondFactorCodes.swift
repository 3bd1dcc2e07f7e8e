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
    /// `admitted` runs once the budget has let the attempt through, before the code is checked.
    func check(
        _ code: SecondFactorCode,
        of user: User,
        factors: SecondFactors,
        client: ClientInfo,
        now: Date,
        admitted: () async throws -> Void = {}
    ) async throws -> AuthenticationMethod {
        try await attempt(code.method, userID: user.id, client: client, now: now) {
            try await admitted()
            switch code {
            case .totp(let typed):
                guard let totp = factors.totp, totp.isOn,
                    let step = TOTPFactor.matchingStep(typed, secret: try secret(of: totp, userID: user.id), now: now, after: totp.lastUsedStep)
                else { return false }
                return try await database.mfa.useTOTPStep(userID: user.id, step: step)
            case .recovery(let typed):
                // Recovery codes stand in for TOTP, so only while it is on (the store checks again as it spends one).
                guard factors.requiresCode, let hash = recoveryCodes.hash(typed) else { return false }
                let used = AuditEvent(.mfaRecoveryCodeUsed, by: client, at: now, userID: user.id)
                return try await database.mfa.useRecoveryCode(userID: user.id, hash: hash, now: now, audit: used)
            }
        }
    }

    /// One try of a code that `accept` checks and spends: throttled, counted and recorded like every other.
    func attempt(
        _ method: AuthenticationMethod,
        userID: UUID,
        client: ClientInfo,
        now: Date,
        _ accept: () async throws -> Bool
    ) async throws -> AuthenticationMethod {
        let name = method == .otp ? "totp" : method.rawValue
        do {
            _ = try await limiter.reserveSecondFactorAttempt(userID: userID, throttle: throttle, now: now)
        } catch let error as AuthError where error.code == .rateLimited {
            Measured.mfaVerifications["\(name) throttled"]?.increment()
            throw error
        }
        guard try await accept() else {
            Measured.mfaVerifications["\(name) failure"]?.increment()
            let failed = AuditEvent(.mfaChallengeFailed, by: client, at: now, userID: userID, details: ["method": .string(method.rawValue)])
            try await database.audit.record([failed])
            throw AuthError.invalidMFACode
        }
        try await limiter.clearSecondFactorFailures(userID: userID)
        Measured.mfaVerifications["\(name) success"]?.increment()
        return method
    }

    func secret(of totp: TOTPRecord, userID: UUID) throws -> [UInt8] {
        Array(try secrets.open(totp.sealedSecret, owner: userID.uuidString.lowercased()))
    }

    func seal(_ secret: [UInt8], userID: UUID) throws -> Data {
        try secrets.seal(Data(secret), owner: userID.uuidString.lowercased())
    }
}
