import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyCore
import NIOCore

/// The one place errors become a status and the contract's body.
extension AuthError {
    var status: HTTPResponse.Status {
        switch code {
        case .validationError, .invalidJSON, .invalidOrExpiredToken: .badRequest
        case .emailAlreadyRegistered: .conflict
        case .invalidCredentials, .tokenMissing, .tokenExpired, .tokenInvalid, .invalidRefreshToken, .refreshTokenReused: .unauthorized
        case .emailNotVerified, .accountDisabled, .forbidden, .csrfRejected: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .rateLimited: .tooManyRequests
        case .internalError: .internalServerError
        case .serviceUnavailable: .serviceUnavailable
        }
    }

    /// Framework errors (unknown route, body too large …) in the contract's terms; anything else is internal.
    init(_ error: any Error) {
        switch error {
        case let error as AuthError:
            self = error
        case let error as HTTPError:
            switch error.status {
            case .notFound: self = AuthError(.notFound, "No such route")
            case .methodNotAllowed: self = AuthError(.methodNotAllowed, "Method not allowed")
            case .contentTooLarge: self = AuthError(.payloadTooLarge, "The body is too large")
            case .unsupportedMediaType: self = AuthError(.unsupportedMediaType, "The body must be application/json")
            case .badRequest: self = AuthError(.invalidJSON, "The request could not be read")
            default: self = AuthError(.internalError, "Internal error")
            }
        case is NIOTooManyBytesError:
            self = AuthError(.payloadTooLarge, "The body is too large")
        default:
            self = AuthError(.internalError, "Internal error")
        }
    }

    func response(extraHeaders: HTTPFields = [:]) -> Response {
        let body = ErrorResponse(error: code, message: message, details: code == .validationError ? details : nil)
        let data = (try? WireFormat.encoder.encode(body)) ?? Data()
        var headers = extraHeaders
        headers[.contentType] = "application/json; charset=utf-8"
        if status == .unauthorized {
            let tokenWasSent = code == .tokenExpired || code == .tokenInvalid
            headers[.wwwAuthenticate] =
                tokenWasSent ? #"Bearer realm="latchkey", error="invalid_token", error_description="\#(message)""# : #"Bearer realm="latchkey""#
        }
        if status == .unauthorized {
            headers[.cacheControl] = "no-store"
        }
        if code == .forbidden {
            headers[.wwwAuthenticate] = #"Bearer realm="latchkey", error="insufficient_scope""#
        }
        if let retryAfter {
            headers[.retryAfter] = String(retryAfter)
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
