import LatchkeyAPI

/// Every failure a client may see. Carries the contract's stable code; the server maps it to a status
/// and body in exactly one place (`AuthError+HTTP.swift`).
public struct AuthError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    public var details: [FieldError]
    /// Whole seconds after which the request may succeed (`Retry-After`).
    public var retryAfter: Int?

    public init(_ code: ErrorCode, _ message: String, details: [FieldError] = [], retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.details = details
        self.retryAfter = retryAfter
    }

    public static func validation(_ details: [FieldError]) -> AuthError {
        AuthError(.validationError, "The request has invalid fields", details: details)
    }

    public static func validation(field: String, _ message: String) -> AuthError {
        validation([FieldError(field: field, message: message)])
    }

    public static func rateLimited(retryAfter: Int) -> AuthError {
        AuthError(.rateLimited, "Too many attempts; try again in \(retryAfter) s", retryAfter: retryAfter)
    }

    public static let emailAlreadyRegistered = AuthError(.emailAlreadyRegistered, "An account with this email already exists")
    public static let invalidCredentials = AuthError(.invalidCredentials, "Email or password is incorrect")
    public static let emailNotVerified = AuthError(.emailNotVerified, "Verify your email address before logging in")
    public static let accountDisabled = AuthError(.accountDisabled, "This account is disabled")
    public static let tokenMissing = AuthError(.tokenMissing, "An access token is required")
    public static let tokenExpired = AuthError(.tokenExpired, "Access token has expired")
    public static let tokenInvalid = AuthError(.tokenInvalid, "Access token is invalid")
    public static let invalidRefreshToken = AuthError(.invalidRefreshToken, "Refresh token is invalid or expired")
    public static let refreshTokenReused = AuthError(
        .refreshTokenReused,
        "Refresh token was already used; the session has been revoked"
    )
    public static let invalidOrExpiredToken = AuthError(.invalidOrExpiredToken, "The link is invalid, used or expired")
    public static let notFound = AuthError(.notFound, "Not found")
    public static let forbidden = AuthError(.forbidden, "Not allowed")
    public static let csrfRejected = AuthError(.csrfRejected, "The request did not come from an allowed page of this site")
    public static let serviceUnavailable = AuthError(.serviceUnavailable, "The database is unavailable", retryAfter: 5)
}
