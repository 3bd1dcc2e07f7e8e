import Foundation
import LatchkeyAPI
import Logging

/// An account brought over from another system with its bcrypt hash (`latchkey users import`).
public struct ImportedAccount: Sendable {
    public var email: String
    public var name: String
    public var passwordHash: String
    public var emailVerified: Bool
    public var role: User.Role

    public init(email: String, name: String, passwordHash: String, emailVerified: Bool = false, role: User.Role = .user) {
        self.email = email
        self.name = name
        self.passwordHash = passwordHash
        self.emailVerified = emailVerified
        self.role = role
    }
}

extension AccountService {
    public enum ImportOutcome: Sendable, Equatable {
        case imported
        /// The email has an account already: importing twice changes nothing.
        case skipped
    }

    /// Stores the account with its hash as it is (no mail is sent). Throws a validation error naming every bad field.
    public func importAccount(_ account: ImportedAccount, logger: Logger) async throws -> ImportOutcome {
        var (email, name, problems) = Self.identity(email: account.email, name: account.name)
        let hash = PasswordHasher.importable(account.passwordHash)
        if hash == nil { problems.append(FieldError(field: "passwordHash", message: "must be a bcrypt hash ($2a$, $2b$ or $2y$) of cost 4 to 16")) }
        guard let email, let hash, problems.isEmpty else { throw AuthError.validation(problems) }
        let user = Self.newUser(email: email, name: name, passwordHash: hash, role: account.role, emailVerified: account.emailVerified, now: Date())
        let audit = AuditEvent(
            .userRegistered,
            by: .commandLine,
            at: user.createdAt,
            userID: user.id,
            details: ["role": .string(user.role.rawValue), "imported": true]
        )
        do {
            try await database.users.insertUser(user, verification: nil, audit: audit)
        } catch let error as AuthError where error.code == .emailAlreadyRegistered {
            return .skipped
        }
        logger.info("imported", metadata: ["event": "user.imported", "user": "\(user.id)"])
        return .imported
    }
}
