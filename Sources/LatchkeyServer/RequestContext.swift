import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyCore
import NIOCore

/// The context of every request. `identity` is set by `BearerAuthenticator` when a valid token was sent;
/// `clientIP` starts as the TCP peer and `ClientAddressMiddleware` corrects it behind a trusted proxy.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    public var maxUploadSize: Int
    public var clientIP: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientIP = source.channel.remoteAddress?.ipAddress
        maxUploadSize = 64 * 1024
    }

    public var requestDecoder: JSONBodyDecoder { JSONBodyDecoder() }
    public var responseEncoder: JSONEncoder { WireFormat.encoder }

    /// The client's address and user agent, stored with the sessions it opens.
    func client(_ request: Request) -> ClientInfo {
        ClientInfo(userAgent: request.headers[.userAgent], ip: clientIP)
    }
}

/// The context of protected routes: it exists only with a verified identity, so handlers never check.
public struct AuthenticatedContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let identity: Identity
    public var maxUploadSize: Int

    public init(context: AppRequestContext) throws {
        guard let identity = context.identity else { throw AuthError.tokenMissing }
        self.coreContext = context.coreContext
        self.identity = identity
        self.maxUploadSize = context.maxUploadSize
    }

    public var requestDecoder: JSONBodyDecoder { JSONBodyDecoder() }
    public var responseEncoder: JSONEncoder { WireFormat.encoder }
}

/// The context of `/admin` routes: it exists only for an access token of an active account whose role is `admin`
/// (read from the database, so a demotion takes effect at once).
public struct AdminContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let identity: Identity
    public var maxUploadSize: Int

    public init(context: AppRequestContext) throws {
        guard let identity = context.identity else { throw AuthError.tokenMissing }
        guard identity.user.role == .admin else { throw AuthError(.forbidden, "This route is for administrators") }
        self.coreContext = context.coreContext
        self.identity = identity
        self.maxUploadSize = context.maxUploadSize
    }

    public var requestDecoder: JSONBodyDecoder { JSONBodyDecoder() }
    public var responseEncoder: JSONEncoder { WireFormat.encoder }
}

extension WireFormat {
    static let encoder = makeEncoder()
    static let decoder = makeDecoder()
}

/// Decodes JSON bodies into the contract's errors: 415 for another media type, 413 past the size limit,
/// `INVALID_JSON` for a body that does not parse, repeats a member name or is not UTF-8, `VALIDATION_ERROR`
/// naming every bad field.
public struct JSONBodyDecoder: RequestDecoder {
    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        guard let contentType = request.headers[.contentType].flatMap(MediaType.init(from:)),
            contentType.isType(.applicationJson) || contentType.subType.hasSuffix("+json")
        else { throw AuthError(.unsupportedMediaType, "The body must be application/json") }
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard body.withUnsafeReadableBytes({ StrictJSON.isStrict($0) }) else {
            throw AuthError(.invalidJSON, "The body is not valid JSON: a member name appears twice, or it is not UTF-8")
        }
        do {
            return try WireFormat.decoder.decode(T.self, from: body)
        } catch let error as FieldErrors {
            throw AuthError.validation(error.errors)
        } catch {
            throw AuthError(.invalidJSON, "The body is not valid JSON")
        }
    }
}
