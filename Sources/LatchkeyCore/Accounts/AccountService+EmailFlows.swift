import Foundation
import LatchkeyAPI
import Logging

/// Email verification and password reset: single-use tokens whose mails go through the outbox.
extension AccountService {
    /// Resend and forgot-password answer no sooner than this, so the time taken does not tell whether an account exists.
    static let enumerationSafeDuration = Duration.milliseconds(250)

    public func resendVerification(_ request: EmailRequest, logger: Logger) async throws {
        try await takingAtLeast(Self.enumerationSafeDuration) {
            let email = Self.normalizedEmail(request.email)
            guard emailProblems(email).isEmpty, let user = try await database.users.user(email: email), user.isActive, !user.emailVerified
            else { return }
            let (token, mail) = verificationToken(for: user, now: Date())
            try await database.emailTokens.issue(token, mail: mail)
            logger.info("verification mail queued", metadata: ["event": "verification.resent", "user": "\(user.id)"])
        }
    }

    public func verifyEmail(_ request: TokenRequest, logger: Logger) async throws -> User {
        guard let user = try await database.emailTokens.verifyEmail(tokenHash: RandomToken.hash(request.token), now: Date()) else {
            throw AuthError.invalidOrExpiredToken
        }
        logger.info("email verified", metadata: ["event": "email.verified", "user": "\(user.id)"])
        return user
    }

    public func forgotPassword(_ request: EmailRequest, logger: Logger) async throws {
        try await takingAtLeast(Self.enumerationSafeDuration) {
            let email = Self.normalizedEmail(request.email)
            guard emailProblems(email).isEmpty, let user = try await database.users.user(email: email), user.isActive else { return }
            let now = Date()
            let (secret, token) = emailToken(for: user, purpose: .resetPassword, lifetime: tokens.resetTokenTTL, now: now)
            try await database.emailTokens.issue(token, mail: composer.passwordReset(to: user, token: secret, validFor: tokens.resetTokenTTL, now: now))
            logger.info("password reset mail queued", metadata: ["event": "password.reset.requested", "user": "\(user.id)"])
        }
    }

    /// Sets the new password, revokes every session and voids every reset token of the user.
    public func resetPassword(_ request: ResetPasswordRequest, logger: Logger) async throws {
        let problems = policy.problems(with: request.newPassword, field: "newPassword")
        guard problems.isEmpty else { throw AuthError.validation(problems) }
        let hash = RandomToken.hash(request.token)
        let now = Date()
        guard let user = try await database.emailTokens.owner(of: hash, purpose: .resetPassword, now: now) else {
            throw AuthError.invalidOrExpiredToken
        }
        let passwordHash = try await hasher.hash(request.newPassword)
        let notice = composer.passwordChanged(to: user, now: now)
        guard try await database.emailTokens.resetPassword(tokenHash: hash, passwordHash: passwordHash, notice: notice, now: Date()) else {
            throw AuthError.invalidOrExpiredToken
        }
        logger.info("password reset", metadata: ["event": "password.reset", "user": "\(user.id)"])
    }

    func verificationToken(for user: User, now: Date) -> (EmailToken, OutgoingMail) {
        let (secret, token) = emailToken(for: user, purpose: .verifyEmail, lifetime: tokens.verificationTokenTTL, now: now)
        return (token, composer.verification(to: user, token: secret, validFor: tokens.verificationTokenTTL, now: now))
    }

    /// A fresh secret for the mail, and the record that stores only its hash.
    private func emailToken(for user: User, purpose: EmailToken.Purpose, lifetime: Int, now: Date) -> (String, EmailToken) {
        let secret = RandomToken.make()
        let token = EmailToken(
            hash: RandomToken.hash(secret),
            userID: user.id,
            purpose: purpose,
            createdAt: now,
            expiresAt: now.addingTimeInterval(Double(lifetime))
        )
        return (secret, token)
    }

    private func takingAtLeast(_ duration: Duration, _ body: () async throws -> Void) async throws {
        let deadline = ContinuousClock.now + duration
        try await body()
        try await Task.sleep(until: deadline)
    }
}
