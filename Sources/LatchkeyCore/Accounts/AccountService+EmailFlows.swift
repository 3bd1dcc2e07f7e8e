import Foundation
import LatchkeyAPI
import Logging

/// Email verification and password reset: single-use tokens whose mails go through the outbox.
extension AccountService {
    /// Resend and forgot-password answer no sooner than this, so the time taken does not tell whether an account exists.
    static let enumerationSafeDuration = Duration.milliseconds(250)

    public func resendVerification(to email: String, logger: Logger) async throws {
        try await takingAtLeast(Self.enumerationSafeDuration) {
            guard let user = try await database.users.user(email: EmailAddress.lookupForm(email)), user.isActive, !user.emailVerified
            else { return }
            guard try await sessions.limiter.allowsMail(to: user.email) else { return mailCapReached(user, logger: logger) }
            let (token, mail) = try verificationToken(for: user, now: Date())
            try await database.emailTokens.issue(token, mail: mail, audit: nil)
            Measured.mailsQueued.increment()
            logger.info("verification mail queued", metadata: ["event": "verification.resent", "user": "\(user.id)"])
        }
    }

    public func verifyEmail(token: String, client: ClientInfo, logger: Logger) async throws -> User {
        let now = Date()
        let audit = AuditEvent(.userEmailVerified, by: client, at: now)
        guard let user = try await database.emailTokens.verifyEmail(tokenHash: RandomToken.hash(token), now: now, audit: audit) else {
            throw AuthError.invalidOrExpiredToken
        }
        logger.info("email verified", metadata: ["event": "email.verified", "user": "\(user.id)"])
        return user
    }

    public func forgotPassword(email: String, client: ClientInfo, logger: Logger) async throws {
        try await takingAtLeast(Self.enumerationSafeDuration) {
            guard let user = try await database.users.user(email: EmailAddress.lookupForm(email)), user.isActive else { return }
            guard try await sessions.limiter.allowsMail(to: user.email) else { return mailCapReached(user, logger: logger) }
            let now = Date()
            let (secret, token) = emailToken(for: user, purpose: .resetPassword, lifetime: tokens.resetTokenTTL, now: now)
            try await database.emailTokens.issue(
                token,
                mail: try composer.passwordReset(to: user, token: secret, validFor: tokens.resetTokenTTL, now: now),
                audit: AuditEvent(.passwordResetRequested, by: client, at: now, userID: user.id)
            )
            Measured.mailsQueued.increment()
            logger.info("password reset mail queued", metadata: ["event": "password.reset.requested", "user": "\(user.id)"])
        }
    }

    /// Sets the new password, revokes every session and voids every reset token of the user.
    public func resetPassword(token: String, newPassword: String, client: ClientInfo, logger: Logger) async throws {
        let problems = policy.problems(with: newPassword, field: "newPassword")
        guard problems.isEmpty else { throw AuthError.validation(problems) }
        let hash = RandomToken.hash(token)
        let now = Date()
        guard let user = try await database.emailTokens.owner(of: hash, purpose: .resetPassword, now: now) else {
            throw AuthError.invalidOrExpiredToken
        }
        let passwordHash = try await hasher.hash(newPassword)
        let notice = try composer.passwordChanged(to: user, now: now)
        let audit = AuditEvent(.passwordReset, by: client, at: Date())
        guard try await database.emailTokens.resetPassword(tokenHash: hash, passwordHash: passwordHash, notice: notice, now: audit.at, audit: audit)
        else {
            throw AuthError.invalidOrExpiredToken
        }
        Measured.mailsQueued.increment()
        // The owner, back in through the emailed link, is not kept waiting by someone guessing the old password.
        try await sessions.limiter.clearLoginFailures(email: user.email)
        logger.info("password reset", metadata: ["event": "password.reset", "user": "\(user.id)"])
    }

    /// The answer stays the same; only the mail is not sent.
    private func mailCapReached(_ user: User, logger: Logger) {
        logger.notice("mail not sent: the recipient's hourly budget is spent", metadata: ["event": "mail.limited", "user": "\(user.id)"])
    }

    func verificationToken(for user: User, now: Date) throws -> (EmailToken, SealedMail) {
        let (secret, token) = emailToken(for: user, purpose: .verifyEmail, lifetime: tokens.verificationTokenTTL, now: now)
        return (token, try composer.verification(to: user, token: secret, validFor: tokens.verificationTokenTTL, now: now))
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
