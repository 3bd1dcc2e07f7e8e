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

/// A code found right, for the store to spend.
public enum SpendableCode: Sendable, Equatable {
    case totpStep(Int64)
    /// `audit` is the `mfa.recovery_code_used` event, recorded with the spending.
    case recoveryCode(hash: String, audit: AuditEvent)
}

/// What `MFAStore.admitSecondStep` found and did.
public enum SecondStepAdmission: Sendable {
    /// A wrong code is reserved on the account's code budget and on the challenge (counted in `failures`).
    case admitted(MFAChallenge, User, SecondFactors)
    /// The account waits after wrong codes; nothing changed.
    case throttled(retryAfter: Int)
    /// The challenge is unknown, used, expired or out of wrong codes; nothing changed.
    case challengeGone
}

/// How `MFAStore.completeSecondStep` ended.
public enum SecondStepCompletion: Sendable, Equatable {
    case completed
    /// The code was spent meanwhile (or its factor is gone): nothing changed.
    case codeRejected
    /// The challenge ended meanwhile: nothing changed.
    case challengeGone
}

/// A session to store with its first refresh token, as `SessionStore.createSession` takes it.
public struct NewSession: Sendable {
    public var session: Session
    public var refreshTokenHash: Data
    public var maxLiveSessions: Int
    public var audit: AuditEvent?

    public init(session: Session, refreshTokenHash: Data, maxLiveSessions: Int, audit: AuditEvent?) {
        self.session = session
        self.refreshTokenHash = refreshTokenHash
        self.maxLiveSessions = maxLiveSessions
        self.audit = audit
    }
}
