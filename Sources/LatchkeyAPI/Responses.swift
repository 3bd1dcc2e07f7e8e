import Foundation

/// A user as the API shows it. `role` is `"user"` or `"admin"`.
public struct UserResponse: Codable, Sendable, Equatable {
    /// A lower-case UUID, the same as the access token's `sub`.
    public var id: String
    public var email: String
    public var name: String
    public var role: String
    public var emailVerified: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, email: String, name: String, role: String, emailVerified: Bool, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.emailVerified = emailVerified
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Returned by login and refresh; register returns the same with the token fields when verification is off.
public struct TokenPairResponse: Codable, Sendable {
    public var accessToken: String
    /// Absent in cookie mode, where a browser app on an allowed origin gets it in an HttpOnly cookie instead.
    public var refreshToken: String?
    public var tokenType: String
    public var expiresIn: Int
    public var refreshExpiresIn: Int
    public var user: UserResponse
    /// How the session signed in, as the access token's `amr` says (absent from servers before contract v3).
    public var amr: [String]?

    public init(accessToken: String, refreshToken: String?, expiresIn: Int, refreshExpiresIn: Int, user: UserResponse, amr: [String]?) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.tokenType = "Bearer"
        self.expiresIn = expiresIn
        self.refreshExpiresIn = refreshExpiresIn
        self.user = user
        self.amr = amr
    }
}

/// `POST /auth/register`: the user, plus the token pair fields when no verification is required.
public struct RegisterResponse: Codable, Sendable {
    public var user: UserResponse
    public var accessToken: String?
    public var refreshToken: String?
    public var tokenType: String?
    public var expiresIn: Int?
    public var refreshExpiresIn: Int?
    public var amr: [String]?

    public init(user: UserResponse, tokens: TokenPairResponse?) {
        self.user = user
        self.accessToken = tokens?.accessToken
        self.refreshToken = tokens?.refreshToken
        self.tokenType = tokens?.tokenType
        self.expiresIn = tokens?.expiresIn
        self.refreshExpiresIn = tokens?.refreshExpiresIn
        self.amr = tokens?.amr
    }
}

/// One entry of `GET /auth/sessions`.
public struct SessionResponse: Codable, Sendable, Equatable {
    /// A lower-case UUID, the same as the access token's `sid`.
    public var id: String
    public var createdAt: Date
    public var lastUsedAt: Date
    public var expiresAt: Date
    public var userAgent: String?
    public var ip: String?
    /// True for the session the request's access token belongs to.
    public var current: Bool
    /// How the session signed in (absent from servers before contract v3).
    public var amr: [String]?

    public init(id: String, createdAt: Date, lastUsedAt: Date, expiresAt: Date, userAgent: String?, ip: String?, current: Bool, amr: [String]?) {
        self.id = id
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.userAgent = userAgent
        self.ip = ip
        self.current = current
        self.amr = amr
    }
}

/// `GET /auth/sessions`
public struct SessionListResponse: Codable, Sendable {
    public var sessions: [SessionResponse]
    /// Pass as `?cursor=` for the next page; absent on the last one.
    public var nextCursor: String?

    public init(sessions: [SessionResponse], nextCursor: String? = nil) {
        self.sessions = sessions
        self.nextCursor = nextCursor
    }
}

/// `GET /health` and `GET /ready`
public struct StatusResponse: Codable, Sendable {
    public var status: String

    public init(status: String) {
        self.status = status
    }
}

/// `202` answers of resend and forgot-password: the same whether or not the account exists.
public struct MessageResponse: Codable, Sendable {
    public var success: Bool
    public var message: String

    public init(message: String) {
        self.success = true
        self.message = message
    }
}

/// An account as an administrator sees it: the user object plus its state. `deletedAt` and `lastLoginAt` are
/// always present, `null` when unset.
public struct AdminUserResponse: Codable, Sendable, Equatable {
    public var id: String
    public var email: String
    public var name: String
    public var role: String
    public var emailVerified: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var disabled: Bool
    public var deletedAt: Date?
    public var lastLoginAt: Date?
    /// Sessions neither revoked nor expired.
    public var activeSessions: Int
    /// TOTP is on (absent from servers before contract v3, as are the next two).
    public var mfaEnabled: Bool?
    /// How many passkeys the account has.
    public var passkeys: Int?
    /// The providers of the identities linked to the account.
    public var identities: [String]?

    public init(
        user: UserResponse,
        disabled: Bool,
        deletedAt: Date?,
        lastLoginAt: Date?,
        activeSessions: Int,
        mfaEnabled: Bool? = nil,
        passkeys: Int? = nil,
        identities: [String]? = nil
    ) {
        self.mfaEnabled = mfaEnabled
        self.passkeys = passkeys
        self.identities = identities
        self.id = user.id
        self.email = user.email
        self.name = user.name
        self.role = user.role
        self.emailVerified = user.emailVerified
        self.createdAt = user.createdAt
        self.updatedAt = user.updatedAt
        self.disabled = disabled
        self.deletedAt = deletedAt
        self.lastLoginAt = lastLoginAt
        self.activeSessions = activeSessions
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)
        try container.encode(role, forKey: .role)
        try container.encode(emailVerified, forKey: .emailVerified)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(disabled, forKey: .disabled)
        // `encode`, not `encodeIfPresent`: the contract shows these as null rather than leaving them out.
        try container.encode(deletedAt, forKey: .deletedAt)
        try container.encode(lastLoginAt, forKey: .lastLoginAt)
        try container.encode(activeSessions, forKey: .activeSessions)
        try container.encodeIfPresent(mfaEnabled, forKey: .mfaEnabled)
        try container.encodeIfPresent(passkeys, forKey: .passkeys)
        try container.encodeIfPresent(identities, forKey: .identities)
    }
}

