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
