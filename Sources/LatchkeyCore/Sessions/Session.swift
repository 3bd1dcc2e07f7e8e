import Foundation

/// A login: one chain of refresh tokens. Access tokens name it in `sid`.
public struct Session: Sendable, Equatable {
    public var id: UUID
    public var userID: UUID
    public var createdAt: Date
    public var lastUsedAt: Date
    public var expiresAt: Date
    public var userAgent: String?
    public var ip: String?
    public var revokedAt: Date?

    public init(
        id: UUID,
        userID: UUID,
        createdAt: Date,
        lastUsedAt: Date,
        expiresAt: Date,
        userAgent: String?,
        ip: String?,
        revokedAt: Date?
    ) {
        self.id = id
        self.userID = userID
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.userAgent = userAgent
        self.ip = ip
        self.revokedAt = revokedAt
    }

    public func isLive(at now: Date) -> Bool {
        revokedAt == nil && expiresAt > now
    }
}
