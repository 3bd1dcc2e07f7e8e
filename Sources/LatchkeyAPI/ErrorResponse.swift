import Foundation

/// The one error body every route returns: `{success: false, error, message, details?}`.
public struct ErrorResponse: Codable, Sendable, Equatable {
    public var success: Bool
    public var error: ErrorCode
    public var message: String
    /// Present only for `VALIDATION_ERROR`.
    public var details: [FieldError]?

    public init(error: ErrorCode, message: String, details: [FieldError]? = nil) {
        self.success = false
        self.error = error
        self.message = message
        self.details = details
    }
}

/// One field that failed validation.
public struct FieldError: Codable, Sendable, Equatable, Error {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// Thrown while decoding a request body when fields are missing or of the wrong type; it names every such field.
public struct FieldErrors: Error, Sendable, Equatable {
    public var errors: [FieldError]

    public init(_ errors: [FieldError]) {
        self.errors = errors
    }
}

/// An error answer as the contract writes it (status, headers and body), for whichever HTTP framework sends it: the
/// server and LatchkeyVerifier render every refusal with it.
public struct ErrorAnswer: Sendable {
    public var status: Int
    /// `Content-Type`, and where they apply `WWW-Authenticate`, `Cache-Control: no-store` (a refused token's answer is
    /// never cached) and `Retry-After`.
    public var headers: [(name: String, value: String)]
    public var body: Data

    /// `message` defaults to the code's; `details` are sent only for `VALIDATION_ERROR`; `challenge` defaults to the
    /// code's (`BearerChallenge(for:message:)`).
    public init(_ code: ErrorCode, message: String? = nil, details: [FieldError] = [], retryAfter: Int? = nil, challenge: BearerChallenge? = nil) {
        let message = message ?? code.message
        status = code.status
        headers = [("Content-Type", "application/json; charset=utf-8")]
        if let challenge = challenge ?? BearerChallenge(for: code, message: message) {
            headers += [("WWW-Authenticate", challenge.headerValue), ("Cache-Control", "no-store")]
        }
        if let retryAfter { headers.append(("Retry-After", String(retryAfter))) }
        let response = ErrorResponse(error: code, message: message, details: code == .validationError ? details : nil)
        body = (try? Self.encoder.encode(response)) ?? Data()
    }

    private static let encoder = WireFormat.makeEncoder()
}
