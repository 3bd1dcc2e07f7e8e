/// The stable error codes of the HTTP contract, each with the status and the message the contract gives it. Clients
/// switch on the code, never on the message; the server and LatchkeyVerifier answer with the status and, unless a
/// refusal says more, the message written here.
public enum ErrorCode: String, Codable, Sendable, CaseIterable {
    case validationError = "VALIDATION_ERROR"
    case invalidJSON = "INVALID_JSON"
    case emailAlreadyRegistered = "EMAIL_ALREADY_REGISTERED"
    case invalidCredentials = "INVALID_CREDENTIALS"
    case emailNotVerified = "EMAIL_NOT_VERIFIED"
    case accountDisabled = "ACCOUNT_DISABLED"
    case tokenMissing = "TOKEN_MISSING"
    case tokenExpired = "TOKEN_EXPIRED"
    case tokenInvalid = "TOKEN_INVALID"
    case invalidRefreshToken = "INVALID_REFRESH_TOKEN"
    case refreshTokenReused = "REFRESH_TOKEN_REUSED"
    case invalidOrExpiredToken = "INVALID_OR_EXPIRED_TOKEN"
    case forbidden = "FORBIDDEN"
    case notFound = "NOT_FOUND"
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    case unsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
    case csrfRejected = "CSRF_REJECTED"
    case rateLimited = "RATE_LIMITED"
    case internalError = "INTERNAL_ERROR"
    case serviceUnavailable = "SERVICE_UNAVAILABLE"
    case invalidMFACode = "INVALID_MFA_CODE"
    case invalidMFAToken = "INVALID_MFA_TOKEN"
    case mfaAlreadyEnabled = "MFA_ALREADY_ENABLED"
    case mfaRequired = "MFA_REQUIRED"
    case reauthenticationRequired = "REAUTHENTICATION_REQUIRED"
    case passkeyInvalid = "PASSKEY_INVALID"
    case passkeyAlreadyRegistered = "PASSKEY_ALREADY_REGISTERED"
    case lastSignInMethod = "LAST_SIGN_IN_METHOD"

    /// The HTTP status of every answer with this code.
    public var status: Int {
        switch self {
        case .validationError, .invalidJSON, .invalidOrExpiredToken, .passkeyInvalid: 400
        case .invalidCredentials, .tokenMissing, .tokenExpired, .tokenInvalid, .invalidRefreshToken, .refreshTokenReused, .invalidMFACode,
            .invalidMFAToken:
            401
        case .emailNotVerified, .accountDisabled, .forbidden, .csrfRejected, .mfaRequired, .reauthenticationRequired: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .emailAlreadyRegistered, .mfaAlreadyEnabled, .passkeyAlreadyRegistered, .lastSignInMethod: 409
        case .payloadTooLarge: 413
        case .unsupportedMediaType: 415
        case .rateLimited: 429
        case .internalError: 500
        case .serviceUnavailable: 503
        }
    }

    /// The message of an answer with this code that has nothing more particular to say.
    public var message: String {
        switch self {
        case .validationError: "The request has invalid fields"
        case .invalidJSON: "The body is not valid JSON"
        case .emailAlreadyRegistered: "An account with this email already exists"
        case .invalidCredentials: "Email or password is incorrect"
        case .emailNotVerified: "Verify your email address before logging in"
        case .accountDisabled: "This account is disabled"
        case .tokenMissing: "An access token is required"
        case .tokenExpired: "Access token has expired"
        case .tokenInvalid: "Access token is invalid"
        case .invalidRefreshToken: "Refresh token is invalid or expired"
        case .refreshTokenReused: "Refresh token was already used; the session has been revoked"
        case .invalidOrExpiredToken: "The link is invalid, used or expired"
        case .forbidden: "Not allowed"
        case .notFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .payloadTooLarge: "The body is too large"
        case .unsupportedMediaType: "The body must be application/json"
        case .csrfRejected: "The request did not come from an allowed page of this site"
        case .rateLimited: "Too many attempts; try again later"
        case .internalError: "Internal error"
        case .serviceUnavailable: "The database is unavailable"
        case .invalidMFACode: "The code is wrong, used or expired"
        case .invalidMFAToken: "The sign-in challenge is unknown, expired or used up; sign in again"
        case .mfaAlreadyEnabled: "TOTP is already on"
        case .mfaRequired: "Sign in with a second factor to use this route"
        case .reauthenticationRequired: "Sign in again, then retry"
        case .passkeyInvalid: "The passkey's response did not pass verification"
        case .passkeyAlreadyRegistered: "This passkey is registered already"
        case .lastSignInMethod: "This is the account's last way to sign in: add another first"
        }
    }
}
