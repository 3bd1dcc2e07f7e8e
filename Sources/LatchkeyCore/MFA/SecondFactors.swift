import Foundation

/// An account's TOTP factor as stored: pending until a first code confirms it.
public struct TOTPRecord: Sendable, Equatable {
    /// The secret sealed under the KEK (`SecretSealer`, the account's id authenticated).
    public var sealedSecret: Data
    public var createdAt: Date
    /// Nil while the enrolment waits for its first code.
    public var confirmedAt: Date?
    /// The last 30-second step whose code was accepted: neither it nor an earlier one is taken again.
    public var lastUsedStep: Int64?

    public init(sealedSecret: Data, createdAt: Date, confirmedAt: Date?, lastUsedStep: Int64?) {
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
        self.confirmedAt = confirmedAt
        self.lastUsedStep = lastUsedStep
    }

    public var isOn: Bool { confirmedAt != nil }
}

/// What second factors an account has.
public struct SecondFactors: Sendable, Equatable {
    public var totp: TOTPRecord?
    public var recoveryCodesRemaining: Int

    public init(totp: TOTPRecord?, recoveryCodesRemaining: Int) {
        self.totp = totp
        self.recoveryCodesRemaining = recoveryCodesRemaining
    }

    /// TOTP is on: every sign-in needs a second step, every sensitive action a code.
    public var requiresCode: Bool { totp?.isOn == true }
}

/// A sign-in waiting for its second factor: only the hash of its `mfaToken` is stored.
public struct MFAChallenge: Sendable, Equatable {
    public var tokenHash: Data
    public var userID: UUID
    /// The first factor's methods.
    public var amr: [String]
    /// Wrong codes so far (reserved before each check); five end it.
    public var failures: Int
    public var createdAt: Date
    public var expiresAt: Date

    public static let lifetime: TimeInterval = 300
    public static let maxFailures = 5

    public init(tokenHash: Data, userID: UUID, amr: [String], failures: Int, createdAt: Date, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.amr = amr
        self.failures = failures
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
