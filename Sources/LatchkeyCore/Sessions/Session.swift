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
    /// How it signed in (`AuthenticationMethod`'s values, in the order of use): its tokens' `amr`. A refresh keeps it.
    public var amr: [String]
    /// When it signed in: its tokens' `auth_time`. A refresh keeps it.
    public var authTime: Date

    public init(
        id: UUID,
        userID: UUID,
        createdAt: Date,
        lastUsedAt: Date,
        expiresAt: Date,
        userAgent: String?,
        ip: String?,
        revokedAt: Date?,
        amr: [String],
        authTime: Date
    ) {
        self.amr = amr
        self.authTime = authTime
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
