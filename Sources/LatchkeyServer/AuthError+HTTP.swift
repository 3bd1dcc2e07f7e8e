import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyAPI
import LatchkeyCore
import NIOCore

/// The one place the server's errors become the contract's answer (`ErrorAnswer`, which LatchkeyVerifier renders with too).
extension AuthError {
    var status: HTTPResponse.Status { HTTPResponse.Status(code: code.status) }

    /// Framework errors (unknown route, body too large …) in the contract's terms; anything else is internal.
    init(_ error: any Error) {
        switch error {
        case let error as AuthError:
            self = error
        case let error as HTTPError:
            switch error.status {
            case .notFound: self = AuthError(.notFound, "No such route")
            case .methodNotAllowed: self = AuthError(.methodNotAllowed)
            case .contentTooLarge: self = AuthError(.payloadTooLarge)
            case .unsupportedMediaType: self = AuthError(.unsupportedMediaType)
            case .badRequest: self = AuthError(.invalidJSON, "The request could not be read")
            default: self = AuthError(.internalError)
            }
        case is NIOTooManyBytesError:
            self = AuthError(.payloadTooLarge)
        default:
            self = AuthError(.internalError)
        }
    }

    func response(extraHeaders: HTTPFields = [:]) -> Response {
        let answer = ErrorAnswer(code, message: message, details: details, retryAfter: retryAfter)
        var headers = extraHeaders
        for (name, value) in answer.headers { if let name = HTTPField.Name(name) { headers[name] = value } }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
