import Foundation
import LatchkeyAPI

/// One entry of the append-only audit log. Stores write it in the same transaction as the change it records, so the
/// log never shows a change that did not happen, nor misses one that did. `details` never holds a password, token or
/// hash.
public struct AuditEvent: Sendable, Hashable {
    /// An event type. A struct, not an enum: rows written by a newer version, with a type this one does not know,
    /// still read back as they are.
    public struct Kind: RawRepresentable, Sendable, Hashable {
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public static let userRegistered = Kind(rawValue: "user.registered")
        public static let userEmailVerified = Kind(rawValue: "user.email_verified")
        public static let loginSucceeded = Kind(rawValue: "login.succeeded")
        public static let loginFailed = Kind(rawValue: "login.failed")
        public static let loginThrottled = Kind(rawValue: "login.throttled")
        public static let tokenRefreshed = Kind(rawValue: "token.refreshed")
        public static let tokenReuseDetected = Kind(rawValue: "token.reuse_detected")
        public static let sessionRevoked = Kind(rawValue: "session.revoked")
        public static let logout = Kind(rawValue: "logout")
        public static let logoutAll = Kind(rawValue: "logout_all")
        public static let passwordChanged = Kind(rawValue: "password.changed")
        public static let passwordResetRequested = Kind(rawValue: "password.reset_requested")
        public static let passwordReset = Kind(rawValue: "password.reset")
        public static let userDeleted = Kind(rawValue: "user.deleted")
        public static let userUpdated = Kind(rawValue: "user.updated")
        public static let keyRotated = Kind(rawValue: "key.rotated")
        public static let keyRetired = Kind(rawValue: "key.retired")
        public static let mfaTOTPEnabled = Kind(rawValue: "mfa.totp_enabled")
        public static let mfaTOTPDisabled = Kind(rawValue: "mfa.totp_disabled")
        public static let mfaRecoveryCodesRegenerated = Kind(rawValue: "mfa.recovery_codes_regenerated")
        public static let mfaRecoveryCodeUsed = Kind(rawValue: "mfa.recovery_code_used")
        /// A wrong second-factor code, wherever one is taken.
        public static let mfaChallengeFailed = Kind(rawValue: "mfa.challenge_failed")
        /// An administrator removed an account's TOTP.
        public static let mfaReset = Kind(rawValue: "mfa.reset")
        public static let passkeyAdded = Kind(rawValue: "passkey.added")
        public static let passkeyRemoved = Kind(rawValue: "passkey.removed")
        /// A sign-in whose signature counter did not grow: a copy of the credential may exist.
        public static let passkeyCloneSuspected = Kind(rawValue: "passkey.clone_suspected")

        /// Every type this version writes (the contract's list).
        public static let all: [Kind] = [
            .userRegistered, .userEmailVerified, .loginSucceeded, .loginFailed, .loginThrottled, .tokenRefreshed, .tokenReuseDetected,
            .sessionRevoked, .logout, .logoutAll, .passwordChanged, .passwordResetRequested, .passwordReset, .userDeleted, .userUpdated,
            .keyRotated, .keyRetired, .mfaTOTPEnabled, .mfaTOTPDisabled, .mfaRecoveryCodesRegenerated, .mfaRecoveryCodeUsed,
            .mfaChallengeFailed, .mfaReset, .passkeyAdded, .passkeyRemoved, .passkeyCloneSuspected,
        ]
    }

    public var id: UUID
    public var at: Date
    public var type: Kind
    /// The account the event is about (for an admin's change, the account changed).
    public var userID: UUID?
    public var sessionID: UUID?
    public var ip: String?
    public var userAgent: String?
    public var requestID: String?
    public var details: [String: AuditValue]

    public init(
        id: UUID? = nil,
        at: Date,
        type: Kind,
        userID: UUID? = nil,
        sessionID: UUID? = nil,
        ip: String? = nil,
        userAgent: String? = nil,
        requestID: String? = nil,
        details: [String: AuditValue] = [:]
    ) {
        self.id = id ?? Self.timeOrderedID(at: at)
        self.at = at
        self.type = type
        self.userID = userID
        self.sessionID = sessionID
        self.ip = ip
        self.userAgent = userAgent
        self.requestID = requestID
        self.details = details
    }

    /// An event caused by `client`'s request (or command).
    public init(_ type: Kind, by client: ClientInfo, at: Date, userID: UUID? = nil, sessionID: UUID? = nil, details: [String: AuditValue] = [:]) {
        self.init(
            at: at,
            type: type,
            userID: userID,
            sessionID: sessionID,
            ip: client.ip,
            userAgent: client.userAgent,
            requestID: client.requestID,
            details: client.actorID.map { details.merging(["actorId": .string($0.uuidString.lowercased())]) { _, actor in actor } } ?? details
        )
    }

    /// A UUID of version 7 (RFC 9562): the milliseconds of `date`, then random bits. Events written later get greater
    /// ids, so the id index of the audit table grows at its end instead of at random places (a page read and written
    /// per event, once the table is large).
    static func timeOrderedID(at date: Date) -> UUID {
        // One draw of random bits (`UUID()`), not one per byte: every refresh writes an event.
        var id = UUID().uuid
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        withUnsafeMutableBytes(of: &id) { bytes in
            for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
            bytes[6] = bytes[6] & 0x0F | 0x70
            bytes[8] = bytes[8] & 0x3F | 0x80
        }
        return UUID(uuid: id)
    }

    /// The same event about the session (and its user) that the store found: for changes whose caller knows only a
    /// token.
    public func about(userID: UUID, sessionID: UUID? = nil) -> AuditEvent {
        var event = self
        event.userID = userID
        event.sessionID = sessionID ?? self.sessionID
        return event
    }

    /// `details` as stored: a JSON object.
    public var detailsJSON: String {
        // Most events (every refresh's) have none: no encoder for them.
        if details.isEmpty { return "{}" }
        return String(decoding: (try? Self.encoder.encode(details)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func details(json: String) -> [String: AuditValue] {
        (try? JSONDecoder().decode([String: AuditValue].self, from: Data(json.utf8))) ?? [:]
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
}

/// Which audit events to list (`GET /admin/audit`, `latchkey audit`).
public struct AuditFilter: Sendable, Equatable {
    public var userID: UUID?
    public var type: AuditEvent.Kind?
    public var since: Date?

    public init(userID: UUID? = nil, type: AuditEvent.Kind? = nil, since: Date? = nil) {
        self.userID = userID
        self.type = type
        self.since = since
    }
}
