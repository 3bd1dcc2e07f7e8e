import LatchkeyAPI

/// Every failure a client may see. Carries the contract's stable code; the server maps it to a status
/// and body in exactly one place (`AuthError+HTTP.swift`).
public struct AuthError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    public var details: [FieldError]
    /// Whole seconds after which the request may succeed (`Retry-After`).
    public var retryAfter: Int?

    /// `message` defaults to the contract's for `code`.
    public init(_ code: ErrorCode, _ message: String? = nil, details: [FieldError] = [], retryAfter: Int? = nil) {
        self.code = code
        self.message = message ?? code.message
        self.details = details
        self.retryAfter = retryAfter
    }

    public static func validation(_ details: [FieldError]) -> AuthError {
        AuthError(.validationError, details: details)
    }

    public static func validation(field: String, _ message: String) -> AuthError {
        validation([FieldError(field: field, message: message)])
    }

    public static func rateLimited(retryAfter: Int) -> AuthError {
        AuthError(.rateLimited, "Too many attempts; try again in \(retryAfter) s", retryAfter: retryAfter)
    }

    public static let emailAlreadyRegistered = AuthError(.emailAlreadyRegistered)
    public static let invalidCredentials = AuthError(.invalidCredentials)
    public static let emailNotVerified = AuthError(.emailNotVerified)
    public static let accountDisabled = AuthError(.accountDisabled)
    public static let tokenMissing = AuthError(.tokenMissing)
    public static let tokenExpired = AuthError(.tokenExpired)
    public static let tokenInvalid = AuthError(.tokenInvalid)
    public static let invalidRefreshToken = AuthError(.invalidRefreshToken)
    public static let refreshTokenReused = AuthError(.refreshTokenReused)
    public static let invalidOrExpiredToken = AuthError(.invalidOrExpiredToken)
    public static let notFound = AuthError(.notFound)
    public static let forbidden = AuthError(.forbidden)
    public static let csrfRejected = AuthError(.csrfRejected)
    public static let serviceUnavailable = AuthError(.serviceUnavailable, retryAfter: 5)
    public static let invalidMFACode = AuthError(.invalidMFACode)
    public static let invalidMFAToken = AuthError(.invalidMFAToken)
    public static let mfaAlreadyEnabled = AuthError(.mfaAlreadyEnabled)
    public static let mfaRequired = AuthError(.mfaRequired)
    public static let reauthenticationRequired = AuthError(.reauthenticationRequired)
    public static let passkeyInvalid = AuthError(.passkeyInvalid)
    public static let passkeyAlreadyRegistered = AuthError(.passkeyAlreadyRegistered)
    public static let lastSignInMethod = AuthError(.lastSignInMethod)
}
