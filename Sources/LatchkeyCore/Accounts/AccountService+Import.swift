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
        let email = EmailAddress.normalized(account.email)
        let name = account.name.trimmingCharacters(in: .whitespacesAndNewlines).nfc
        let hash = PasswordHasher.importable(account.passwordHash)
        var problems = (email == nil ? [Self.invalidEmail] : []) + Self.nameProblems(name)
        if hash == nil { problems.append(FieldError(field: "passwordHash", message: "must be a bcrypt hash ($2a$, $2b$ or $2y$) of cost 4 to 16")) }
        guard let email, let hash, problems.isEmpty else { throw AuthError.validation(problems) }
        let now = Date()
        let user = User(
            id: UUID(),
            email: email,
            passwordHash: hash,
            name: name,
            role: account.role,
            emailVerified: account.emailVerified,
            createdAt: now,
            updatedAt: now,
            deletedAt: nil
        )
        do {
            try await database.users.insertUser(user, verification: nil)
        } catch let error as AuthError where error.code == .emailAlreadyRegistered {
            return .skipped
        }
        logger.info("imported", metadata: ["event": "user.imported", "user": "\(user.id)"])
        return .imported
    }
}
