/// `POST /auth/register`
public struct RegisterRequest: Codable, Sendable {
    public var email: String
    public var password: String
    public var name: String

    public init(email: String, password: String, name: String) {
        self.email = email
        self.password = password
        self.name = name
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        email = fields.required(.email)
        password = fields.required(.password)
        name = fields.required(.name)
        try fields.finish()
    }
}

/// `POST /auth/login`
public struct LoginRequest: Codable, Sendable {
    public var email: String
    public var password: String

    public init(email: String, password: String) {
        self.email = email
        self.password = password
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        email = fields.required(.email)
        password = fields.required(.password)
        try fields.finish()
    }
}

/// `POST /auth/refresh`
public struct RefreshRequest: Codable, Sendable {
    public var refreshToken: String

    public init(refreshToken: String) {
        self.refreshToken = refreshToken
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        refreshToken = fields.required(.refreshToken)
        try fields.finish()
    }
}

/// `POST /auth/logout`: the refresh token is optional when a Bearer token is sent.
public struct LogoutRequest: Codable, Sendable {
    public var refreshToken: String?

    public init(refreshToken: String?) {
        self.refreshToken = refreshToken
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        refreshToken = fields.optional(.refreshToken)
        try fields.finish()
    }
}

/// `PATCH /auth/me`
public struct UpdateProfileRequest: Codable, Sendable {
    public var name: String

    public init(name: String) {
        self.name = name
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        name = fields.required(.name)
        try fields.finish()
    }
}

/// The confirmation of a sensitive action (`DELETE /auth/me`, enrolling or removing a factor, new recovery codes): the
/// password of an account that has one, and a current TOTP or unused recovery code on an account with TOTP.
public struct ConfirmationRequest: Codable, Sendable {
    public var password: String?
    public var code: String?

    public init(password: String? = nil, code: String? = nil) {
        self.password = password
        self.code = code
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        password = fields.optional(.password)
        code = fields.optional(.code)
        try fields.finish()
    }
}

/// `DELETE /auth/me`
public typealias DeleteAccountRequest = ConfirmationRequest

/// `POST /auth/mfa/totp/confirm`
public struct MFACodeRequest: Codable, Sendable {
    public var code: String

    public init(code: String) {
        self.code = code
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        code = fields.required(.code)
        try fields.finish()
    }
}

/// `POST /auth/mfa/verify`: the challenge's `mfaToken` (or, for a step-up, a Bearer token instead) and one of `code`
/// (TOTP) or `recoveryCode`.
public struct MFAVerifyRequest: Codable, Sendable {
    public var mfaToken: String?
    public var code: String?
    public var recoveryCode: String?

    public init(mfaToken: String? = nil, code: String? = nil, recoveryCode: String? = nil) {
        self.mfaToken = mfaToken
        self.code = code
        self.recoveryCode = recoveryCode
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        mfaToken = fields.optional(.mfaToken)
        code = fields.optional(.code)
        recoveryCode = fields.optional(.recoveryCode)
        try fields.finish()
    }
}

/// `{}`: the body of `POST /auth/passkeys/login/options`. Any other member is ignored, as everywhere.
public struct EmptyRequest: Codable, Sendable {
    public init() {}

    public init(from decoder: any Decoder) throws {
        try FieldCollector(decoder, keyedBy: CodingKeys.self).finish()
    }

    private enum CodingKeys: CodingKey {}
}

/// `POST /auth/passkeys/register`
public struct PasskeyRegistrationRequest: Codable, Sendable {
    public var credential: RegistrationResponseJSON?
    public var name: String?

    public init(credential: RegistrationResponseJSON, name: String? = nil) {
        self.credential = credential
        self.name = name
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        credential = fields.required(.credential, as: RegistrationResponseJSON.self, typeName: "a RegistrationResponseJSON object")
        name = fields.optional(.name)
        try fields.finish()
    }
}

/// `POST /auth/passkeys/login`
public struct PasskeySignInRequest: Codable, Sendable {
    public var credential: AuthenticationResponseJSON?

    public init(credential: AuthenticationResponseJSON) {
        self.credential = credential
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        credential = fields.required(.credential, as: AuthenticationResponseJSON.self, typeName: "an AuthenticationResponseJSON object")
        try fields.finish()
    }
}

/// `PATCH /auth/passkeys/{id}`
public struct PasskeyRenameRequest: Codable, Sendable {
    public var name: String

    public init(name: String) {
        self.name = name
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        name = fields.required(.name)
        try fields.finish()
    }
}

/// `POST /auth/change-password`
public struct ChangePasswordRequest: Codable, Sendable {
    public var currentPassword: String
    public var newPassword: String

    public init(currentPassword: String, newPassword: String) {
        self.currentPassword = currentPassword
        self.newPassword = newPassword
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        currentPassword = fields.required(.currentPassword)
        newPassword = fields.required(.newPassword)
        try fields.finish()
    }
}

/// `POST /auth/verify-email/resend` and `POST /auth/forgot-password`
public struct EmailRequest: Codable, Sendable {
    public var email: String

    public init(email: String) {
        self.email = email
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        email = fields.required(.email)
        try fields.finish()
    }
}

/// `POST /auth/verify-email`
public struct TokenRequest: Codable, Sendable {
    public var token: String

    public init(token: String) {
        self.token = token
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        token = fields.required(.token)
        try fields.finish()
    }
}

/// `POST /auth/reset-password`
public struct ResetPasswordRequest: Codable, Sendable {
    public var token: String
    public var newPassword: String

    public init(token: String, newPassword: String) {
        self.token = token
        self.newPassword = newPassword
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        token = fields.required(.token)
        newPassword = fields.required(.newPassword)
        try fields.finish()
    }
}

/// `PATCH /admin/users/{id}`: every field optional; absent or null leaves it as it is.
public struct AdminUserUpdateRequest: Codable, Sendable {
    /// `"user"` or `"admin"`.
    public var role: String?
    /// Disabling revokes every session of the account at once.
    public var disabled: Bool?
    public var name: String?
    public var emailVerified: Bool?

    public init(role: String? = nil, disabled: Bool? = nil, name: String? = nil, emailVerified: Bool? = nil) {
        self.role = role
        self.disabled = disabled
        self.name = name
        self.emailVerified = emailVerified
    }

    public init(from decoder: any Decoder) throws {
        var fields = try FieldCollector(decoder, keyedBy: CodingKeys.self)
        role = fields.optional(.role)
        disabled = fields.optionalBool(.disabled)
        name = fields.optional(.name)
        emailVerified = fields.optionalBool(.emailVerified)
        try fields.finish()
    }
}
