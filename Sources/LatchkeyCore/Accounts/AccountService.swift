import Foundation
import LatchkeyAPI
import Logging

/// An account to create, as a person typed it. Sign-up makes users with unverified emails; an operator's command
/// may make an admin, or vouch for the address.
public struct NewAccount: Sendable {
    public var email: String
    public var password: String
    public var name: String
    public var role: User.Role
    public var emailVerified: Bool

    public init(email: String, password: String, name: String, role: User.Role = .user, emailVerified: Bool = false) {
        self.email = email
        self.password = password
        self.name = name
        self.role = role
        self.emailVerified = emailVerified
    }
}

/// A created account, with its first session's tokens when no email verification is required.
public struct Registration: Sendable {
    public var user: User
    public var tokens: IssuedTokens?
}

/// Registration and the signed-in user's own account: profile, password, deletion.
public struct AccountService: Sendable {
    let database: any StorageBackend
    let sessions: SessionService
    let hasher: PasswordHasher
    let policy: PasswordPolicy
    let configuration: AccountConfiguration
    let composer: MailComposer
    /// Lifetimes of verification and reset tokens.
    let tokens: TokenConfiguration
    let confirmation: ActionConfirmation

    public init(
        database: any StorageBackend,
        sessions: SessionService,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        configuration: AccountConfiguration,
        composer: MailComposer,
        tokens: TokenConfiguration,
        confirmation: ActionConfirmation
    ) {
        self.confirmation = confirmation
        self.database = database
        self.sessions = sessions
        self.hasher = hasher
        self.policy = policy
        self.configuration = configuration
        self.composer = composer
        self.tokens = tokens
    }

    /// Sign-up: creates the account; returns its first tokens too when verification is not required.
    public func register(_ account: NewAccount, client: ClientInfo, logger: Logger) async throws -> Registration {
        let user = try await createAccount(account, client: client, logger: logger)
        Measured.registrations.increment()
        guard !configuration.requireEmailVerification else { return Registration(user: user, tokens: nil) }
        return Registration(user: user, tokens: try await sessions.startSession(for: user, client: client, recording: nil, now: user.createdAt))
    }

    /// Creates the account, with its verification mail when verification is required and the address is not
    /// vouched for. Throws a validation error naming every bad field, or `emailAlreadyRegistered`.
    public func createAccount(_ account: NewAccount, client: ClientInfo, logger: Logger) async throws -> User {
        var (email, name, problems) = Self.identity(email: account.email, name: account.name)
        problems += policy.problems(with: account.password, field: "password")
        guard let email, problems.isEmpty else { throw AuthError.validation(problems) }

        let now = Date()
        let user = Self.newUser(
            email: email,
            name: name,
            passwordHash: try await hasher.hash(account.password),
            role: account.role,
            emailVerified: account.emailVerified,
            now: now
        )
        let verification = configuration.requireEmailVerification && !user.emailVerified ? try verificationToken(for: user, now: now) : nil
        let audit = AuditEvent(.userRegistered, by: client, at: now, userID: user.id, details: ["role": .string(user.role.rawValue)])
        try await database.users.insertUser(user, verification: verification, audit: audit)
        if verification != nil {
            Measured.mailsQueued.increment()
            // The mail counts against the address's cap (`LATCHKEY_MAIL_PER_RECIPIENT`), so that resends do not add to
            // it. The account exists by now: a failure to count is not the registration's, and is only logged.
            do { _ = try await sessions.limiter.allowsMail(to: user.email) } catch {
                logger.warning("could not count the verification mail against the recipient's cap", metadata: ["error": "\(error)"])
            }
        }
        logger.info(
            verification == nil ? "registered" : "registered; verification mail queued",
            metadata: ["event": "register", "user": "\(user.id)"]
        )
        return user
    }

    /// The account an email names, in any spelling of it; nil when there is none.
    public func account(email: String) async throws -> User? {
        try await database.users.user(email: EmailAddress.lookupForm(email))
    }

    public func updateProfile(_ identity: Identity, name: String, client: ClientInfo) async throws -> User {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines).nfc
        let problems = Self.nameProblems(name)
        guard problems.isEmpty else { throw AuthError.validation(problems) }
        let now = Date()
        let audit = AuditEvent(
            .userUpdated,
            by: client,
            at: now,
            userID: identity.userID,
            sessionID: identity.sessionID,
            details: ["name": .string(name)]
        )
        guard let user = try await database.users.updateName(userID: identity.userID, name: name, now: now, audit: audit) else {
            throw AuthError.tokenInvalid
        }
        return user
    }

    /// Keeps the caller's session and revokes every other one.
    public func changePassword(_ identity: Identity, current: String, new: String, client: ClientInfo, logger: Logger) async throws {
        let user = identity.user
        let problems = policy.problems(with: new, field: "newPassword")
        guard problems.isEmpty else { throw AuthError.validation(problems) }
        guard try await hasher.verify(current, hash: user.passwordHash) else { throw AuthError.invalidCredentials }
        let hash = try await hasher.hash(new)
        let now = Date()
        try await database.users.changePassword(
            userID: user.id,
            passwordHash: hash,
            keepSessionID: identity.sessionID,
            notice: try composer.passwordChanged(to: user, now: now),
            now: now,
            audit: AuditEvent(.passwordChanged, by: client, at: now, userID: user.id, sessionID: identity.sessionID)
        )
        Measured.mailsQueued.increment()
        logger.info("password changed", metadata: ["event": "password.changed", "user": "\(user.id)"])
    }

    /// Soft delete: the row stays (its email stays reserved), every session is revoked.
    public func deleteAccount(_ identity: Identity, _ confirmation: Confirmation, client: ClientInfo, logger: Logger) async throws {
        let user = identity.user
        _ = try await self.confirmation.confirm(identity, confirmation, client: client)
        let now = Date()
        let audit = AuditEvent(.userDeleted, by: client, at: now, userID: user.id, sessionID: identity.sessionID)
        try await database.users.softDelete(userID: user.id, now: now, audit: audit)
        logger.info("account deleted", metadata: ["event": "account.deleted", "user": "\(user.id)"])
    }

    static let invalidEmail = FieldError(field: "email", message: "must be a valid email address")

    /// The stored forms of a new account's email (nil when it is not one) and name, and the problems of both.
    static func identity(email: String, name: String) -> (email: String?, name: String, problems: [FieldError]) {
        let email = EmailAddress.normalized(email)
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines).nfc
        return (email, name, (email == nil ? [invalidEmail] : []) + nameProblems(name))
    }

    static func newUser(email: String, name: String, passwordHash: String, role: User.Role, emailVerified: Bool, now: Date) -> User {
        User(
            id: UUID(),
            email: email,
            passwordHash: passwordHash,
            name: name,
            role: role,
            emailVerified: emailVerified,
            createdAt: now,
            updatedAt: now,
            deletedAt: nil
        )
    }

    /// Names are shown to people: no controls, format characters or line and paragraph separators.
    static func nameProblems(_ name: String) -> [FieldError] {
        if name.isEmpty { return [FieldError(field: "name", message: "must not be empty")] }
        if name.count > 100 { return [FieldError(field: "name", message: "must be at most 100 characters")] }
        if name.unicodeScalars.contains(where: \.isControlOrSeparator) {
            return [FieldError(field: "name", message: "must not contain control, format or line separator characters")]
        }
        return []
    }
}