/// `GET /admin/users`
public struct AdminUserListResponse: Codable, Sendable {
    public var users: [AdminUserResponse]
    /// Pass as `?cursor=` for the next page; absent on the last one.
    public var nextCursor: String?

    public init(users: [AdminUserResponse], nextCursor: String? = nil) {
        self.users = users
        self.nextCursor = nextCursor
    }
}

/// One entry of the audit log. Every member is always present; those that do not apply are `null`.
public struct AuditEventResponse: Codable, Sendable, Equatable {
    public var id: String
    public var at: Date
    public var type: String
    /// The account the event is about (for an administrator's change, the account changed; `details.actorId` is
    /// the administrator).
    public var userId: String?
    public var sessionId: String?
    public var ip: String?
    public var userAgent: String?
    public var requestId: String?
    /// A small object; never a password, token or hash.
    public var details: [String: AuditValue]

    public init(
        id: String,
        at: Date,
        type: String,
        userId: String?,
        sessionId: String?,
        ip: String?,
        userAgent: String?,
        requestId: String?,
        details: [String: AuditValue]
    ) {
        self.id = id
        self.at = at
        self.type = type
        self.userId = userId
        self.sessionId = sessionId
        self.ip = ip
        self.userAgent = userAgent
        self.requestId = requestId
        self.details = details
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(at, forKey: .at)
        try container.encode(type, forKey: .type)
        try container.encode(userId, forKey: .userId)
        try container.encode(sessionId, forKey: .sessionId)
        try container.encode(ip, forKey: .ip)
        try container.encode(userAgent, forKey: .userAgent)
        try container.encode(requestId, forKey: .requestId)
        try container.encode(details, forKey: .details)
    }
}

/// `GET /admin/audit`
public struct AuditEventListResponse: Codable, Sendable {
    public var events: [AuditEventResponse]
    /// Pass as `?cursor=` for the next page; absent on the last one.
    public var nextCursor: String?

    public init(events: [AuditEventResponse], nextCursor: String? = nil) {
        self.events = events
        self.nextCursor = nextCursor
    }
}

/// `POST /auth/login` (and every other first factor) of an account with TOTP: no session yet; `POST /auth/mfa/verify`
/// with `mfaToken` and a code finishes the sign-in.
public struct MFAChallengeResponse: Codable, Sendable {
    public var mfaRequired: Bool
    public var mfaToken: String
    /// `totp`, `recovery` (while unused codes remain), `passkey`.
    public var methods: [String]
    /// Seconds.
    public var expiresIn: Int

    public init(mfaToken: String, methods: [String], expiresIn: Int) {
        self.mfaRequired = true
        self.mfaToken = mfaToken
        self.methods = methods
        self.expiresIn = expiresIn
    }
}

/// `GET /auth/mfa`
public struct MFAStatusResponse: Codable, Sendable, Equatable {
    public struct TOTP: Codable, Sendable, Equatable {
        /// False while an enrolment waits for its first code.
        public var enabled: Bool
        public var confirmedAt: Date?

        public init(enabled: Bool, confirmedAt: Date?) {
            self.enabled = enabled
            self.confirmedAt = confirmedAt
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(enabled, forKey: .enabled)
            try container.encode(confirmedAt, forKey: .confirmedAt)
        }
    }

    /// Null when the account has no TOTP, not even a pending one.
    public var totp: TOTP?
    public var recoveryCodesRemaining: Int
    /// How many passkeys the account has.
    public var passkeys: Int

    public init(totp: TOTP?, recoveryCodesRemaining: Int, passkeys: Int) {
        self.totp = totp
        self.recoveryCodesRemaining = recoveryCodesRemaining
        self.passkeys = passkeys
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(totp, forKey: .totp)
        try container.encode(recoveryCodesRemaining, forKey: .recoveryCodesRemaining)
        try container.encode(passkeys, forKey: .passkeys)
    }
}

/// `POST /auth/mfa/totp/enroll`: the secret for an authenticator app, typed (`secret`), tapped (`otpauthUri`) or
/// scanned (`qrSvg`, an SVG document of a QR code of `otpauthUri`).
public struct TOTPEnrolmentResponse: Codable, Sendable {
    /// Base32 without padding.
    public var secret: String
    public var otpauthUri: String
    public var qrSvg: String
    public var algorithm: String
    public var digits: Int
    public var period: Int

    public init(secret: String, otpauthUri: String, qrSvg: String) {
        self.secret = secret
        self.otpauthUri = otpauthUri
        self.qrSvg = qrSvg
        self.algorithm = "SHA1"
        self.digits = 6
        self.period = 30
    }
}

/// `POST /auth/mfa/totp/confirm` and `POST /auth/mfa/recovery-codes`: ten single-use codes, shown only here.
public struct RecoveryCodesResponse: Codable, Sendable {
    public var recoveryCodes: [String]

    public init(recoveryCodes: [String]) {
        self.recoveryCodes = recoveryCodes
    }
}
