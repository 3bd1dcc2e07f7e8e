import Foundation
import LatchkeyAPI

/// What a sensitive action's body brings to confirm it.
public struct Confirmation: Sendable {
    public var password: String?
    public var code: String?

    public init(password: String?, code: String?) {
        self.password = password
        self.code = code
    }
}

/// The confirmation of sensitive actions (enrolling or removing a factor, new recovery codes, deleting the account…):
/// the password of an account that has one, or else a recent sign-in; and a code on an account with TOTP, so that a
/// stolen session plus a known password cannot add a lasting way in. The checks answer in the contract's order:
/// confirmation, then code.
public struct ActionConfirmation: Sendable {
    let hasher: PasswordHasher
    let limiter: RateLimiter
    let codes: SecondFactorCodes
    /// Seconds.
    let reauthMaxAge: Int

    /// Throws what the first failing check answers; returns the account's second factors as read for the check.
    public func confirm(_ identity: Identity, _ confirmation: Confirmation, client: ClientInfo, now: Date = Date()) async throws -> SecondFactors {
        let user = identity.user
        let factors = try await codes.database.mfa.factors(userID: user.id)
        if user.hasPassword {
            guard let password = confirmation.password else {
                var missing = [FieldError(field: "password", message: "is required")]
                if factors.requiresCode, confirmation.code == nil { missing.append(FieldError(field: "code", message: "is required")) }
                throw AuthError.validation(missing)
            }
            // A wrong password counts as a failed login, and during the account's wait it is not even checked.
            let email = EmailAddress.lookupForm(user.email)
            _ = try await limiter.reserveLogin(email: email, ip: nil, now: now)
            guard try await hasher.verify(password, hash: user.passwordHash) else { throw AuthError.invalidCredentials }
            try await limiter.clearLoginFailures(email: email)
        } else if now.timeIntervalSince(identity.authTime) > Double(reauthMaxAge) {
            throw AuthError.reauthenticationRequired
        }
        guard factors.requiresCode else { return factors }
        guard let code = confirmation.code else { throw AuthError.validation(field: "code", "is required") }
        _ = try await codes.check(SecondFactorCode(either: code), of: user, factors: factors, client: client, now: now)
        return factors
    }
}
