import Foundation

/// A registered passkey as stored: its credential and what the account's owner sees of it.
public struct Passkey: Sendable, Equatable {
    /// The server's id, shown to clients (never the credential id).
    public var id: UUID
    public var userID: UUID
    public var credentialID: Data
    /// The COSE key as the authenticator encoded it.
    public var publicKey: Data
    public var signCount: Int64
    public var backupEligible: Bool
    public var backedUp: Bool
    /// As the browser reported them (`internal`, `hybrid`, …): given back in `allowCredentials` and `excludeCredentials`.
    public var transports: [String]
    public var aaguid: UUID
    public var name: String
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(
        id: UUID,
        userID: UUID,
        credentialID: Data,
        publicKey: Data,
        signCount: Int64,
        backupEligible: Bool,
        backedUp: Bool,
        transports: [String],
        aaguid: UUID,
        name: String,
        createdAt: Date,
        lastUsedAt: Date?
    ) {
        self.id = id
        self.userID = userID
        self.credentialID = credentialID
        self.publicKey = publicKey
        self.signCount = signCount
        self.backupEligible = backupEligible
        self.backedUp = backedUp
        self.transports = transports
        self.aaguid = aaguid
        self.name = name
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

/// A WebAuthn challenge as stored: its SHA-256, what it is for and whose it is. It lives five minutes and is spent by
/// the first response that names it, good or bad.
public struct PasskeyChallenge: Sendable, Equatable {
    public enum Purpose: String, Sendable {
        case register
        case login
        case secondFactor = "second_factor"
    }

    public var hash: Data
    public var purpose: Purpose
    /// Nil for a discoverable sign-in, where the credential names the account.
    public var userID: UUID?
    public var createdAt: Date
    public var expiresAt: Date

    public static let lifetime: TimeInterval = 300

    public init(hash: Data, purpose: Purpose, userID: UUID?, createdAt: Date, expiresAt: Date) {
        self.hash = hash
        self.purpose = purpose
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// How removing a passkey ended.
public enum PasskeyRemoval: Sendable, Equatable {
    case removed
    /// No passkey of this id belongs to the account.
    case notFound
    /// It is the account's last way in: no password, no other passkey.
    case lastSignInMethod
}
