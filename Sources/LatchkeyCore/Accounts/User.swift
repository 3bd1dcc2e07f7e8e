import Foundation

/// A stored account. `passwordHash` never leaves Core: the server's wire mapping leaves it out.
public struct User: Sendable, Equatable {
    public enum Role: String, Sendable {
        case user
        case admin
    }

    public var id: UUID
    public var email: String
    public var passwordHash: String
    public var name: String
    public var role: Role
    public var emailVerified: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var deletedAt: Date?
    /// Set by an administrator: a disabled account cannot log in or refresh, and its sessions were revoked.
    public var disabledAt: Date?

    public init(
        id: UUID,
        email: String,
        passwordHash: String,
        name: String,
        role: Role,
        emailVerified: Bool,
        createdAt: Date,
        updatedAt: Date,
        deletedAt: Date?,
        disabledAt: Date? = nil
    ) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.name = name
        self.role = role
        self.emailVerified = emailVerified
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.deletedAt = deletedAt
        self.disabledAt = disabledAt
    }

    /// Accounts that sign in only with a passkey, a provider or email have none (an empty hash).
    public var hasPassword: Bool { !passwordHash.isEmpty }

    /// Neither deleted nor disabled.
    public var isActive: Bool { deletedAt == nil && disabledAt == nil }
}
