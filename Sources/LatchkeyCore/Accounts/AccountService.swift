import Foundation
import LatchkeyAPI
import Logging

/// Registration and the signed-in user's own account: profile, password, deletion.
public struct AccountService: Sendable {
    let database: any Database
    let sessions: SessionService
    let hasher: PasswordHasher
    let policy: PasswordPolicy
    let configuration: AccountConfiguration
    let composer: MailComposer
    /// Lifetimes of verification and reset tokens.
    let tokens: TokenConfiguration

    public init(
        database: any Database,
        sessions: SessionService,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        configuration: AccountConfiguration,
        composer: MailComposer,
        tokens: TokenConfiguration
    ) {
        self.database = database
        self.sessions = sessions
        self.hasher = hasher
        self.policy = policy
        self.configuration = configuration
        self.composer = composer
        self.tokens = tokens
    }

    /// Trimmed and lower-cased: emails compare case-insensitively.
    public static func normalizedEmail(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Creates the account; returns the token pair too when verification is not required.
    public func register(_ request: RegisterRequest, client: ClientInfo, logger: Logger) async throws -> RegisterResponse {
        let email = Self.normalizedEmail(request.email)
        let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        var problems = emailProblems(email) + nameProblems(name)
        problems += policy.problems(with: request.password, field: "password")
        guard problems.isEmpty else { throw AuthError.validation(problems) }

        let now = Date()
        let user = User(
            id: UUID(),
            email: email,
            passwordHash: try await hasher.hash(request.password),
            name: name,
            role: .user,
            emailVerified: false,
            createdAt: now,
            updatedAt: now,
            deletedAt: nil
        )
        if configuration.requireEmailVerification {
            try await database.users.insertUser(user, verification: verificationToken(for: user, now: now))
            logger.info("registered; verification mail queued", metadata: ["event": "register", "user": "\(user.id)"])
            return RegisterResponse(user: user.response, tokens: nil)
        }
        try await database.users.insertUser(user, verification: nil)
        logger.info("registered", metadata: ["event": "register", "user": "\(user.id)"])
        return RegisterResponse(user: user.response, tokens: try await sessions.startSession(for: user, client: client, now: now))
    }

    public func updateProfile(_ identity: Identity, _ request: UpdateProfileRequest) async throws -> User {
        let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let problems = nameProblems(name)
        guard problems.isEmpty else { throw AuthError.validation(problems) }
        guard let user = try await database.users.updateName(userID: identity.userID, name: name, now: Date()) else {
            throw AuthError.tokenInvalid
        }
        return user
    }

    /// Keeps the caller's session and revokes every other one.
    public func changePassword(_ identity: Identity, _ request: ChangePasswordRequest, logger: Logger) async throws {
        let user = identity.user
        let problems = policy.problems(with: request.newPassword, field: "newPassword")
        guard problems.isEmpty else { throw AuthError.validation(problems) }
        guard try await hasher.verify(request.currentPassword, hash: user.passwordHash) else { throw AuthError.invalidCredentials }
        let hash = try await hasher.hash(request.newPassword)
        let now = Date()
        try await database.users.changePassword(
            userID: user.id,
            passwordHash: hash,
            keepSessionID: identity.sessionID,
            notice: composer.passwordChanged(to: user, now: now),
            now: now
        )
        logger.info("password changed", metadata: ["event": "password.changed", "user": "\(user.id)"])
    }

    /// Soft delete: the row stays (its email stays reserved), every session is revoked.
    public func deleteAccount(_ identity: Identity, _ request: DeleteAccountRequest, logger: Logger) async throws {
        let user = identity.user
        guard try await hasher.verify(request.password, hash: user.passwordHash) else { throw AuthError.invalidCredentials }
        try await database.users.softDelete(userID: user.id, now: Date())
        logger.info("account deleted", metadata: ["event": "account.deleted", "user": "\(user.id)"])
    }

    func emailProblems(_ email: String) -> [FieldError] {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        let valid =
            email.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[0].utf8.count <= 64
            && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && !email.unicodeScalars.contains { CharacterSet.whitespacesAndNewlines.union(.controlCharacters).contains($0) }
        return valid ? [] : [FieldError(field: "email", message: "must be a valid email address")]
    }

    private func nameProblems(_ name: String) -> [FieldError] {
        if name.isEmpty { return [FieldError(field: "name", message: "must not be empty")] }
        if name.count > 100 { return [FieldError(field: "name", message: "must be at most 100 characters")] }
        if name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) {
            return [FieldError(field: "name", message: "must not contain control characters")]
        }
        return []
    }
}
