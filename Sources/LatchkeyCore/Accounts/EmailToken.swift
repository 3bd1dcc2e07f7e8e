import Foundation

/// A single-use token sent by mail. Only its hash is stored; `purpose` binds it to one flow.
public struct EmailToken: Sendable {
    public enum Purpose: String, Sendable {
        case verifyEmail = "verify_email"
        case resetPassword = "reset_password"
    }

    public var hash: Data
    public var userID: UUID
    public var purpose: Purpose
    public var createdAt: Date
    public var expiresAt: Date

    public init(hash: Data, userID: UUID, purpose: Purpose, createdAt: Date, expiresAt: Date) {
        self.hash = hash
        self.userID = userID
        self.purpose = purpose
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
